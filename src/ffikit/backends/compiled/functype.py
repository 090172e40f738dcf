"""C text of ``ffikit.CompiledFunction``, the object a generated module makes per bound function.

Appended to :data:`~ffikit.backends.compiled.runtime.RUNTIME` (it uses the
``ffk_func`` struct defined there).  The object is callable through the
vectorcall slot (its wrapper is chosen per shape by ``make()``), supports GC
and weak references, keeps attributes in a ``__dict__`` (``__name__``,
``declaration``, ``source``, ``cfunc``), and exposes ``errors`` -- the error
policy, kept in step with the ctypes backend's wrapper -- and ``python``, that
wrapper itself (built on first need).
"""

from __future__ import annotations

__all__ = ["FUNCTION_TYPE"]

# %-formatted together with RUNTIME: a literal percent sign is written %%.
FUNCTION_TYPE = r"""
/* ---- the function object ------------------------------------------------------------ */

static int
ffk_func_traverse(ffk_func *self, visitproc visit, void *arg)
{
    int k;
    Py_VISIT(self->slow);
    Py_VISIT(self->make_slow);
    Py_VISIT(self->errors);
    Py_VISIT(self->classify);
    Py_VISIT(self->result);
    Py_VISIT(self->fptypes);
    Py_VISIT(self->dict);
    if (self->seen != NULL)
        for (k = 0; k < self->nparams * FFK_SEEN; k++)
            Py_VISIT((PyObject *)self->seen[k].type);
    return 0;
}

static int
ffk_func_clear(ffk_func *self)
{
    int k;
    Py_CLEAR(self->slow);
    Py_CLEAR(self->make_slow);
    Py_CLEAR(self->errors);
    Py_CLEAR(self->classify);
    Py_CLEAR(self->result);
    Py_CLEAR(self->fptypes);
    Py_CLEAR(self->dict);
    if (self->seen != NULL)
        for (k = 0; k < self->nparams * FFK_SEEN; k++)
            Py_CLEAR(self->seen[k].type);
    return 0;
}

static void
ffk_func_dealloc(ffk_func *self)
{
    PyObject_GC_UnTrack(self);
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs((PyObject *)self);
    ffk_func_clear(self);
    PyMem_Free(self->seen);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
ffk_func_repr(ffk_func *self)
{
    PyObject *text = self->dict ? PyDict_GetItemString(self->dict, "__ffikit_repr__") : NULL;
    PyObject *name = self->dict ? PyDict_GetItemString(self->dict, "__name__") : NULL;
    if (text != NULL && PyUnicode_Check(text)) {  /* a bound function says where it is from */
        Py_INCREF(text);
        return text;
    }
    if (name == NULL)
        return PyUnicode_FromString("<ffikit compiled function>");
    return PyUnicode_FromFormat("<ffikit compiled function %%S>", name);
}

static PyObject *
ffk_get_errors(ffk_func *self, void *closure)
{
    Py_INCREF(self->errors);
    return self->errors;
}

static int
ffk_set_errors(ffk_func *self, PyObject *value, void *closure)
{
    if (value == NULL)
        value = Py_None;
    if (self->slow != NULL && PyObject_SetAttrString(self->slow, "errors", value) < 0)
        return -1;
    Py_INCREF(value);
    Py_SETREF(self->errors, value);
    return 0;
}

static PyObject *
ffk_get_slow(ffk_func *self, void *closure)
{
    PyObject *slow = ffk_slow_wrapper(self);
    Py_XINCREF(slow);
    return slow;
}

static PyObject *
ffk_reduce(ffk_func *self, PyObject *unused)
{
    PyObject *hook = self->dict ? PyDict_GetItemString(self->dict, "__ffikit_reduce__") : NULL;
    if (hook == NULL) {
        PyErr_SetString(PyExc_TypeError, "cannot pickle a compiled function not bound to a library");
        return NULL;
    }
    return PyObject_CallOneArg(hook, (PyObject *)self);
}

static PyMethodDef ffk_func_methods[] = {
    {"__reduce__", (PyCFunction)ffk_reduce, METH_NOARGS, "pickle as (library, name)"},
    {NULL}
};

static PyGetSetDef ffk_func_getset[] = {
    {"errors", (getter)ffk_get_errors, (setter)ffk_set_errors, "the error policy (None: none)", NULL},
    {"python", (getter)ffk_get_slow, NULL, "the ctypes backend's wrapper for the same function", NULL},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL}
};

static PyTypeObject ffk_func_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ffikit.CompiledFunction",
    .tp_basicsize = sizeof(ffk_func),
    .tp_dealloc = (destructor)ffk_func_dealloc,
    .tp_vectorcall_offset = offsetof(ffk_func, vectorcall),
    .tp_repr = (reprfunc)ffk_func_repr,
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "A C function called through ffikit's compiled backend.",
    .tp_traverse = (traverseproc)ffk_func_traverse,
    .tp_clear = (inquiry)ffk_func_clear,
    .tp_weaklistoffset = offsetof(ffk_func, weakrefs),
    .tp_getset = ffk_func_getset,
    .tp_methods = ffk_func_methods,
    .tp_dictoffset = offsetof(ffk_func, dict),
};
"""
