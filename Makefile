# Every target creates .venv and installs what it needs, so `make test` alone
# passes on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test demo bench lint fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

demo: $(STAMP)
	$(PY) -m ffikit demo

bench: $(STAMP)
	$(PY) -m ffikit bench

# A longer, random run of the crash-free fuzz tests (CI runs a short, fixed one).
fuzz: $(STAMP)
	FFIKIT_FUZZ_EXAMPLES=2000 $(PY) -m pytest -q tests/memory/test_fuzz_memory.py

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info demo-out
