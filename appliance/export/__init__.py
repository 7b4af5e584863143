"""Exports of trained weights for the runtimes the edge uses: ONNX (portable, made
in the main environment) and RKNN (RK3588, made in its own environment because
rknn-toolkit2's pins clash with ultralytics). Each runs as a child process; the
export job registers the result and measures its parity against the source."""
