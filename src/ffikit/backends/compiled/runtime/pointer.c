/* Pointer arguments: None, buffers, ctypes objects and callbacks, decided per argument type.
 *
 * The Python classifier (classify.py) answers once per (parameter, exact argument type)
 * and the answer is cached in the function object: a buffer-protocol object of a plain type
 * (PyObject_GetBuffer with the right flags, released after the call), a ctypes object by
 * address or by the pointer it holds, an ffikit.callback's thunk, ffikit memory's region,
 * a slot of a C callback pool lent to a plain callable (lend.c).
 * Each case also says how many bytes C may reach through the pointer (its extent), for
 * the size relations checks.c applies.
 */

/* ctypes' function-pointer base class, given by setup(): what a callback's thunk must be. */
static PyTypeObject *ffk_cfuncptr = NULL;
static PyObject *ffk_str_thunk = NULL;    /* "thunk", interned */
static PyObject *ffk_str_fp_type = NULL;  /* "fp_type" */
static PyObject *ffk_str_slot = NULL;     /* "_slot": None once the callback was released */
static PyObject *ffk_str_policy = NULL;   /* "__ffikit_policy__" */
static PyObject *ffk_str_failed = NULL;   /* "failed": such a policy's (result, function, errno) */
static PyObject *ffk_empty = NULL;        /* () for tp_new */

static PyObject *
ffk_setup(PyObject *module, PyObject *cfuncptr)
{
    (void)module;
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
    if (ffk_str_policy == NULL && (ffk_str_policy = PyUnicode_InternFromString("__ffikit_policy__")) == NULL)
        return NULL;
    if (ffk_str_failed == NULL && (ffk_str_failed = PyUnicode_InternFromString("failed")) == NULL)
        return NULL;
    if (ffk_empty == NULL && (ffk_empty = PyTuple_New(0)) == NULL)
        return NULL;
    if (ffk_str_keep == NULL && (ffk_str_keep = PyUnicode_InternFromString("_ffikit_keep")) == NULL)
        return NULL;
    Py_INCREF(cfuncptr);
    Py_XSETREF(ffk_cfuncptr, (PyTypeObject *)cfuncptr);
    Py_RETURN_NONE;
}

FFK_FN int
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
    if (mode < FFK_SLOW || mode > FFK_LEND) {
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

/* An ffikit.callback of exactly the parameter's type, alive: its thunk's C address. */
static int
ffk_thunk(ffk_func *self, int index, PyObject *o, void **out)
{
    /* Only a live callback made with exactly the parameter's type goes fast; a
       released one, or another (even compatible) signature, is the slow path's call. */
    PyObject *have, *slot, *thunk;
    int ok;
    if (ffk_str_thunk == NULL || (have = PyObject_GetAttr(o, ffk_str_fp_type)) == NULL) {
        PyErr_Clear();
        return 0;
    }
    ok = have == PyList_GET_ITEM(self->fptypes, index);  /* (read after o's code ran) */
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
    *out = **(void ***)((char *)thunk + self->bptr);  /* the callback object holds the thunk */
    Py_DECREF(thunk);
    return 1;
}

/* 1: *out is what C gets (and *held says view must be released), *extent the bytes C may
   reach through it (FFK_EXT_*); 0: take the slow path. */
FFK_FN int
ffk_pointer(ffk_func *self, int index, PyObject *o, const ffk_pspec *spec,
            void **out, Py_buffer *view, int *held, long long *extent)
{
    int mode;
    *extent = FFK_EXT_ASK;
    if (o == Py_None) {
        *out = NULL;
        *extent = FFK_EXT_NONE;
        return !spec->nonnull;
    }
    if (spec->cstring) {
        if (spec->is_const && PyBytes_CheckExact(o)) {
            const char *data = PyBytes_AS_STRING(o);
            if (memchr(data, 0, (size_t)PyBytes_GET_SIZE(o)) != NULL)
                return 0;
            *out = (void *)data;
            *extent = PyBytes_GET_SIZE(o);
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
        *held = FFK_HELD_VIEW;
        if ((view->readonly && !spec->is_const) || !PyBuffer_IsContiguous(view, 'C')
            || !(spec->items_of > 0 ? ffk_items_ok(view, spec->items_of)
                                    : ffk_format_ok(view->format, spec->formats)))
            return 0;
        *out = view->buf;
        *extent = view->len;
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
    if (mode == FFK_THUNK)
        return ffk_thunk(self, index, o, out);
    if (mode == FFK_LEND) {
        *extent = FFK_EXT_NONE;
        return ffk_lend(self, index, o, out, view, held);
    }
    return 0;
}
