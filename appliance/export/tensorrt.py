"""TensorRT engines (NVIDIA: FP16, or INT8 calibrated on the train split), built
from the static ONNX on a host that has TensorRT and a GPU (Jetson images ship
it). TensorRT cannot be installed from the registries this appliance installs
from (its library package downloads from a vendor host at install time), so
where it is missing the export job is refused at submission with that reason.

``status()`` says whether this host can build engines; ``build_engine`` and
``EngineRunner`` are what the TensorRT worker (``tensorrt_worker``) runs there.
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


class EngineRunner:
    """Runs a serialized engine on batches (the same NCHW float32 input every backend
    takes); the raw first output comes back as numpy."""

    def __init__(self, engine_path: Path) -> None:
        import tensorrt as trt
        import torch

        self.torch = torch
        runtime = trt.Runtime(trt.Logger(trt.Logger.WARNING))
        self.engine = runtime.deserialize_cuda_engine(engine_path.read_bytes())
        self.context = self.engine.create_execution_context()
        names = [self.engine.get_tensor_name(i) for i in range(self.engine.num_io_tensors)]
        mode = trt.TensorIOMode.INPUT
        self.inputs = [n for n in names if self.engine.get_tensor_mode(n) == mode]
        self.outputs = [n for n in names if self.engine.get_tensor_mode(n) != mode]
        self.stream = torch.cuda.Stream()

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        torch = self.torch
        source = torch.from_numpy(np.ascontiguousarray(batch)).cuda()
        self.context.set_input_shape(self.inputs[0], tuple(source.shape))
        self.context.set_tensor_address(self.inputs[0], int(source.data_ptr()))
        shape = tuple(self.context.get_tensor_shape(self.outputs[0]))
        result = torch.empty(shape, dtype=torch.float32, device="cuda")
        self.context.set_tensor_address(self.outputs[0], int(result.data_ptr()))
        for extra in self.outputs[1:]:  # bound, unread
            other = torch.empty(tuple(self.context.get_tensor_shape(extra)), device="cuda")
            self.context.set_tensor_address(extra, int(other.data_ptr()))
        self.context.execute_async_v3(self.stream.cuda_stream)
        self.stream.synchronize()
        return np.asarray(result.cpu().numpy())
