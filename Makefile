# Every target creates .venv and installs what it needs, so `make test` alone
# passes on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test demo bench bench-scaleout lint fuzz clean

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

# one process vs a process pool vs a Dask LocalCluster on a 4096x4096x3 image (slow)
bench-scaleout: $(STAMP)
	$(PY) benchmarks/scaleout.py

# The crash-free fuzz targets with many more examples than the suite runs
# (FFIKIT_FUZZ_EXAMPLES per target, FFIKIT_FUZZ_SEED to vary the run).
FFIKIT_FUZZ_EXAMPLES ?= 5000
fuzz: $(STAMP)
	FFIKIT_FUZZ_EXAMPLES=$(FFIKIT_FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz -v

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info demo-out
