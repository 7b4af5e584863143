"""Validate a pipeline file: every error names its line, its key path and the fix.

The YAML is composed to nodes first (they carry line marks), so an error found in
the parsed data can point back at the line that wrote it:

    pipeline.yaml:4: sources[0].vidoe: unknown key; did you mean 'video'?

Checks: YAML syntax, duplicate keys (which a YAML loader silently overwrites),
the JSON Schema (:mod:`ahoy_agent.runtime.pipeline_schema`), then what a schema
cannot say (zone and source names unique).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator, ValidationError

from ahoy_agent.runtime.pipeline_schema import PIPELINE_SCHEMA

Key = str | int  # a path step: a mapping key or a list index


@dataclass(frozen=True, slots=True)
class PipelineError:
    line: int  # 1-based
    path: tuple[Key, ...]
    message: str

    def render(self, file: str) -> str:
        return f"{file}:{self.line}: {dotted(self.path)}: {self.message}"


@dataclass(frozen=True, slots=True)
class Validated:
    """The parsed pipeline (None when it could not be parsed) and every error found."""

    pipeline: dict[str, Any] | None
    errors: list[PipelineError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def dotted(path: tuple[Key, ...]) -> str:
    """``("sources", 0, "video")`` → ``sources[0].video``; the empty path is the file."""
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text or "(file)"


@dataclass(slots=True)
class _Lines:
    """Where each value and each mapping key starts, by key path (1-based lines)."""

    values: dict[tuple[Key, ...], int] = field(default_factory=dict)
    keys: dict[tuple[Key, ...], int] = field(default_factory=dict)

    def of_value(self, path: tuple[Key, ...]) -> int:
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, 1)

    def of_key(self, path: tuple[Key, ...]) -> int:
        return self.keys.get(path) or self.of_value(path)


def validate_file(path: str | Path) -> Validated:
    return validate_text(Path(path).read_text(encoding="utf-8"))


def validate_text(text: str) -> Validated:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        return Validated(None, [PipelineError(line, (), f"not valid YAML: {e.problem}")])
    finally:
        loader.dispose()
    if node is None:
        return Validated(
            None, [PipelineError(1, (), "empty; a pipeline needs model, sources and sinks")]
        )
    lines = _Lines()
    errors = list(_walk(node, (), lines))
    if not isinstance(data, dict):
        errors.append(PipelineError(1, (), "must be a mapping of keys (model:, sources:, …)"))
        return Validated(None, errors)
    errors += _schema_errors(data, lines)
    errors += _duplicate_names(data, lines, "zones")
    errors += _duplicate_names(data, lines, "sources")
    return Validated(data, sorted(errors, key=lambda e: e.line))


def _walk(node: yaml.Node, path: tuple[Key, ...], lines: _Lines) -> Iterator[PipelineError]:
    lines.values[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            if key_node.tag == "tag:yaml.org,2002:merge":  # <<: *anchor, flattened by the loader
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                yield PipelineError(
                    key_node.start_mark.line + 1,
                    path,
                    f"key {key!r} is not text to YAML (it reads as true/false, a number or a "
                    "collection); quote it or use a key the schema names",
                )
                continue
            if key in seen:
                yield PipelineError(
                    key_node.start_mark.line + 1,
                    (*path, key),
                    "duplicate key; the later one would silently win, keep one",
                )
            seen.add(key)
            lines.keys[(*path, key)] = key_node.start_mark.line + 1
            yield from _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _walk(item, (*path, i), lines)


def _schema_errors(data: dict[str, Any], lines: _Lines) -> list[PipelineError]:
    raw = list(Draft202012Validator(PIPELINE_SCHEMA).iter_errors(data))
    # a misspelt key is one error: "did you mean 'video'?", not also "video is missing"
    meant: dict[tuple[Key, ...], set[str]] = {}
    for e in raw:
        if e.validator == "additionalProperties":
            known = list(e.schema.get("properties", {}))
            close = (
                _closest(k, known) for k in e.instance if isinstance(k, str) and k not in known
            )
            meant.setdefault(tuple(e.absolute_path), set()).update(c for c in close if c)
    errors: list[PipelineError] = []
    for e in raw:
        path: tuple[Key, ...] = tuple(e.absolute_path)
        errors += _explain(e, path, lines, meant.get(path, set()))
    return errors


def _explain(
    e: ValidationError, path: tuple[Key, ...], lines: _Lines, meant: set[str]
) -> list[PipelineError]:
    schema: dict[str, Any] = e.schema if isinstance(e.schema, dict) else {}
    hint = schema.get("description")
    if e.validator == "additionalProperties":
        known = list(schema.get("properties", {}))
        return [
            PipelineError(lines.of_key((*path, key)), (*path, key), _unknown(key, known))
            for key in e.instance
            if isinstance(key, str) and key not in known  # other keys: reported by _walk
        ]
    if e.validator == "required":
        props = schema.get("properties", {})
        return [
            PipelineError(
                lines.of_value(path),
                (*path, key),
                f"missing; {props.get(key, {}).get('description', 'add it')}",
            )
            for key in e.validator_value
            if key not in e.instance and key not in meant
        ]
    if e.validator == "oneOf" and all("required" in s for s in e.validator_value):
        kinds = [s["required"][0] for s in e.validator_value]
        return [] if meant & set(kinds) else [PipelineError(lines.of_value(path), path, _kinds(e))]
    message = _MESSAGES.get(str(e.validator), lambda e: e.message)(e)
    if hint:
        message += f" ({hint})"
    return [PipelineError(lines.of_value(path), path, message)]


def _closest(word: str, options: list[str]) -> str | None:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown(key: str, known: list[str]) -> str:
    close = _closest(key, known)
    if close:
        return f"unknown key; did you mean {close!r}?"
    return f"unknown key; expected one of: {', '.join(known)}"


def _kinds(e: ValidationError) -> str:
    """An object that must have exactly one kind key (a source, a sink, a zone, a stage)."""
    kinds = [s["required"][0] for s in e.validator_value]
    found = [k for k in kinds if isinstance(e.instance, dict) and k in e.instance]
    if found:
        return f"has {' and '.join(found)}; give exactly one of {', '.join(kinds)}"
    return f"needs one of {', '.join(kinds)}"


_TYPES = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping of keys",
}


def _shown(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return repr(value)


def _type(e: ValidationError) -> str:
    wanted = e.validator_value if isinstance(e.validator_value, list) else [e.validator_value]
    words = " or ".join(_TYPES.get(str(t), str(t)) for t in wanted)
    return f"expected {words}, got {_shown(e.instance)}"


def _enum(e: ValidationError) -> str:
    options = list(e.validator_value)
    text = f"{_shown(e.instance)} is not one of {', '.join(map(_yaml_word, options))}"
    words = [o for o in options if isinstance(o, str)]
    close = _closest(str(e.instance), words)
    return text + (f"; did you mean {close!r}?" if close else "")


def _items(n: int) -> str:
    return f"{n} item{'' if n == 1 else 's'}"


def _yaml_word(value: Any) -> str:
    return "false" if value is False else ("true" if value is True else str(value))


_MESSAGES: dict[str, Any] = {
    "type": _type,
    "enum": _enum,
    "minItems": lambda e: f"needs at least {_items(e.validator_value)}, got {len(e.instance)}",
    "maxItems": lambda e: f"takes at most {_items(e.validator_value)}, got {len(e.instance)}",
    "minimum": lambda e: f"must be ≥ {e.validator_value}, got {e.instance}",
    "maximum": lambda e: f"must be ≤ {e.validator_value}, got {e.instance}",
    "minLength": lambda e: "must not be empty",
    "minProperties": lambda e: "must not be empty",
    "pattern": lambda e: f"{e.instance!r} is not the right form",
    "oneOf": lambda e: f"{_shown(e.instance)} is not the right form",
}


def _duplicate_names(data: dict[str, Any], lines: _Lines, section: str) -> list[PipelineError]:
    items = data.get(section)
    if not isinstance(items, list):
        return []
    first: dict[str, int] = {}
    errors = []
    for i, item in enumerate(items):
        name = item.get("name") if isinstance(item, dict) else None
        if not isinstance(name, str):
            continue
        if name in first:
            errors.append(
                PipelineError(
                    lines.of_value((section, i, "name")),
                    (section, i, "name"),
                    f"{name!r} is already the name of {section}[{first[name]}]; names are unique",
                )
            )
        first.setdefault(name, i)
    return errors


def summary(pipeline: dict[str, Any]) -> str:
    """One line for a valid pipeline: its model and how many of each part."""

    def count(section: str, noun: str) -> str:
        n = len(pipeline.get(section) or [])
        return f"{n} {noun}{'' if n == 1 else 's'}"

    parts = [count("sources", "source"), count("zones", "zone"), count("sinks", "sink")]
    if pipeline.get("stages"):
        parts.insert(1, count("stages", "stage"))
    return f"model {pipeline['model']}, " + ", ".join(parts)
