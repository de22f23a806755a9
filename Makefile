# Two commands on a fresh machine: `make run` and `make test`. Both create .venv when it is missing.
#
# torch (tools/install_torch.py decides, `$(PY) tools/install_torch.py --dry-run` says what it would do):
# already importable (a conda env, Colab, a venv made from a Python that has it): nothing replaces it.
# Else $(TORCH_PIN): on Linux without an NVIDIA GPU from PyTorch's CPU wheel index (not gigabytes of CUDA
# wheels), falling back within seconds to the plain pin when that index cannot be reached; with an NVIDIA
# GPU, or on macOS and Windows, from the default index.
#
# Also: `make lab` (JupyterLab on the notebooks, with this venv as their kernel), `make repository
# URL=https://github.com/you/fork [BRANCH=tag]` (every badge, install cell and link at once).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_PIN ?= torch==2.13.0
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
PRESET ?= cpu
OUT ?= runs/latest
PYTEST_ARGS ?=
LAB_ARGS ?=

# Offline copies beside the checkout (as on CI machines) are used when nothing else is configured.
ifneq ($(wildcard ../shared/data/tinyshakespeare.txt),)
export LMHELPERS_DATA_DIR ?= $(abspath ../shared/data)
endif
ifneq ($(wildcard ../shared/data/tiktoken),)
export TIKTOKEN_CACHE_DIR ?= $(abspath ../shared/data/tiktoken)
endif

.PHONY: install run test lint format clean lab repository catalogs book

# A venv made from another venv's Python sees that Python's base, not its packages: a .pth file then
# adds them (after the venv's own), so torch installed there is reused too.
SITE_PACKAGES := import sysconfig; print(*dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib")), sep="\n")
PURELIB := import sysconfig; print(sysconfig.get_paths()["purelib"])

$(VENV)/.installed: pyproject.toml tools/install_torch.py
	@if [ ! -x $(PY) ]; then \
	  if $(PYTHON) -c "import torch" 2>/dev/null; then \
	    echo "torch found in $(PYTHON): the venv reuses it"; $(PYTHON) -m venv --system-site-packages $(VENV); \
	    $(PY) -c "import torch" 2>/dev/null || $(PYTHON) -c '$(SITE_PACKAGES)' > "$$($(PY) -c '$(PURELIB)')/parent.pth"; \
	  else $(PYTHON) -m venv $(VENV); fi; \
	fi
	@$(PY) tools/install_torch.py --pin "$(TORCH_PIN)" --cpu-index "$(TORCH_CPU_INDEX)"
	@$(PY) -m pip install -q -e ".[notebooks,dev]"
	@touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m lmhelpers series --preset $(PRESET) --out $(OUT)

test: install
	$(PY) -m ruff check .
	$(PY) -m pytest $(PYTEST_ARGS)

# The message catalogs (lmhelpers/locale/): add new texts to each .po, compile the .mo files. Translate the
# new entries (empty msgstr) in the .po, then run it again; tests/test_catalogs.py says what is missing.
catalogs: install
	$(PY) tools/catalog.py update

# The course as a website from the executed notebooks of a run (docs/book.md): build/book/index.html, the
# Korean pages in build/book/ko/. Runs the Korean notebooks into $(OUT)/ko/ first when they are missing.
# E.g. make book OUT=runs/mine BOOK_OUT=public; serve with python -m http.server -d build/book.
BOOK_OUT ?= build/book
BOOK_ARGS ?=
book: install
	$(PY) tools/build_book.py --run $(OUT) --out $(BOOK_OUT) $(BOOK_ARGS)

# JupyterLab at http://127.0.0.1:8888/ on this checkout, opened at notebooks/, with this venv registered
# as the notebooks' `python3` kernel inside the venv. More options: make lab LAB_ARGS="--port 8899".
lab: install
	$(PY) tools/lab.py $(LAB_ARGS)

# Only values given on the command line count (a BRANCH in the environment is not a request to pin).
repository: install
	$(PY) tools/set_repository.py $(strip $(if $(filter command line,$(origin URL)),"$(URL)") \
	  $(if $(filter command line,$(origin BRANCH)),--branch "$(BRANCH)"))

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check lmhelpers tests tools

format: install
	$(PY) -m ruff format lmhelpers tests tools
	$(PY) -m ruff check --fix .

clean:
	rm -rf $(VENV) runs .pytest_cache .ruff_cache

# Mutation testing of the modules that compute reported figures with mutmut, in a scratch copy
# (runs/mutation/tree; configuration: [tool.mutmut] in pyproject.toml). Slow on 2 cores (about an hour the
# first time; a second run retests only what changed), so not part of `make test` or CI. Prints the score;
# survivors and what became of them: docs/mutation.md. `make mutation-planted`: the planted bugs.
# E.g. make mutation MUTATION_ARGS="--max-children 1" or MUTATION_ARGS="lmhelpers.metrics*".
MUTATION_ARGS ?=
.PHONY: mutation mutation-planted
mutation: install
	$(PY) tools/mutation_run.py run $(MUTATION_ARGS)

mutation-planted: install
	$(PY) tools/mutation_run.py planted
