"""docs/architecture.md walks through the code file by file: every file it names
exists, and every ``file.py:name`` it names is defined there (a function, a class,
a method as ``Class.method``, or a module-level name)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "architecture.md"
#: `appliance/x/y.py` or `appliance/x/y.py:name` or `...:Class.method`, in backticks
REFERENCE = re.compile(r"`((?:appliance|agent|airgap|bundle)/[\w/]+\.py)(?::([\w.]+))?`")


def _defined(tree: ast.Module, dotted: str) -> bool:
    scope: list[ast.stmt] = tree.body
    for part in dotted.split("."):
        found = None
        for node in scope:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                if node.name == part:
                    found = node
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if any(isinstance(t, ast.Name) and t.id == part for t in targets):
                    found = node
        if found is None:
            return False
        scope = getattr(found, "body", [])
    return True


def test_the_doc_names_code_that_exists():
    references = REFERENCE.findall(DOC.read_text())
    assert len(references) > 20, "the walks name the files they pass through"
    missing = []
    for path, name in references:
        file = ROOT / path
        if not file.is_file():
            missing.append(f"{path} does not exist")
        elif name and not _defined(ast.parse(file.read_text()), name):
            missing.append(f"{path} defines no {name}")
    assert not missing, "\n".join(missing)
