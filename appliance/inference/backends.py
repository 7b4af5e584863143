"""The forward pass per format: NCHW float32 RGB 0..1 in, the raw output out.

``pt``: Ultralytics weights run by PyTorch (the head's raw output, before NMS, as
an ONNX export would give it). ``onnx``: ONNX Runtime (a model cut per stride, as
the RKNN export cuts it, has its branches joined back into the head's output). A
backend says whether its batch size is fixed (a static export) so callers feed it
whole batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from ahoy_agent.runtime.decode import is_branches, join_branches

FORMATS = ("pt", "onnx", "tensorrt")


Forward = Callable[[np.ndarray], np.ndarray]


@dataclass
class Backend:
    forward: Forward
    fixed_batch: int | None  # None: any batch size
    input_size: int | None  # a static export's side; None: the caller's choice
    names: dict[int, str]
    nms_inside: bool | None = False  # the model's output is already NMS'd (None: unknown)

    def run(self, batch: np.ndarray) -> np.ndarray:
        if self.fixed_batch is None or len(batch) == self.fixed_batch:
            return self.forward(batch)
        outs = [self.forward(batch[i : i + 1]) for i in range(len(batch))]
        return np.concatenate(outs)


def load(path: str, fmt: str, threads: int = 1) -> Backend:
    if fmt == "pt":
        return _torch(path, threads)
    if fmt == "onnx":
        return _onnx(path, threads)
    if fmt == "tensorrt":
        return _tensorrt(path)
    raise ValueError(f"format {fmt!r} has no inference backend here; use one of {FORMATS}")


def _torch(path: str, threads: int) -> Backend:
    import torch
    from ultralytics import YOLO

    torch.set_num_threads(max(1, threads))
    wrapper = YOLO(path)
    # Conv and BatchNorm folded, as Ultralytics (and every export) runs it
    model = wrapper.model.fuse(verbose=False).float().eval()  # type: ignore[union-attr]
    names = {int(k): str(v) for k, v in wrapper.names.items()}

    def forward(batch: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            out: Any = model(torch.from_numpy(batch))
        while isinstance(out, (tuple, list)):  # (predictions, extras), nested for segment
            out = out[0]
        return out.detach().cpu().numpy()

    return Backend(forward, None, None, names)


def _onnx(path: str, threads: int) -> Backend:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.log_severity_level = 3
    session = ort.InferenceSession(path, options, providers=ort.get_available_providers())
    inp = session.get_inputs()[0]
    batch, side = inp.shape[0], inp.shape[2]
    meta = session.get_modelmeta().custom_metadata_map
    names = _names(meta.get("names", ""))
    args = _literal(meta.get("args", ""))
    nms_inside = bool(args.get("nms")) if isinstance(args, dict) and args else None

    # a head cut per stride (as for an INT8 RKNN) is joined back into the head's output
    branches = is_branches([o.shape for o in session.get_outputs()])
    input_hw = (int(inp.shape[2]), int(inp.shape[3])) if branches else (0, 0)

    def forward(batch_: np.ndarray) -> np.ndarray:
        outputs = session.run(None, {inp.name: batch_})
        if branches:
            return join_branches([np.asarray(o) for o in outputs], input_hw)
        return np.asarray(outputs[0])

    return Backend(
        forward,
        batch if isinstance(batch, int) else None,
        side if isinstance(side, int) else None,
        names,
        nms_inside,
    )


def _tensorrt(path: str) -> Backend:
    """A static, batch-1 engine (as the export job builds them)."""
    from pathlib import Path

    from appliance.inference.tensorrt_runner import EngineRunner

    runner = EngineRunner(Path(path))
    shape = runner.engine.get_tensor_shape(runner.inputs[0])
    return Backend(runner, int(shape[0]), int(shape[2]), {}, None)


def _names(text: str) -> dict[int, str]:
    """Ultralytics writes names as a Python dict literal in the metadata."""
    value = _literal(text)
    return {int(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _literal(text: str) -> Any:
    """A Python literal from Ultralytics' metadata (never evaluated as code)."""
    import ast

    try:
        return ast.literal_eval(text) if text else None
    except (ValueError, SyntaxError):
        return None
