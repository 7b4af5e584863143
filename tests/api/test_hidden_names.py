"""Names that do not show as they are (U+200B zero width space, U+202E right-to-left
override, U+FEFF byte order mark, ...) are refused wherever a name is given: 422
``invalid-name`` naming the character, and nothing is made under that name.

Tags and token names took them before; the others refused them with a message
that did not say which character was wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest

from tests.api.conftest import PASSWORD, World
from tests.api.problems import A, assert_problem

pytestmark = pytest.mark.api

DS = A + "/datasets/named"
HIDDEN = {"zwsp": "\u200b", "rlo": "\u202e", "bom": "\ufeff"}


@pytest.fixture(scope="module")
def named(world: World) -> None:
    """A dataset in ws-a with one version, so a tag could be set."""
    world.alice.ok("POST", A + "/datasets", 201, json={"name": "named"})
    world.alice.ok("POST", DS + "/versions", 201, json={"allow_empty": True})


Listed = Callable[[World], Any]
MODEL = {"name": "m{n}", "task": "detect", "weights_sha256": "0" * 64}
USER = {"username": "u{n}", "password": PASSWORD}
GOLD = "/v1/workspaces/ws-b/models/gold"


def _tokens(w: World) -> Any:
    return [t["name"] for t in w.alice.ok("GET", "/v1/tokens")]


def _models(w: World) -> Any:
    return w.alice.ok("GET", A + "/models")["items"]


def _model_tags(w: World) -> Any:
    return [m["tags"] for m in w.bob.ok("GET", "/v1/workspaces/ws-b/models")["items"]]


def _datasets(w: World) -> Any:
    return [d["name"] for d in w.alice.ok("GET", A + "/datasets")["items"]]


def _workspaces(w: World) -> Any:
    return [x["id"] for x in w.admin.ok("GET", "/v1/workspaces")]


def _users(w: World) -> Any:
    return [u["username"] for u in w.admin.ok("GET", "/v1/users")]


def _tags(w: World) -> Any:
    return w.alice.ok("GET", DS + "/tags")


EVENTS = DS + "/annotation-events?stream=s{q}"

# fmt: off
#   kind          who      method  path ({q}: the name) body ({n}: the name)  lists them
CASES: list[tuple[str, str, str, str, dict[str, Any] | None, Listed]] = [
    ("tag",       "alice", "PUT",  DS + "/tags/{q}",    {"version": "1"},     _tags),
    ("token",     "alice", "POST", "/v1/tokens",        {"name": "ci{n}"},    _tokens),
    ("model",     "alice", "POST", A + "/models",       MODEL,                _models),
    ("model tag", "bob",   "PUT",  GOLD + "/tags/{q}",  {"version": "1"},     _model_tags),
    ("dataset",   "alice", "POST", A + "/datasets",     {"name": "d{n}"},     _datasets),
    ("workspace", "admin", "POST", "/v1/workspaces",    {"id": "w{n}"},       _workspaces),
    ("user",      "admin", "POST", "/v1/users",         USER,                 _users),
    ("stream",    "alice", "POST", EVENTS,              {"events": []},       lambda w: None),
]
# fmt: on


def _fill(value: Any, char: str) -> Any:
    if isinstance(value, str):
        return value.replace("{n}", char)
    if isinstance(value, dict):
        return {k: _fill(v, char) for k, v in value.items()}
    return value


@pytest.mark.parametrize("char", list(HIDDEN.values()), ids=list(HIDDEN))
@pytest.mark.parametrize(
    ("kind", "who", "method", "path", "body", "listed"), [pytest.param(*c, id=c[0]) for c in CASES]
)
def test_a_name_with_a_hidden_character_is_refused_naming_it(
    world: World,
    named: None,
    kind: str,
    who: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    listed: Listed,
    char: str,
):
    before = listed(world)
    url = path.replace("{q}", quote("gold" + char))
    r = getattr(world, who).call(method, url, json=_fill(body, char))
    problem = assert_problem(r, 422, "invalid-name")
    assert problem["detail"].startswith(f"{kind} name "), problem
    assert f"U+{ord(char):04X}" in problem["detail"] and problem["hint"], problem
    assert listed(world) == before, f"a {kind} was made anyway"


def test_names_that_show_as_they_are_still_work(world: World, named: None):
    """Letters beyond ASCII are not hidden characters."""
    world.alice.ok("PUT", DS + "/tags/" + quote("été"), json={"version": "1"})
    made = world.alice.ok("POST", "/v1/tokens", 201, json={"name": "ordinateur de café"})
    assert made["name"] == "ordinateur de café"
