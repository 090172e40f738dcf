"""import_extension: a cached C extension imported from its path, under its own name."""

from __future__ import annotations

import sysconfig

import pytest

from ffikit.backends.compiled.extload import import_extension
from ffikit.build import build

SOURCE = """
#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *unused) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "%s", NULL, -1, methods};
PyMODINIT_FUNC PyInit_%s(void) { return PyModule_Create(&def); }
"""


def _built(name: str, tmp_path) -> str:
    return build(SOURCE % (name, name), name, include_dirs=[sysconfig.get_paths()["include"]],
                 cache_dir=tmp_path)


def test_imports_the_module_at_the_path(tmp_path):
    path = _built("_ffikit_extload_probe", tmp_path)
    module = import_extension("_ffikit_extload_probe", path)
    assert module.answer() == 42
    assert module.__file__ == path


def test_a_file_that_is_not_that_extension_is_refused(tmp_path):
    path = _built("_ffikit_extload_other", tmp_path)
    with pytest.raises(ImportError):  # no PyInit__ffikit_extload_wrong in it
        import_extension("_ffikit_extload_wrong", path)
    text = tmp_path / "plain.so"
    text.write_text("not an ELF file")
    with pytest.raises(ImportError):
        import_extension("_ffikit_extload_plain", str(text))
