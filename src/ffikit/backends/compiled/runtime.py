"""The C every generated extension module starts with: the function object and its helpers.

:data:`RUNTIME` is C source text.  It defines ``ffk_func``, a callable object
with the vectorcall protocol that a generated module makes one of per bound C
function, and the small inline converters each generated wrapper uses:

* ``ffk_int``/``ffk_uint64``/``ffk_double``/``ffk_float``: exact ``int`` /
  ``float`` arguments within the C type's range (the boundary rules' fast case);
* ``ffk_pointer``: ``None`` -> NULL, a buffer-protocol object of a plain type
  (``PyObject_GetBuffer`` with the right flags, released after the call), or a
  ctypes object by address, decided per argument *type* by the Python
  classifier and cached in the object;
* ``ffk_slow``: everything else goes, with the original arguments, to the
  ctypes backend's generated wrapper for the same function, so every refusal
  is raised by the same code, word for word.

Nothing here raises on a mismatch: a converter returns 0 and the wrapper
hands the call to the slow path.
"""

from __future__ import annotations

from ffikit.backends.compiled.functype import FUNCTION_TYPE

__all__ = ["RUNTIME", "SEEN"]

SEEN = 4  # argument types remembered per pointer parameter

RUNTIME = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <float.h>
#include <errno.h>

#define FFK_SEEN %(seen)d

typedef struct { PyTypeObject *type; int mode; } ffk_seen;

/* A pointer parameter's rule: const-ness and the buffer formats it takes as they are. */
typedef struct {
    int is_const;
    int cstring;             /* plain char: only NUL-free bytes go fast */
    const char *const *formats;  /* NULL: any format (raw bytes) */
    Py_ssize_t items_of;     /* >0: structs/pointers: items of this size, format T{...}, P or & */
    int nonnull;             /* declared nonnull: None and NULL pointers take the slow path */
} ffk_pspec;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    void *cfn;               /* the C function */
    PyObject *slow;          /* the ctypes backend's wrapper, made on first need */
    PyObject *make_slow;     /* () -> that wrapper */
    PyObject *errors;        /* the error policy, or None */
    PyObject *classify;      /* (index, type) -> mode */
    PyObject *result;        /* int -> pointer result object, or None */
    PyObject *fptypes;       /* per parameter: the ctypes function-pointer type, or None */
    PyObject *dict;
    PyObject *weakrefs;
    Py_ssize_t bptr;         /* offset of a ctypes object's data pointer; -1: unknown */
    int nparams;
    ffk_seen *seen;          /* FFK_SEEN per parameter */
} ffk_func;

/* The compiled function running C on this thread (callbacks park exceptions on it). */
static _Thread_local ffk_func *ffk_current = NULL;

/* After C returns: a policy, or an exception a callback parked (see callbacks.py). */
static PyObject *
ffk_after(ffk_func *self, PyObject *result, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *tuple, *out;
    Py_ssize_t k;
    if (result == NULL || self->errors == Py_None)
        return result;
    tuple = PyTuple_New(nargs);
    if (tuple == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    for (k = 0; k < nargs; k++) {
        Py_INCREF(args[k]);
        PyTuple_SET_ITEM(tuple, k, args[k]);
    }
    out = PyObject_CallFunctionObjArgs(self->errors, result, (PyObject *)self, tuple, NULL);
    Py_DECREF(tuple);
    Py_DECREF(result);
    return out;
}

static PyObject *
ffk_current_call(PyObject *module, PyObject *unused)
{
    PyObject *f = (PyObject *)ffk_current;
    if (f == NULL)
        Py_RETURN_NONE;
    Py_INCREF(f);
    return f;
}

/* ctypes' private errno copy (libraries are loaded with use_errno=True): the same swap
   before and after the call that ctypes does, so ctypes.get_errno() and check.errno read
   what C left.  Found in the thread-state dict under ctypes' key; enabled only after the
   Python side checked, at import, that it finds the value ctypes.set_errno() put there. */
static int ffk_errno_enabled = 0;
static PyObject *ffk_errno_key = NULL;

static int *
ffk_errno_space(void)
{
    PyObject *dict, *capsule;
    if (!ffk_errno_enabled)
        return NULL;
    dict = PyThreadState_GetDict();
    if (dict == NULL)
        return NULL;
    capsule = PyDict_GetItemWithError(dict, ffk_errno_key);
    if (capsule == NULL) {
        PyObject *ctypes, *r;
        if (PyErr_Occurred()) {
            PyErr_Clear();
            return NULL;
        }
        ctypes = PyImport_ImportModule("ctypes");  /* ctypes makes it on first use per thread */
        r = ctypes ? PyObject_CallMethod(ctypes, "get_errno", NULL) : NULL;
        Py_XDECREF(ctypes);
        Py_XDECREF(r);
        capsule = r ? PyDict_GetItemWithError(dict, ffk_errno_key) : NULL;
        if (capsule == NULL) {
            PyErr_Clear();
            return NULL;
        }
    }
    return (int *)PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule));
}

