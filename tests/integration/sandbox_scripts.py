"""Pieces of the scripts the sandbox tests run (tests/integration, tests/e2e)."""

from __future__ import annotations

#: the start of every hostile script: ``report(**found)`` writes /out/report.json,
#: ``attempt(fn)`` is ``"ok: <result>"`` or the name of the exception it raised
PRELUDE = """
import json, os, sys
def report(**found):
    with open("/out/report.json", "w") as fh:
        json.dump(found, fh)
def attempt(fn):
    try:
        return "ok: " + repr(fn())[:200]
    except BaseException as exc:
        return type(exc).__name__
"""
