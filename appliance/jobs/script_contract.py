"""What a training script must leave in ``/out``, and how what it printed is heard.

The contract: ``weights.pt`` (or ``best.pt``), ``metrics.json`` (a JSON object of
numbers), and optionally ``model.onnx``; anything else it writes there is kept
as the job's artifacts too. Only regular files count: a symbolic link the script
made (to a host file, say) is never followed. Names under ``script/`` are the
appliance's own (the code it ran, stored from its own copy), and a name that does
not show as it is (control, invisible or bidirectional-control characters) could
pass for another: outputs named so are refused, not kept.
"""

from __future__ import annotations

import json
import math
import os
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance import child_events
from appliance.domain.names import check_filename
from appliance.errors import ApplianceError, InvalidFilename

WEIGHTS = ("weights.pt", "best.pt")
METRICS = "metrics.json"
ONNX = "model.onnx"
MAX_ARTIFACTS = 200
MAX_METRICS_BYTES = 1 << 20
#: artifact names the appliance keeps for itself: the code a run ran
RESERVED = "script/"
#: Unicode categories of characters that do not show as themselves
_HIDDEN = {"Cc", "Cf", "Cs", "Zl", "Zp"}


class ContractBroken(ApplianceError):
    """The script ended well but did not leave what a training run must."""

    code = "script-contract-broken"

    def __init__(self, problems: list[str]) -> None:
        super().__init__(
            "the script did not keep the contract: " + "; ".join(problems),
            hint="write /out/weights.pt and /out/metrics.json (a JSON object of numbers);"
            " see docs/training.md, Script mode",
        )
        self.problems = problems


@dataclass(frozen=True)
class Delivered:
    weights: Path
    metrics: dict[str, float]
    onnx: Path | None
    #: every regular file under /out, by its relative path (the contract's among them)
    files: dict[str, Path]


def check(out: Path) -> Delivered:
    """Raises ContractBroken naming everything missing or malformed."""
    files = regular_files(out)
    problems: list[str] = []
    weights = next((files[n] for n in WEIGHTS if n in files), None)
    if weights is None:
        problems.append(f"no weights: /out/{WEIGHTS[0]} (or /out/{WEIGHTS[1]}) is missing")
    elif weights.stat().st_size == 0:
        problems.append(f"/out/{weights.name} is empty")
    for name in (*WEIGHTS, METRICS, ONNX):
        if name not in files and os.path.lexists(out / name):
            problems.append(f"/out/{name} is not a regular file")
    metrics: dict[str, float] = {}
    if METRICS not in files:
        problems.append(f"no metrics: /out/{METRICS} is missing")
    else:
        try:
            metrics = parse_metrics(files[METRICS])
        except ValueError as exc:
            problems.append(f"/out/{METRICS}: {exc}")
    if problems:
        raise ContractBroken(problems)
    assert weights is not None
    return Delivered(weights, metrics, files.get(ONNX), files)


def parse_metrics(path: Path) -> dict[str, float]:
    if path.stat().st_size > MAX_METRICS_BYTES:
        raise ValueError(f"larger than {MAX_METRICS_BYTES} bytes")
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON object of numbers is expected, not {type(data).__name__}")
    bad = [
        k
        for k, v in data.items()
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
    ]
    if bad:
        raise ValueError(f"not finite numbers: {', '.join(sorted(bad)[:10])}")
    return {k: v for k, v in data.items()}


def regular_files(root: Path) -> dict[str, Path]:
    """Regular files under ``root`` (not following links), by relative POSIX path;
    hidden names skipped; at most MAX_ARTIFACTS."""
    found: dict[str, Path] = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if name.startswith(".") or not stat.S_ISREG(os.lstat(path).st_mode):
                continue
            found[path.relative_to(root).as_posix()] = path
            if len(found) >= MAX_ARTIFACTS:
                return found
    return found


def refusal(name: str) -> str | None:
    """Why an output may not be kept under ``name``, or None if it may."""
    if name.startswith(RESERVED):
        return f"names under {RESERVED} are the appliance's own (the code it ran)"
    try:
        check_filename(name)
    except InvalidFilename as exc:
        return exc.reason
    for c in name:
        if unicodedata.category(c) in _HIDDEN:
            what = unicodedata.name(c, "")
            return f"it holds U+{ord(c):04X}{f' ({what})' if what else ''}, which does not show"
    return None


#: event kinds a script may report (anything else is logged as a line)
EVENT_KINDS = ("epoch", "progress", "metrics")


def event_of(line: str) -> tuple[str, dict[str, Any]] | None:
    """The event on a line the script printed (an ``@ahoy {json}`` line of
    appliance.child_events), or None when it is not a well-formed one of the kinds
    a script may report (a script must not forge job states)."""
    data = child_events.event_in(line)
    if data is None or data.get("kind") not in EVENT_KINDS:
        return None
    kind = str(data.pop("kind"))
    if kind == "progress" and not (_count(data.get("done")) and _count(data.get("total"))):
        return None
    return kind, data


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
