# Every target creates .venv and installs what it needs, so `make test` alone
# passes on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test test-ctypes demo bench bench-scaleout lint fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@# The compiled backend needs Python.h; install the headers on a fresh Debian/Ubuntu box.
	@$(PYTHON) -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
	  || { command -v apt-get >/dev/null && apt-get install -y -q python3-dev >/dev/null 2>&1; } \
	  || echo "note: Python headers not installed; ffikit will use its ctypes backend"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest

# The whole suite on the ctypes backend only (what a machine without a compiler runs).
test-ctypes: $(STAMP)
	FFIKIT_BACKEND=ctypes $(PY) -m pytest

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
