"""`ahoy pipeline schema` and `ahoy pipeline validate FILE`, the real command in a
subprocess (no server: the file is checked on this machine)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.unit.test_pipeline_validate import EXAMPLE

pytestmark = pytest.mark.e2e

AHOY = Path(sys.executable).parent / "ahoy"


def ahoy(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(AHOY), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_schema_prints_the_published_json_schema(tmp_path: Path):
    result = ahoy("pipeline", "schema", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(schema["required"]) == {"model", "sources", "sinks"}


def test_a_valid_file_gets_one_line_and_exit_0(tmp_path: Path):
    (tmp_path / "pipeline.yaml").write_text(EXAMPLE)
    result = ahoy("pipeline", "validate", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "pipeline.yaml: valid; model shapes@production, 1 source, 1 zone, 2 sinks\n"
    )


def test_an_invalid_file_gets_every_error_and_exit_2(tmp_path: Path):
    text = EXAMPLE.replace("- video:", "- vidoe:").replace("[[100,400],[900,400]]", "[[1,1]]")
    (tmp_path / "pipeline.yaml").write_text(text)
    result = ahoy("pipeline", "validate", "pipeline.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[0] == "pipeline.yaml:3: sources[0].vidoe: unknown key; did you mean 'video'?"
    assert lines[1].startswith("pipeline.yaml:6: zones[0].line: needs at least 2 items, got 1")
    assert len(lines) == 2

    as_json = json.loads(
        ahoy("pipeline", "validate", "pipeline.yaml", "--json", cwd=tmp_path).stdout
    )
    assert as_json["valid"] is False
    assert as_json["errors"][0] == {
        "line": 3,
        "path": "sources[0].vidoe",
        "message": "unknown key; did you mean 'video'?",
    }


def test_a_missing_file_is_named(tmp_path: Path):
    result = ahoy("pipeline", "validate", "nope.yaml", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("nope.yaml: cannot be read:")
