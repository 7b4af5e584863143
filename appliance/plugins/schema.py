"""A plugin's hyperparameter schema: checked once when the plugin is discovered,
then used to validate every request (each bad field named) and fill defaults."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from appliance.training.spec import InvalidTrainingSpec


def schema_problems(schema: Mapping[str, Any]) -> list[str]:
    """Why ``schema`` cannot serve as a hyperparameter schema (empty when it can):
    a valid draft 2020-12 schema of an object whose defaults pass it."""
    if not isinstance(schema, Mapping):
        return ["the hyperparameter schema is not a JSON object"]
    try:
        Draft202012Validator.check_schema(dict(schema))
    except SchemaError as e:
        where = "/".join(str(p) for p in e.path) or "(root)"
        return [f"the hyperparameter schema is not a valid JSON Schema at {where}: {e.message}"]
    if schema.get("type") != "object":
        return ['the hyperparameter schema must describe an object ("type": "object")']
    properties = schema.get("properties", {})
    problems = hyperparameter_problems(schema, defaults(schema))
    return [f"its default {name}: {why}" for name, why in problems] + [
        f"property {name!r} has no type" for name, p in properties.items() if "type" not in p
    ]


def defaults(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Every property's ``default``, where it has one."""
    props = schema.get("properties", {})
    return {name: p["default"] for name, p in props.items() if "default" in p}


def hyperparameter_problems(
    schema: Mapping[str, Any], given: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """Every way ``given`` breaks ``schema``, as (field, message)."""
    validator = Draft202012Validator(dict(schema))
    known = set(schema.get("properties", {}))
    problems: list[tuple[str, str]] = []
    for error in sorted(validator.iter_errors(dict(given)), key=lambda e: list(e.path)):
        if error.validator == "additionalProperties":
            problems += [(name, "is not a hyperparameter") for name in sorted(set(given) - known)]
        elif error.path:
            problems.append((".".join(str(p) for p in error.path), error.message))
        else:
            problems.append(("hyperparameters", error.message))
    return problems


def validate_hyperparameters(schema: Mapping[str, Any], given: Any) -> dict[str, Any]:
    """``given`` over the schema's defaults; raises :class:`InvalidTrainingSpec`
    naming each bad field."""
    if not isinstance(given, Mapping):
        raise InvalidTrainingSpec([("hyperparameters", "must be a JSON object")])
    problems = hyperparameter_problems(schema, given)
    if problems:
        raise InvalidTrainingSpec(problems)
    return {**defaults(schema), **given}
