# AHOY Perception — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=
# Test files run on this many workers, each file on one (module fixtures stay
# whole): most tests wait on a server, weed or a browser, so 4 beat 2 cores.
TEST_WORKERS ?= 4

.PHONY: install rknn chromium sandbox system-deps run test test-unit lint bench clean vendor-js

install: $(STAMP)

$(STAMP): pyproject.toml agent/pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	@# the appliance depends on ahoy-agent==0.1.0, which is not on an index: this tree's copy first
	$(BIN)/pip install -e ./agent
	$(BIN)/pip install -e '.[dev]'
	@# ultralytics pulls the GUI build of OpenCV; the headless build replaces it
	@# (both write cv2/, so remove the GUI one first, then reinstall headless).
	$(BIN)/pip uninstall -y -q opencv-python || true
	$(BIN)/pip install -q --force-reinstall --no-deps opencv-python-headless==5.0.0.93
	$(BIN)/python -c "import cv2, torch, torchvision, ultralytics, onnxruntime; print('ml stack ok:', torch.__version__, torchvision.__version__, ultralytics.__version__)"
	test -x $(BIN)/weed
	touch $(STAMP)

# RKNN export (RK3588) needs rknn-toolkit2, whose pins (numpy, onnx, protobuf) clash
# with ultralytics: it gets its own environment, which appliance/export/rknn.py runs.
# torch is the local CPU wheel; a plain install of the toolkit pulls a 2.8 GB CUDA
# torch. setuptools<81 still ships pkg_resources, which the toolkit imports.
RKNN_VENV  := .venv-rknn
RKNN_BIN   := $(RKNN_VENV)/bin
RKNN_STAMP := $(RKNN_VENV)/.installed
RKNN_DEPS  := torch==2.13.0+cpu numpy==1.26.4 onnx==1.18.0 protobuf==4.25.4 \
	onnxruntime==1.26.0 opencv-python-headless==4.11.0.86 scipy==1.17.1 fast-histogram==0.14 \
	ruamel.yaml==0.19.1 tqdm==4.70.1 psutil==7.2.2 'setuptools<81'

rknn: $(RKNN_STAMP)

$(RKNN_STAMP): Makefile
	$(PYTHON) -m venv $(RKNN_VENV)
	$(RKNN_BIN)/pip install -q $(RKNN_DEPS)
	$(RKNN_BIN)/pip install -q --no-deps rknn-toolkit2==2.3.2
	$(RKNN_BIN)/python -c "from rknn.api import RKNN; import numpy, onnx; print('rknn ok:', numpy.__version__, onnx.__version__)"
	touch $(RKNN_STAMP)

# The browser tests drive Debian's chromium (Playwright downloads no browser).
SUDO := $(shell [ "$$(id -u)" -ne 0 ] && command -v sudo >/dev/null && echo sudo)
chromium:
	@command -v chromium >/dev/null || ($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium)

# Script mode runs a user's training script under bubblewrap (docs/training.md).
# bubblewrap makes the script-mode sandbox; libseccomp compiles its system-call filter
sandbox:
	@command -v bwrap >/dev/null && ldconfig -p | grep -q libseccomp.so.2 || \
		($(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq bubblewrap libseccomp2)

# What the system itself must provide, beyond the venv.
system-deps: chromium sandbox

run: $(STAMP) $(RKNN_STAMP) sandbox
	$(BIN)/ahoy serve

test: $(STAMP) $(RKNN_STAMP) system-deps
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --durations=30 $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check appliance agent bundle airgap tests benchmarks
	$(BIN)/mypy appliance
	$(BIN)/mypy agent/ahoy_agent
	$(BIN)/lint-imports

bench: $(STAMP) $(RKNN_STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/bench_data_engine.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_platform_training.py --epochs 30
	$(BIN)/python benchmarks/bench_evaluation.py
	$(BIN)/python benchmarks/bench_inference.py
	$(BIN)/python benchmarks/bench_augment.py

clean:
	rm -rf $(VENV) $(RKNN_VENV) .pytest_cache .mypy_cache .ruff_cache

# Browser libraries shipped with the console (not part of install: the built files
# are committed, so nothing is downloaded at run time). See
# appliance/web/console/static/vendor/README.md.
VENDOR_JS     := appliance/web/console/static/vendor
KONVA_VERSION ?= 10.9.1
KONVA_SHA256  ?= acc5719ed72c2cab2858e200a61051e6930c635a29825c2ebe1852bad103d2cc

vendor-js:
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	cd "$$tmp" && npm pack --silent konva@$(KONVA_VERSION) >/dev/null && \
	tar xzf konva-$(KONVA_VERSION).tgz package/konva.min.js package/LICENSE && \
	echo "$(KONVA_SHA256)  package/konva.min.js" | sha256sum -c - && \
	cd - >/dev/null && \
	cp "$$tmp/package/konva.min.js" $(VENDOR_JS)/konva.min.js && \
	cp "$$tmp/package/LICENSE" $(VENDOR_JS)/konva.LICENSE && \
	echo "konva $(KONVA_VERSION) -> $(VENDOR_JS)/konva.min.js"
