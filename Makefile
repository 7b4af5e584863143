# AHOY Perception — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install chromium sandbox system-deps run test test-unit lint bench clean vendor-js

install: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -e '.[dev]'
	@# ultralytics pulls the GUI build of OpenCV; the headless build replaces it
	@# (both write cv2/, so remove the GUI one first, then reinstall headless).
	$(BIN)/pip uninstall -y -q opencv-python || true
	$(BIN)/pip install -q --force-reinstall --no-deps opencv-python-headless==5.0.0.93
	$(BIN)/python -c "import cv2, torch, torchvision, ultralytics, onnxruntime; print('ml stack ok:', torch.__version__, torchvision.__version__, ultralytics.__version__)"
	test -x $(BIN)/weed
	touch $(STAMP)

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

run: $(STAMP) sandbox
	$(BIN)/ahoy serve

test: $(STAMP) system-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(BIN)/python -m pytest -m unit $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check appliance agent bundle airgap tests benchmarks
	$(BIN)/mypy appliance

bench: $(STAMP)
	$(BIN)/pip install -q -e '.[bench]'
	$(BIN)/python benchmarks/bench_data_engine.py
	$(BIN)/python benchmarks/bench_api.py
	$(BIN)/python benchmarks/bench_platform_training.py --epochs 30

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

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