#define FFK_SWAP_ERRNO(space) if (space) { int t_ = (space)[0]; (space)[0] = errno; errno = t_; }

static PyObject *
ffk_errno_probe(PyObject *module, PyObject *enable)
{
    int *space;
    if (ffk_errno_key == NULL && (ffk_errno_key = PyUnicode_InternFromString("ctypes.error_object")) == NULL)
        return NULL;
    ffk_errno_enabled = 1;
    space = ffk_errno_space();
    ffk_errno_enabled = PyObject_IsTrue(enable) && space != NULL;
    if (space == NULL)
        Py_RETURN_NONE;
    return PyLong_FromLong(space[0]);
}

/* ctypes' function-pointer base class, given by setup(): what a callback's thunk must be. */
static PyTypeObject *ffk_cfuncptr = NULL;
static PyObject *ffk_str_thunk = NULL;  /* "thunk", interned */
static PyObject *ffk_str_fp_type = NULL;  /* "fp_type" */
static PyObject *ffk_str_slot = NULL;  /* "_slot": None once the callback was released */

static PyObject *
ffk_setup(PyObject *module, PyObject *cfuncptr)
{
    if (!PyType_Check(cfuncptr)) {
        PyErr_SetString(PyExc_TypeError, "setup() needs ctypes' function pointer class");
        return NULL;
    }
    if (ffk_str_thunk == NULL && (ffk_str_thunk = PyUnicode_InternFromString("thunk")) == NULL)
        return NULL;
    if (ffk_str_fp_type == NULL && (ffk_str_fp_type = PyUnicode_InternFromString("fp_type")) == NULL)
        return NULL;
    if (ffk_str_slot == NULL && (ffk_str_slot = PyUnicode_InternFromString("_slot")) == NULL)
        return NULL;
    Py_INCREF(cfuncptr);
    Py_XSETREF(ffk_cfuncptr, (PyTypeObject *)cfuncptr);
    Py_RETURN_NONE;
}

/* modes a classifier gives an argument type */
#define FFK_SLOW 0
#define FFK_BUFFER 1
#define FFK_ADDRESS 2
#define FFK_VALUE 3
#define FFK_THUNK 4   /* an ffikit.callback: its .thunk is the C function pointer */
#define FFK_REGION 5  /* ffikit memory: the buffer its __ffikit_region__() gives */

/* The ctypes backend's wrapper for this function, made on first need (borrowed; NULL
   with an exception set on failure).  Another thread may make it too: one wins. */
