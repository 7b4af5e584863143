"""RKNN export (Rockchip NPUs, RK3588) through the separate ``.venv-rknn``.

rknn-toolkit2 pins numpy, onnx and protobuf below what ultralytics needs, so it
lives in its own environment (``make rknn``) and ``rknn_worker.py`` runs there as
a child process. This side checks the ONNX model, writes the worker's spec, runs
it and relays its events (appliance.child_events). The model converted is the ONNX with its head
cut per stride (``rknn_head``), which INT8 needs. See the worker's docstring for
exactly how it prepares images (simulator inputs are saved beside the outputs).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import appliance
from appliance import child_events
from appliance.errors import ApplianceError, InvalidInput
from appliance.export import rknn_head

#: Path to the python of an rknn-toolkit2 environment, instead of ``.venv-rknn``.
PYTHON_ENV_VAR = "AHOY_RKNN_PYTHON"
HINT = "make rknn"
WORKER = Path(__file__).with_name("rknn_worker.py")
QUANTIZE = ("fp16", "int8")
LOG_TAIL_LINES = 40


class RknnUnavailable(ApplianceError):
    """No usable rknn-toolkit2 environment."""

    code = "rknn-unavailable"
    exit_code = 6

    def __init__(self, reason: str) -> None:
        super().__init__(
            f"RKNN export is not available: {reason}",
            hint=f"run `{HINT}` in the project directory to build .venv-rknn "
            f"(or point {PYTHON_ENV_VAR} at the python of an rknn-toolkit2 environment)",
        )
        self.reason = reason


class StaticOnnxRequired(InvalidInput):
    """rknn-toolkit2 converts only ONNX models with fixed input shapes."""

    code = "rknn-static-onnx-required"

    def __init__(self, model: Path, input_name: str, shape: Sequence[int | str]) -> None:
        dims = "x".join(str(d) for d in shape) or "unknown"
        super().__init__(
            f"RKNN export needs a static ONNX model: input {input_name!r} of {model.name} "
            f"has shape {dims}",
            hint="export the ONNX again with fixed sizes (Ultralytics: dynamic=False, one imgsz)",
        )
        self.model = str(model)
        self.input_name = input_name
        self.shape = list(shape)


class RknnExportFailed(ApplianceError):
    """The worker ran and failed (or ran out of time)."""

    code = "rknn-export-failed"

    def __init__(self, reason: str, *, stderr_tail: str, returncode: int | None) -> None:
        super().__init__(
            f"RKNN export failed: {reason}" + (f"\n{stderr_tail}" if stderr_tail else ""),
            hint="the lines above are the end of the toolkit's log",
        )
        self.reason = reason
        self.stderr_tail = stderr_tail
        self.returncode = returncode


def project_root() -> Path:
    return Path(appliance.__file__).resolve().parent.parent


def environment(env: Mapping[str, str] | None = None) -> Path | None:
    """The python of the rknn-toolkit2 environment: ``$AHOY_RKNN_PYTHON`` if set,
    else ``.venv-rknn/bin/python`` in the project root; None if it is not there."""
    env = os.environ if env is None else env
    override = env.get(PYTHON_ENV_VAR)
    python = Path(override) if override else project_root() / ".venv-rknn" / "bin" / "python"
    return python if python.is_file() and os.access(python, os.X_OK) else None


def status(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Whether RKNN export can run here: ``available``, ``reason`` (why not),
    ``hint`` and, when available, ``python`` and the ``toolkit`` version."""
    env = os.environ if env is None else env
    python = environment(env)
    if python is None:
        return {"available": False, "reason": _missing_reason(env), "hint": HINT}
    version = _toolkit_version(python)
    if version is None:
        reason = f"{python} has no rknn-toolkit2 installed"
        return {"available": False, "reason": reason, "hint": HINT}
    return {
        "available": True,
        "reason": "",
        "hint": HINT,
        "python": str(python),
        "toolkit": version,
    }


