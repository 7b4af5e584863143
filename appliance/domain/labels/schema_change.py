"""A dataset's label schema changing under labels that already exist.

A label object stores a class id; the schema gives the id its name. Replacing the
schema re-reads every stored id under the new names, so a change is only safe
while every id that labels use keeps its name. Otherwise it is refused, naming
each class whose labels would change meaning, unless the caller maps each such
id: old id → new id (the objects are reclassed) or → drop (they are removed).

An import brings the classes its file names. ``import_schema`` lays them over
the dataset's schema (the file's names win on an id they share); it leaves the
schema alone when it already holds every class the file names.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from appliance.domain.labels.document import LabelDocument, LabelError
from appliance.domain.labels.schema import LabelClass, LabelSchema

#: old class id → new class id, or None: drop that class's objects.
ClassMap = Mapping[int, int | None]
DROP = "drop"


@dataclass(frozen=True, slots=True)
class Affected:
    """A class that labels use and whose meaning the new schema would change."""

    id: int
    name: str | None  # its name now (None: the current schema has no such class)
    objects: int  # how many label objects use it
    becomes: str | None  # what the new schema calls this id (None: no usable class)
    suggest: int | None  # the new schema's id for the same name, if it has one

    def describe(self) -> str:
        now = f"class {self.id} {self.name!r}" if self.name else f"class {self.id}"
        after = f"would read as {self.becomes!r}" if self.becomes else "would be no class"
        return f"{now} ({self.objects} objects) {after}"

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "objects": self.objects,
            "becomes": self.becomes,
            "suggest": self.suggest,
        }


def class_usage(docs: Iterable[LabelDocument]) -> Counter[int]:
    """How many objects use each class id."""
    return Counter(o.cls for d in docs for o in d.objects)


def may_change_meaning(old: LabelSchema | None, new: LabelSchema) -> bool:
    """Whether any existing label could read differently under ``new``: false when
    there is no schema yet, or every usable class keeps its id and name."""
    if old is None:
        return False
    return any(new.name_of(c.id) != c.name for c in old.classes if not c.reserved)


def affected_classes(
    old: LabelSchema | None, new: LabelSchema, used: Mapping[int, int], mapping: ClassMap
) -> list[Affected]:
    """The used classes the change would silently re-mean (those ``mapping`` does
    not cover), in id order. Nothing is affected while there is no schema yet."""
    if old is None:
        return []
    by_name = {c.name: c.id for c in new.classes if not c.reserved}
    out = []
    for cls in sorted(used):
        before, after = old.name_of(cls), new.name_of(cls)
        if cls in mapping or before == after or used[cls] == 0:
            continue
        suggest = by_name.get(before) if before is not None else None
        out.append(Affected(cls, before, used[cls], after, suggest))
    return out


def suggested_mapping(affected: Iterable[Affected]) -> list[str]:
    """``--map`` values that keep each affected class's name where the new schema
    has it, ``drop`` elsewhere (to be confirmed by the user, never applied alone)."""
    return [f"{a.id}={DROP if a.suggest is None else a.suggest}" for a in affected]


def mapping_problems(
    old: LabelSchema | None, new: LabelSchema, used: Mapping[int, int], mapping: ClassMap
) -> list[str]:
    """What is wrong with a mapping: a source no label or class has, a target that
    is not a usable class of the new schema."""
    problems = []
    known = set(used) | ({c.id for c in old.classes} if old else set())
    for src, dst in sorted(mapping.items()):
        if src not in known:
            problems.append(f"map {src}=…: no label uses class {src} and the schema has none")
        if dst is not None and new.name_of(dst) is None:
            problems.append(f"map {src}={dst}: {dst} is not a class of the new schema")
    return problems


def remap(doc: LabelDocument, mapping: ClassMap) -> LabelDocument:
    """The document with each mapped object reclassed or dropped (the same
    document when nothing in it is mapped)."""
    if not any(o.cls in mapping for o in doc.objects):
        return doc
    objects = []
    for o in doc.objects:
        if o.cls not in mapping:
            objects.append(o)
        elif (to := mapping[o.cls]) is not None:
            objects.append(replace(o, cls=to))
    return replace(doc, objects=tuple(objects))


def read_mapping(raw: Mapping[str, object] | Mapping[int, object]) -> dict[int, int | None]:
    """``{"3": 5, "7": "drop"}`` (the API's form; ``None`` is drop too) → ids."""
    out: dict[int, int | None] = {}
    for key, value in raw.items():
        src = _id(key, f"mapping key {key!r}")
        if value is None or value == DROP:
            out[src] = None
        else:
            out[src] = _id(value, f"mapping {key}={value!r}")
    return out


def parse_map_option(text: str) -> tuple[int, int | None]:
    """``3=5`` or ``7=drop`` (the CLI's ``--map``)."""
    src, sep, dst = text.partition("=")
    if not sep:
        raise LabelError(f"--map {text}", "write OLD=NEW or OLD=drop, e.g. --map 3=5")
    old = _id(src.strip(), f"--map {text}")
    return old, None if dst.strip() == DROP else _id(dst.strip(), f"--map {text}")


def _id(value: object, where: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise LabelError(where, "a class id is an integer >= 0 (or 'drop' as the new id)")
    return value


def import_schema(existing: LabelSchema | None, incoming: LabelSchema) -> LabelSchema | None:
    """The schema an import asks for: None when ``existing`` already has every class
    ``incoming`` names (same id, same name), else ``existing`` with ``incoming``'s
    classes laid over it (that is a change, checked like any other)."""
    if existing is None:
        return incoming
    if all(existing.name_of(c.id) == c.name for c in incoming.classes if not c.reserved):
        return None
    taken = {c.id for c in incoming.classes}
    kept: list[LabelClass] = [c for c in existing.classes if c.id not in taken]
    classes = tuple(sorted((*kept, *incoming.classes), key=lambda c: c.id))
    skeletons = tuple((cls, s) for cls, s in existing.skeletons if cls not in taken)
    return LabelSchema(classes, skeletons + incoming.skeletons)


def same_classes(a: LabelSchema, b: LabelSchema) -> bool:
    """The same usable classes under the same ids (colours aside)."""
    return {(c.id, c.name) for c in a.classes if not c.reserved} == {
        (c.id, c.name) for c in b.classes if not c.reserved
    }