static PyObject *
ffk_slow_wrapper(ffk_func *self)
{
    if (self->slow == NULL) {
        PyObject *slow = PyObject_CallNoArgs(self->make_slow);
        if (slow == NULL)
            return NULL;
        if (self->slow == NULL) {
            if (PyObject_SetAttrString(slow, "errors", self->errors) < 0) {
                Py_DECREF(slow);
                return NULL;
            }
            self->slow = slow;
        } else {
            Py_DECREF(slow);
        }
    }
    return self->slow;
}

static PyObject *
ffk_slow(ffk_func *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *slow = ffk_slow_wrapper(self);
    return slow == NULL ? NULL : PyObject_Vectorcall(slow, args, nargsf, kwnames);
}

static inline int
ffk_int(PyObject *o, long long lo, long long hi, long long *out)
{
    int overflow;
    long long v;
    if (!PyLong_CheckExact(o))
        return 0;
    v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow)
        return 0;
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static inline int
ffk_uint64(PyObject *o, unsigned long long *out)
{
    unsigned long long v;
    if (!PyLong_CheckExact(o))
        return 0;
    v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = v;
    return 1;
}

static inline int
ffk_double(PyObject *o, double *out)
{
    if (PyFloat_CheckExact(o)) {
        *out = PyFloat_AS_DOUBLE(o);
        return 1;
    }
    if (PyLong_CheckExact(o)) {
        double d = PyLong_AsDouble(o);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        *out = d;
        return 1;
    }
    return 0;
}

static inline int
ffk_float(PyObject *o, float *out)
{
    double d;
    if (!ffk_double(o, &d))
        return 0;
    if (fabs(d) > FLT_MAX && d != INFINITY)  /* the rules refuse it (even -inf): the slow path says so */
        return 0;
    *out = (float)d;
    return 1;
}

static int
ffk_mode(ffk_func *self, int index, PyTypeObject *type)
{
    ffk_seen *seen = self->seen + (Py_ssize_t)index * FFK_SEEN;
    PyObject *answer;
    long mode;
    int k;
    for (k = 0; k < FFK_SEEN && seen[k].type != NULL; k++)
        if (seen[k].type == type)
            return seen[k].mode;
    answer = PyObject_CallFunction(self->classify, "iO", index, (PyObject *)type);
    if (answer == NULL) {
        PyErr_Clear();
        return FFK_SLOW;
    }
    mode = PyLong_AsLong(answer);
    Py_DECREF(answer);
    if (mode < FFK_SLOW || mode > FFK_REGION) {
        PyErr_Clear();
        mode = FFK_SLOW;
    }
    if (mode >= FFK_ADDRESS && mode <= FFK_THUNK && self->bptr < 0)
        mode = FFK_SLOW;
    /* The classifier ran Python code: another thread may have filled slots meanwhile. */
    for (k = 0; k < FFK_SEEN && seen[k].type != NULL; k++)
        if (seen[k].type == type)
            return seen[k].mode;
    if (k < FFK_SEEN) {
        Py_INCREF(type);
        seen[k].type = type;
        seen[k].mode = (int)mode;
    }
    return (int)mode;
}

static inline int
ffk_format_ok(const char *format, const char *const *formats)
{
    if (formats == NULL)
        return 1;
    if (format == NULL)
        format = "B";
    for (; *formats != NULL; formats++)
        if (strcmp(format, *formats) == 0)
            return 1;
    return 0;
}

/* A buffer of structs (or pointers) for a T * parameter: the converter's itemsize rule. */
static inline int
ffk_items_ok(const Py_buffer *view, Py_ssize_t size)
{
    const char *f = view->format ? view->format : "B";
    return view->itemsize == size
        && ((f[0] == 'T' && f[1] == '{') || strcmp(f, "P") == 0 || f[0] == '&');
}