def static_input_size(model: Path) -> tuple[int, int]:
    """(height, width) of the model's one NCHW image input; raises StaticOnnxRequired
    when any dimension is symbolic (rknn-toolkit2 would fail deep in its build)."""
    import onnx
    from google.protobuf.message import DecodeError

    try:
        graph = onnx.load(str(model), load_external_data=False).graph
    except (OSError, ValueError, DecodeError) as exc:
        raise InvalidInput(f"cannot read ONNX model {model}: {exc}") from exc
    weights = {w.name for w in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    if len(inputs) != 1:
        raise InvalidInput(
            f"RKNN export takes a model with one image input; {model.name} has {len(inputs)}"
        )
    shape: list[int | str] = [
        d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else (d.dim_param or "?")
        for d in inputs[0].type.tensor_type.shape.dim
    ]
    if len(shape) != 4 or not all(isinstance(d, int) for d in shape):
        raise StaticOnnxRequired(model, inputs[0].name, shape)
    return int(shape[2]), int(shape[3])


def convert(
    onnx_path: Path,
    output: Path,
    *,
    quantize: str = "fp16",
    calibration: Sequence[Path] = (),
    simulate: Sequence[Path] = (),
    simulate_out: Path | None = None,
    input_size: tuple[int, int] | None = None,
    target: str = "rk3588",
    mean: Sequence[float] = (0, 0, 0),
    std: Sequence[float] = (255, 255, 255),
    timeout: float = 600.0,
    on_event: Callable[[dict[str, Any]], object] | None = None,
    on_start: Callable[[int], object] | None = None,
) -> dict[str, Any]:
    """Convert a static ONNX detect model to ``output`` (.rknn), its head cut per
    stride first (``rknn_head``: box logits and class scores as separate outputs, so
    INT8 gives each its own scale); with ``simulate``, also run those images in the
    toolkit's x86 simulator, saving inputs and raw outputs in ``simulate_out``.
    ``on_event`` gets each progress and result event. Returns the worker's result
    (toolkit version, seconds, size, simulated files) with the ``layout`` and the
    ``outputs`` (name, kind, shape) of the cut model."""
    if quantize not in QUANTIZE:
        raise InvalidInput(f"quantize must be one of {', '.join(QUANTIZE)}, not {quantize!r}")
    if quantize == "int8" and not calibration:
        raise InvalidInput("INT8 export needs calibration images", hint="pass a few hundred")
    size = static_input_size(onnx_path)
    if input_size is not None and tuple(input_size) != size:
        raise InvalidInput(
            f"input size {list(input_size)} differs from the ONNX model's {list(size)}",
            hint="export the ONNX at the size the device will run, or leave input_size out",
        )
    python = environment()
    if python is None:
        raise RknnUnavailable(_missing_reason(os.environ))
    with tempfile.TemporaryDirectory(prefix="ahoy-rknn-") as scratch:
        cut = Path(scratch) / "branches.onnx"
        outputs = rknn_head.split_head(Path(onnx_path), cut)
        spec = {
            "onnx": str(cut),
            "output": str(Path(output).resolve()),
            "target": target,
            "quantize": quantize,
            "calibration": [str(Path(p).resolve()) for p in calibration],
            "mean": list(mean),
            "std": list(std),
            "input_size": list(size),
            "simulate": [str(Path(p).resolve()) for p in simulate],
            "simulate_out": str(Path(simulate_out).resolve()) if simulate_out else None,
        }
        spec_path = Path(scratch) / "spec.json"
        spec_path.write_text(json.dumps(spec))
        made = _run_worker(python, spec_path, Path(scratch), timeout, on_event, on_start)
    return {**made, "layout": rknn_head.LAYOUT, "outputs": outputs}


def _run_worker(
    python: Path,
    spec_path: Path,
    scratch: Path,
    timeout: float,
    on_event: Callable[[dict[str, Any]], object] | None,
    on_start: Callable[[int], object] | None = None,
) -> dict[str, Any]:
    env = {**os.environ, "TQDM_DISABLE": "1", "PYTHONUNBUFFERED": "1"}
    env.pop("PYTHONPATH", None)  # the main venv's paths must not leak into the other one
    timed_out = threading.Event()
    result: dict[str, Any] | None = None
    channel = child_events.Channel()
    # appended to by both sides (the child's output, a garbled event line from here)
    with open(scratch / "worker.log", "a+", encoding="utf-8", errors="replace") as log:
        try:
            proc = subprocess.Popen(
                [str(python), str(WORKER), str(spec_path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=channel.child_env(env),
                pass_fds=channel.pass_fds,
                cwd=scratch,
                start_new_session=True,
            )
        except BaseException:
            channel.close()
            raise
        timer = threading.Timer(timeout, _kill_group, args=(proc, timed_out))
        timer.start()
        try:
            if on_start is not None:  # its own process group: a cancel can kill it all
                on_start(proc.pid)
            for heard in child_events.read(channel.parent_end()):
                if isinstance(heard, child_events.Garbled):
                    log.write(heard.as_log() + "\n")  # shown in the tail if the run fails
                    log.flush()
                    continue
                if heard.body.get("kind") == "result":
                    result = heard.body.get("data")
                if on_event is not None:
                    on_event(heard.body)
            code = proc.wait()
        finally:
            timer.cancel()
            if proc.poll() is None:
                _kill_group(proc, timed_out)
                proc.wait()
        log.seek(0)
        tail = "\n".join(log.read().splitlines()[-LOG_TAIL_LINES:])
    if timed_out.is_set() and code != 0:
        raise RknnExportFailed(f"timed out after {timeout:g} s", stderr_tail=tail, returncode=code)
    if "No module named 'rknn'" in tail:
        raise RknnUnavailable(f"{python} has no rknn-toolkit2 installed")
    if code != 0 or result is None:
        reason = _last_line(tail) or f"the worker exited with code {code}"
        raise RknnExportFailed(reason, stderr_tail=tail, returncode=code)
    return result


def _kill_group(proc: subprocess.Popen[bytes], flag: threading.Event) -> None:
    flag.set()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _missing_reason(env: Mapping[str, str]) -> str:
    override = env.get(PYTHON_ENV_VAR)
    if override:
        return f"{PYTHON_ENV_VAR}={override} is not an executable python"
    return f"no rknn-toolkit2 environment at {project_root() / '.venv-rknn'}"


def _toolkit_version(python: Path) -> str | None:
    code = "import importlib.metadata as m; print(m.version('rknn-toolkit2'))"
    try:
        done = subprocess.run(
            [str(python), "-c", code], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    version = done.stdout.strip()
    return version if done.returncode == 0 and version else None
