"""Running a serialized TensorRT engine: the forward pass of the ``tensorrt``
inference backend (appliance.inference.backends), on a host with TensorRT and a
CUDA GPU. Engines are built by appliance.export.tensorrt; TensorRT and torch are
imported when a runner is made, so this module imports anywhere."""

from __future__ import annotations

from pathlib import Path

import numpy as np


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
