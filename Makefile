# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when it is missing.
#
# torch: where no torch is importable, it is pinned to 2.13.0 in the same pip call (an unpinned
# `torch` resolves to a multi-GB CUDA build on machines without a GPU wheel cache). Where the Python
# that makes the venv already has torch (a conda env, Colab), the venv sees it and nothing replaces it.

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_PIN ?= torch==2.13.0
PRESET ?= cpu
OUT ?= runs/latest
PYTEST_ARGS ?=

# Offline copies beside the checkout (as on CI machines) are used when nothing else is configured.
ifneq ($(wildcard ../shared/data/tinyshakespeare.txt),)
export LMHELPERS_DATA_DIR ?= $(abspath ../shared/data)
endif
ifneq ($(wildcard ../shared/data/tiktoken),)
export TIKTOKEN_CACHE_DIR ?= $(abspath ../shared/data/tiktoken)
endif

.PHONY: install run test lint format clean

$(VENV)/.installed: pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  if $(PYTHON) -c "import torch" 2>/dev/null; then \
	    echo "torch found in $(PYTHON): the venv reuses it"; $(PYTHON) -m venv --system-site-packages $(VENV); \
	  else $(PYTHON) -m venv $(VENV); fi; \
	fi
	@if $(PY) -c "import torch" 2>/dev/null; then \
	  $(PY) -m pip install -q -e ".[notebooks,dev]"; \
	else \
	  $(PY) -m pip install -q "$(TORCH_PIN)" -e ".[notebooks,dev]"; \
	fi
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m lmhelpers series --preset $(PRESET) --out $(OUT)

test: install
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check lmhelpers tests

format: install
	$(PY) -m ruff format lmhelpers tests
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache
