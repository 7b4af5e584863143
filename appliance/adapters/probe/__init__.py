"""Hardware probes: psutil for the host, NVML for NVIDIA GPUs, a fixed one for tests."""
