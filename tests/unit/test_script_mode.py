"""Script mode's rules, without a sandbox: parameters, requirements, the output
contract, which printed events count, and the limits' arithmetic."""

from __future__ import annotations

import json
import os
from importlib import metadata
from pathlib import Path

import pytest

from appliance.errors import InvalidInput
from appliance.jobs import script_contract as contract
from appliance.jobs import train_script
from appliance.sandbox import bwrap, requirements
from appliance.sandbox import run as sandbox

pytestmark = pytest.mark.unit

SHA = "a" * 64
NUMPY = metadata.version("numpy")


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"script": SHA}, "dataset (the dataset's name) is required"),
        ({"dataset": "d"}, "script must be the sha256"),
        ({"dataset": "d", "script": "train.py"}, "script must be the sha256"),
        ({"dataset": "d", "script": SHA, "requirements": "x"}, "requirements must be the sha256"),
        ({"dataset": "d", "script": SHA, "task": "paint"}, "task must be one of"),
        ({"dataset": "d", "script": SHA, "cpu_cores": 0}, "cpu_cores must be"),
        ({"dataset": "d", "script": SHA, "cpu_cores": True}, "cpu_cores must be"),
        ({"dataset": "d", "script": SHA, "ram_bytes": 1 << 20}, "ram_bytes must be"),
        ({"dataset": "d", "script": SHA, "timeout_s": 0}, "timeout_s must be"),
        ({"dataset": "d", "script": SHA, "params": [1]}, "params must be an object"),
        ({"dataset": "d", "script": SHA, "epochs": 3}, "unknown parameter 'epochs'"),
    ],
)
def test_bad_parameters_are_named(params: dict, error: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        train_script.validate(params)
    assert error in bad.value.message


def test_parameters_get_their_defaults() -> None:
    p = train_script.validate({"dataset": "shapes", "script": SHA})
    assert p["name"] == "shapes" and p["version"] == "latest" and p["task"] == "detect"
    assert p["cpu_cores"] == 1 and p["timeout_s"] == 3600.0 and p["params"] == {}
    limits = train_script.limits_of(p)
    assert limits.ram_bytes == 4 << 30 and limits.tmp_bytes == 256 << 20


@pytest.mark.parametrize(
    ("text", "unmet"),
    [
        ("numpy\n# a comment\n\n", []),
        (f"numpy=={NUMPY}  # pinned\n", []),
        ("numpy>=9999", [f"numpy>=9999 (installed: {NUMPY})"]),
        ("no-such-distribution-ahoy==1.0", ["no-such-distribution-ahoy==1.0 (not installed)"]),
        ('numpy>=9999; python_version < "3"', []),  # the marker does not apply here
        ("NumPy", []),  # names are matched as pip matches them
    ],
)
def test_requirements_are_met_by_what_is_installed(text: str, unmet: list[str]) -> None:
    if not unmet:
        requirements.check(text)
        return
    with pytest.raises(requirements.RequirementsNotMet) as refused:
        requirements.check(text)
    assert refused.value.unmet == unmet
    assert "installs nothing at run time" in refused.value.hint


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("--index-url https://example.com/simple", "pip options (--index-url)"),
        ("-e .", "pip options (-e)"),
        ("evil @ https://example.com/evil.whl", "evil from a URL"),
        ("numpy >>= 1", "is not a requirement"),
    ],
)
def test_requirements_that_would_fetch_or_build_are_refused(text: str, error: str) -> None:
    with pytest.raises(InvalidInput) as bad:
        requirements.check(text)
    assert error in bad.value.message


def _out(tmp_path: Path, **files: bytes | str) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    for name, content in files.items():
        path = out / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return out


def test_a_kept_contract(tmp_path: Path) -> None:
    out = _out(
        tmp_path,
        **{
            "best.pt": b"w",
            "metrics.json": '{"map50": 0.5, "epochs": 3}',
            "model.onnx": b"o",
            "plots__loss.png": b"p",
            ".cache": b"c",
        },
    )
    got = contract.check(out)
    assert got.weights == out / "best.pt" and got.onnx == out / "model.onnx"
    assert got.metrics == {"map50": 0.5, "epochs": 3}
    assert sorted(got.files) == ["best.pt", "metrics.json", "model.onnx", "plots/loss.png"]


