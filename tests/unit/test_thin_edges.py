"""Web edges parse, authorise, call a service and shape the answer: none of them
opens a catalog transaction or reads the blob store itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

WEB = Path(__file__).resolve().parents[2] / "appliance" / "web"
#: The stores a service reaches through its context.
STORES = {"catalog", "blobs"}


def _store_uses(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    return [
        f"{path.relative_to(WEB)}:{node.lineno} uses .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in STORES
    ]


def test_web_reaches_the_stores_only_through_services():
    found = [use for path in sorted(WEB.rglob("*.py")) for use in _store_uses(path)]
    assert not found, "\n".join(found)
