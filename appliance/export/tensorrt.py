"""TensorRT engines (NVIDIA: FP16, or INT8 calibrated on the train split), built
from the static ONNX on a host that has TensorRT and a GPU (Jetson images ship
it). TensorRT cannot be installed from the registries this appliance installs
from (its library package downloads from a vendor host at install time), so
where it is missing the export job is refused at submission with that reason.

``status()`` says whether this host can build engines; ``build_engine`` is what
the TensorRT worker (``tensorrt_worker``) runs there. Engines are run by
appliance.inference.tensorrt_runner.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from appliance.errors import JobRejected

NOT_INSTALLABLE = (
    "TensorRT is not installed on this host: its library package downloads from a vendor"
    " host at install time, which this appliance never does"
)
HINT = "export ONNX or RKNN here, or run the TensorRT export on a Jetson or a host with TensorRT"


def status() -> dict[str, Any]:
    """``{available, reason?, version?}``: TensorRT importable and a CUDA GPU present."""
    if importlib.util.find_spec("tensorrt") is None:
        return {"available": False, "reason": NOT_INSTALLABLE, "hint": HINT}
    try:
        import tensorrt as trt
    except (ImportError, OSError) as exc:  # the bindings without their libraries
        return {"available": False, "reason": f"TensorRT does not load: {exc}", "hint": HINT}
    import torch

    if not torch.cuda.is_available():
        return {"available": False, "reason": "no CUDA GPU is visible to this host", "hint": HINT}
    return {"available": True, "version": trt.__version__}


def check_available() -> None:
    state = status()
    if not state["available"]:
        refused = JobRejected("export", state["reason"], needed={"runtime": "tensorrt"})
        refused.hint = state["hint"]
        raise refused


def build_engine(
    onnx_path: Path,
    engine_path: Path,
    *,
    precision: str = "fp16",
    calibration: Sequence[np.ndarray] = (),
    workspace_bytes: int = 2 << 30,
) -> dict[str, Any]:
    """Parse the ONNX, build a serialized engine at ``precision`` (fp16 | int8; INT8
    calibrated with ``calibration``: NCHW float32 batches), write it; its facts."""
    import tensorrt as trt

    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)  # explicit batch (the only mode in TensorRT 10)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_path.read_bytes()):
        errors = [str(parser.get_error(i)) for i in range(parser.num_errors)]
        raise ValueError("TensorRT cannot parse the ONNX model: " + "; ".join(errors))
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, workspace_bytes)
    if precision in ("fp16", "int8") and builder.platform_has_fast_fp16:
        config.set_flag(trt.BuilderFlag.FP16)
    if precision == "int8":
        if not calibration:
            raise ValueError("an INT8 engine needs calibration batches")
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = _calibrator(trt, list(calibration), engine_path)
    serialized = builder.build_serialized_network(network, config)
    if serialized is None:
        raise ValueError("TensorRT could not build an engine for this model (see its log)")
    engine_path.write_bytes(bytes(serialized))
    return {"tensorrt": trt.__version__, "precision": precision, "size": engine_path.stat().st_size}


def _calibrator(trt: Any, batches: list[np.ndarray], engine_path: Path) -> Any:
    import torch

    class Calibrator(trt.IInt8EntropyCalibrator2):  # type: ignore[misc, name-defined]
        def __init__(self) -> None:
            super().__init__()
            self.batches = iter(batches)
            self.device = torch.empty(0)
            self.cache = engine_path.with_suffix(".calibration")

        def get_batch_size(self) -> int:
            return int(batches[0].shape[0])

        def get_batch(self, names: list[str]) -> list[int] | None:
            batch = next(self.batches, None)
            if batch is None:
                return None
            self.device = torch.from_numpy(np.ascontiguousarray(batch)).cuda()
            return [int(self.device.data_ptr())]

        def read_calibration_cache(self) -> bytes | None:
            return self.cache.read_bytes() if self.cache.exists() else None

        def write_calibration_cache(self, cache: bytes) -> None:
            self.cache.write_bytes(bytes(cache))

    return Calibrator()