/* 1: *out is what C gets (and *held says view must be released); 0: take the slow path. */
static int
ffk_pointer(ffk_func *self, int index, PyObject *o, const ffk_pspec *spec,
            void **out, Py_buffer *view, int *held)
{
    int mode;
    if (o == Py_None) {
        *out = NULL;
        return !spec->nonnull;
    }
    if (spec->cstring) {
        if (spec->is_const && PyBytes_CheckExact(o)) {
            const char *data = PyBytes_AS_STRING(o);
            if (memchr(data, 0, (size_t)PyBytes_GET_SIZE(o)) != NULL)
                return 0;
            *out = (void *)data;
            return 1;
        }
        return 0;
    }
    mode = ffk_mode(self, index, Py_TYPE(o));
    if (mode == FFK_BUFFER || mode == FFK_REGION) {
        int failed;
        if (mode == FFK_REGION) {  /* the view holds the region's memoryview until released */
            PyObject *region = PyObject_CallMethod(o, "__ffikit_region__", NULL);
            if (region == NULL) {
                PyErr_Clear();
                return 0;
            }
            failed = PyObject_GetBuffer(region, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0;
            Py_DECREF(region);
        } else {
            failed = PyObject_GetBuffer(o, view, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0;
        }
        if (failed) {
            PyErr_Clear();
            return 0;
        }
        *held = 1;
        if ((view->readonly && !spec->is_const) || !PyBuffer_IsContiguous(view, 'C')
            || !(spec->items_of > 0 ? ffk_items_ok(view, spec->items_of)
                                    : ffk_format_ok(view->format, spec->formats)))
            return 0;
        *out = view->buf;
        return 1;
    }
    if (mode == FFK_ADDRESS) {
        *out = *(void **)((char *)o + self->bptr);
        return 1;
    }
    if (mode == FFK_VALUE) {
        *out = **(void ***)((char *)o + self->bptr);
        return *out != NULL || !spec->nonnull;
    }
    if (mode == FFK_THUNK) {  /* the thunk stays alive: the callback object holds it */
        /* Only a live callback made with exactly the parameter's type goes fast; a
           released one, or another (even compatible) signature, is the slow path's call. */
        PyObject *want = PyTuple_GET_ITEM(self->fptypes, index), *have, *slot, *thunk;
        int ok;
        if (ffk_str_thunk == NULL || (have = PyObject_GetAttr(o, ffk_str_fp_type)) == NULL) {
            PyErr_Clear();
            return 0;
        }
        ok = have == want;
        Py_DECREF(have);
        if (!ok || (slot = PyObject_GetAttr(o, ffk_str_slot)) == NULL) {
            PyErr_Clear();
            return 0;
        }
        ok = slot != Py_None;
        Py_DECREF(slot);
        if (!ok || (thunk = PyObject_GetAttr(o, ffk_str_thunk)) == NULL) {
            PyErr_Clear();
            return 0;
        }
        if (ffk_cfuncptr == NULL || !PyObject_TypeCheck(thunk, ffk_cfuncptr)) {
            Py_DECREF(thunk);  /* not a ctypes function pointer (someone replaced it) */
            return 0;
        }
        *out = **(void ***)((char *)thunk + self->bptr);
        Py_DECREF(thunk);
        return 1;
    }
    return 0;
}

static PyObject *
ffk_pointer_result(ffk_func *self, void *p)
{
    PyObject *address = PyLong_FromVoidPtr(p), *r;
    if (address == NULL)
        return NULL;
    r = PyObject_CallOneArg(self->result, address);
    Py_DECREF(address);
    return r;
}

static PyObject *
ffk_struct_result(ffk_func *self, const void *p, size_t size)
{
    PyObject *data = PyBytes_FromStringAndSize((const char *)p, (Py_ssize_t)size), *r;
    if (data == NULL)
        return NULL;
    r = PyObject_CallOneArg(self->result, data);
    Py_DECREF(data);
    return r;
}

static PyObject *
ffk_string_result(const char *p)
{
    if (p == NULL)
        Py_RETURN_NONE;
    return PyBytes_FromString(p);
}

"""

RUNTIME += FUNCTION_TYPE  # the object type, after the helpers it uses
