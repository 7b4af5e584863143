"""A dataset's label schema: its classes (id, name, colour) and keypoint skeletons,
and the presets shipped with the appliance."""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Any

from appliance.domain.labels.document import LabelDocument, LabelError


@dataclass(frozen=True, slots=True)
class LabelClass:
    id: int
    name: str
    colour: str  # "#rrggbb"
    reserved: bool = False  # a slot kept free so later classes keep their ids

    def as_dict(self) -> dict[str, object]:
        return {"id": self.id, "name": self.name, "colour": self.colour, "reserved": self.reserved}


@dataclass(frozen=True, slots=True)
class Skeleton:
    """Keypoint names and the joints drawn between them (pairs of indexes)."""

    keypoints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class LabelSchema:
    classes: tuple[LabelClass, ...]
    skeletons: tuple[tuple[int, Skeleton], ...] = ()  # class id → skeleton

    @property
    def slots(self) -> int:
        """Class ids run 0..slots-1 (YOLO's ``names`` needs every slot)."""
        return max((c.id for c in self.classes), default=-1) + 1

    def names(self) -> list[str]:
        """YOLO ``names``: one per slot, reserved slots included."""
        by_id = {c.id: c.name for c in self.classes}
        return [by_id.get(i, f"reserved_{i}") for i in range(self.slots)]

    def name_of(self, class_id: int) -> str | None:
        """The name of a usable class; None for a reserved slot or no class."""
        for c in self.classes:
            if c.id == class_id and not c.reserved:
                return c.name
        return None

    def check(self, doc: LabelDocument, where: str) -> list[LabelError]:
        """Objects whose class is not a usable class of this schema."""
        usable = {c.id for c in self.classes if not c.reserved}
        return [
            LabelError(f"{where} object {i}", f"class {o.cls} is not a class of this dataset")
            for i, o in enumerate(doc.objects)
            if o.cls not in usable
        ]


def colour_for(index: int) -> str:
    """Distinct, stable colours: hues a golden angle apart."""
    r, g, b = colorsys.hsv_to_rgb((index * 0.618033988749895) % 1.0, 0.65, 0.95)
    return f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"


def schema_from_names(names: list[str]) -> LabelSchema:
    return schema_from_ids(dict(enumerate(names)))


def schema_from_ids(names: dict[int, str]) -> LabelSchema:
    """Classes under the ids a file gave them; gaps stay gaps (no renumbering)."""
    return LabelSchema(tuple(LabelClass(i, names[i], colour_for(i)) for i in sorted(names)))


#: The 17 base classes of the field pipeline this appliance replaces.
WEATHER_BASE = (
    "ArmorVehicle",
    "Truck",
    "Vehicle",
    "Artillery",
    "Shadow",
    "Trenches",
    "MilitaryMan",
    "TyreTracks",
    "AdditArmoredTank",
    "Smoke",
    "Plane",
    "Moto",
    "CamouflageNet",
    "CamouflageBranches",
    "Roof",
    "Building",
    "Caponier",
)
#: Weather modes and their class-id offsets.
WEATHER_MODES = (("Norm", 0), ("Wint", 20), ("Night", 40))
WEATHER_SLOTS = 80


def weather_preset() -> LabelSchema:
    """17 base classes x 3 weather modes at offsets 0/20/40 in 80 class slots:
    51 used, 29 reserved (so ids never move when classes are added)."""
    used = {
        offset + i: f"{base}_{mode}"
        for mode, offset in WEATHER_MODES
        for i, base in enumerate(WEATHER_BASE)
    }
    classes = tuple(
        LabelClass(i, used.get(i, f"reserved_{i}"), colour_for(i % 20), i not in used)
        for i in range(WEATHER_SLOTS)
    )
    return LabelSchema(classes)


PRESETS = {"weather-17x3": weather_preset}


def schema_to_dict(schema: LabelSchema) -> dict[str, object]:
    return {
        "classes": [c.as_dict() for c in schema.classes],
        "skeletons": [
            {"class": cls, "keypoints": list(s.keypoints), "edges": [list(e) for e in s.edges]}
            for cls, s in schema.skeletons
        ],
    }


def schema_from_dict(data: dict[str, object], where: str = "schema") -> LabelSchema:
    raw = data.get("classes")
    if not isinstance(raw, list) or not raw:
        raise LabelError(where, "classes is a non-empty list of {id, name, colour}")
    classes = []
    for i, c in enumerate(raw):
        if not (
            isinstance(c, dict)
            and isinstance(c.get("id"), int)
            and not isinstance(c.get("id"), bool)
            and 0 <= c["id"] < 10_000
            and isinstance(c.get("name"), str)
            and c["name"].strip()
        ):
            raise LabelError(f"{where} classes[{i}]", "a class is {id: 0..9999, name, colour}")
        colour = c.get("colour") or colour_for(c["id"])
        classes.append(LabelClass(c["id"], c["name"], str(colour), bool(c.get("reserved"))))
    ids = [c.id for c in classes]
    if len(set(ids)) != len(ids):
        raise LabelError(where, "class ids repeat")
    skeletons: list[tuple[int, Skeleton]] = []
    raw_skeletons: Any = data.get("skeletons") or []
    for i, s in enumerate(raw_skeletons):
        ok = isinstance(s, dict) and isinstance(s.get("class"), int)
        edges = s.get("edges", []) if ok else []
        ok = ok and all(isinstance(e, list) and len(e) == 2 for e in edges)
        if not ok:
            raise LabelError(f"{where} skeletons[{i}]", "a skeleton is {class, keypoints, edges}")
        pairs = tuple((int(e[0]), int(e[1])) for e in edges)
        skeletons.append((s["class"], Skeleton(tuple(map(str, s.get("keypoints", []))), pairs)))
    return LabelSchema(tuple(sorted(classes, key=lambda c: c.id)), tuple(skeletons))
