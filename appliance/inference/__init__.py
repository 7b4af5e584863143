"""One inference path for every model format: the same letterbox in, the same
decoding and NMS out; only the forward pass differs (PyTorch weights, ONNX
Runtime, the RKNN simulator). Evaluation, the export parity gate and, later, the
YAML runtime and the agents use it, so a metric measured here is the metric of
the artifact that will be deployed."""
