# AHOY Perception — the two commands a newcomer needs are `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: install run test test-unit lint bench clean

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

run: $(STAMP)
	$(BIN)/ahoy serve

test: $(STAMP)
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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