@pytest.mark.parametrize(
    ("files", "problems"),
    [
        ({}, ["no weights: /out/weights.pt (or /out/best.pt) is missing", "no metrics"]),
        ({"weights.pt": b"", "metrics.json": "{}"}, ["/out/weights.pt is empty"]),
        ({"weights.pt": b"w", "metrics.json": "[1]"}, ["a JSON object of numbers is expected"]),
        ({"weights.pt": b"w", "metrics.json": "{"}, ["/out/metrics.json: not JSON"]),
        (
            {"weights.pt": b"w", "metrics.json": '{"a": "x", "b": true, "c": 1e999}'},
            ["not finite numbers: a, b, c"],
        ),
    ],
)
def test_a_broken_contract_names_every_problem(
    tmp_path: Path, files: dict, problems: list[str]
) -> None:
    with pytest.raises(contract.ContractBroken) as broken:
        contract.check(_out(tmp_path, **files))
    assert len(broken.value.problems) == len(problems)
    for seen, wanted in zip(broken.value.problems, problems, strict=True):
        assert wanted in seen


def test_a_link_out_of_the_output_is_never_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("host secret")
    out = _out(tmp_path, **{"metrics.json": "{}"})
    os.symlink(secret, out / "weights.pt")
    os.symlink(tmp_path, out / "escape")
    with pytest.raises(contract.ContractBroken) as broken:
        contract.check(out)
    assert "/out/weights.pt is not a regular file" in broken.value.message
    assert sorted(contract.regular_files(out)) == ["metrics.json"]


@pytest.mark.parametrize(
    ("line", "event"),
    [
        (
            '@ahoy {"kind": "epoch", "epoch": 1, "map50": 0.1}',
            ("epoch", {"epoch": 1, "map50": 0.1}),
        ),
        (
            '@ahoy {"kind": "progress", "done": 3, "total": 10}',
            ("progress", {"done": 3, "total": 10}),
        ),
        ('@ahoy {"kind": "metrics", "loss": 1.5}', ("metrics", {"loss": 1.5})),
        ('@ahoy {"kind": "state", "job": {"state": "succeeded"}}', None),  # no forged states
        ('@ahoy {"kind": "progress", "done": "all"}', None),
        ("@ahoy [1, 2]", None),
        ("@ahoy not json", None),
        ('{"kind": "epoch", "epoch": 1}', None),  # no mark: a line of log
        ('epoch 1 done @ahoy {"kind": "epoch", "epoch": 1}', None),
    ],
)
def test_which_printed_events_count(line: str, event: tuple | None) -> None:
    assert contract.event_of(line) == event


def test_limits_become_kernel_limits_hard_and_soft() -> None:
    limits = sandbox.Limits(cpu_cores=2, ram_bytes=1 << 30, timeout_s=100, processes=64)
    rl = limits.rlimits()
    assert rl["RLIMIT_DATA"] == (1 << 30, 1 << 30) and rl["RLIMIT_NPROC"] == (64, 64)
    assert rl["RLIMIT_CPU"] == (205, 210) and rl["RLIMIT_CORE"] == (0, 0)
    assert json.loads(json.dumps(rl))  # what the launcher receives
    assert limits.describe(sandbox.TIME) == "the time limit (100 s)"
    assert limits.describe(sandbox.MEMORY) == "the memory limit (1 GiB)"


def test_no_bubblewrap_is_a_clear_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bwrap, "executable", lambda: None)
    with pytest.raises(bwrap.SandboxUnavailable) as missing:
        bwrap.check()
    assert missing.value.message.startswith(
        "script mode needs bubblewrap with user/network namespaces"
    )
    assert "install bubblewrap" in missing.value.hint and missing.value.code == (
        "sandbox-unavailable"
    )
