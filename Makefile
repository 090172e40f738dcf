# Every target creates .venv and installs what it needs, so `make test` alone
# passes on a fresh machine.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test test-ctypes test-pythons typecheck docs dist demo bench bench-scaleout lint fuzz clean system-deps headers

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	@# The compiled backend needs Python.h; install the headers on a fresh Debian/Ubuntu box.
	@$(PYTHON) -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
	  || { command -v apt-get >/dev/null && apt-get install -y -q python3-dev >/dev/null 2>&1; } \
	  || echo "note: Python headers not installed; ffikit will use its ctypes backend"
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

test: $(STAMP) system-deps
	$(PY) -m pytest

# The whole suite on the ctypes backend only (what a machine without a compiler runs).
test-ctypes: $(STAMP)
	FFIKIT_BACKEND=ctypes $(PY) -m pytest

# The suite on every CPython >= requires-python found here (pyenv's too), each in
# .venv-3.X, without the slow and fuzz tiers; both ends of the pycparser range.
# SKIP="3.11" leaves out versions already tested; PYTEST_ARGS replaces the tier filter.
test-pythons:
	.ci/test-pythons

# mypy on src/ffikit (config: [tool.mypy] in pyproject.toml)
typecheck: $(STAMP)
	$(VENV)/bin/mypy

# sdist and wheel into dist/, checked by twine; then .ci/check-dist runs the sdist's
# tests from its unpacked tree and `ffikit demo` from the wheel in a fresh venv.
dist: $(STAMP)
	rm -rf dist
	$(PY) -m build --outdir dist .
	$(VENV)/bin/twine check --strict dist/*
	.ci/check-dist

# The API reference from the docstrings (MkDocs + mkdocstrings) into site/; warnings fail.
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

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
	FFIKIT_FUZZ_EXAMPLES=$(FFIKIT_FUZZ_EXAMPLES) $(PY) -m pytest tests/fuzz tests/memory/test_fuzz_memory.py -v

# Development headers the real-library tests use (tests/realworld/): header:package.
# Installed with apt-get (an `apt-get update` first if the package lists are stale)
# where a header is missing, as root or through sudo; the log goes to
# $(SYSTEM_DEPS_LOG), only its tail is shown on failure.  Where apt-get is absent
# those tests skip and say why; where it is present they fail naming the package.
SYSTEM_DEPS := openssl/evp.h:libssl-dev uuid/uuid.h:uuid-dev bzlib.h:libbz2-dev \
	lzma.h:liblzma-dev sqlite3.h:libsqlite3-dev zlib.h:zlib1g-dev png.h:libpng-dev \
	sodium.h:libsodium-dev yaml.h:libyaml-dev curl/curl.h:libcurl4-openssl-dev \
	zstd.h:libzstd-dev lz4.h:liblz4-dev expat.h:libexpat1-dev uv.h:libuv1-dev \
	cjson/cJSON.h:libcjson-dev git2.h:libgit2-dev turbojpeg.h:libturbojpeg0-dev \
	gmp.h:libgmp-dev archive.h:libarchive-dev libxml/parser.h:libxml2-dev pcre2.h:libpcre2-dev
SYSTEM_DEPS_LOG ?= /tmp/ffikit-system-deps.log
system-deps:
	@missing=""; for dep in $(SYSTEM_DEPS); do \
	    header=$${dep%%:*}; package=$${dep##*:}; \
	    echo "#include <$$header>" | $${CC:-cc} -fsyntax-only -DPCRE2_CODE_UNIT_WIDTH=8 \
	        -I/usr/include/libxml2 -x c - 2>/dev/null || missing="$$missing $$package"; \
	done; \
	if [ -z "$$missing" ]; then echo "system-deps: every header is installed"; \
	elif ! command -v apt-get >/dev/null; then \
	    echo "system-deps: missing$$missing, and no apt-get: those tests will skip"; \
	else \
	    sudo=""; [ "$$(id -u)" = 0 ] || sudo="sudo -n"; \
	    echo "system-deps: apt-get install$$missing (log: $(SYSTEM_DEPS_LOG))"; \
	    install="$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends$$missing"; \
	    { $$install || { $$sudo apt-get update -q && $$install; }; } >$(SYSTEM_DEPS_LOG) 2>&1 \
	        || { tail -n 5 $(SYSTEM_DEPS_LOG); \
	             echo "system-deps: apt-get failed: the tests needing$$missing will fail"; }; \
	fi

# Which headers under /usr/include gcc compiles alone, which ffikit parses (or why not) and
# binds, and the functions and constants each gives.
HEADERS_DIR ?= /usr/include
headers: $(STAMP)
	$(PY) -m ffikit check-headers --per-header $(HEADERS_DIR)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples

clean:
	rm -rf $(VENV) .venv-3.* build dist site *.egg-info src/*.egg-info demo-out
