/* ffikit compiled backend: the common cases of ffikit.view and ffikit.alloc in C.
 *
 * A module of its own (not part of the per-signature wrapper modules): one fixed source,
 * built once per Python ABI in the background and imported from the cache by later
 * processes (ffikit.backends.compiled.fastmem).  Each function handles only the call
 * shape the Python function's own fast path handles -- positional arguments, a type text
 * seen before, a plain buffer -- using the very caches the Python code fills; anything
 * else, and any doubt, is handed to the Python function, which checks and explains.
 * So both paths give the same objects and the same refusals.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject *plain;        /* set: exact types that are plain buffers (views.PLAIN_TYPES) */
    PyObject *view_cache;   /* dict: type text -> (view type, size, alignment) */
    PyObject *open_cache;   /* dict: 'T[]' text -> {byte size: (from_buffer, alignment)} */
    PyObject *view;         /* the Python ffikit.view */
    PyObject *heap_cache;   /* dict: item type -> (spec, item size, export format or None) */
    PyObject *memory_type;  /* ffikit.Memory */
    PyObject *tracking;     /* ffikit.memory.tracking: its ACTIVE flag sends alloc to Python */
    PyObject *alloc;        /* the Python ffikit.alloc */
    Py_ssize_t bptr;        /* offset of a ctypes object's data pointer */
    Py_ssize_t heap_max;    /* bytes: above this, alloc takes pages (Python's path) */
} fastmem_state;

static fastmem_state st = {NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, -1, 0};
static PyObject *str_from_buffer, *str_cast, *str_active, *str_target, *str_spec, *str_size;

/* The view `maker(obj)` made, if its data is `align`-aligned; else NULL (Python explains). */
static PyObject *
fastmem_aligned(PyObject *maker, int method, PyObject *obj, Py_ssize_t align)
{
    PyObject *result;
    if (align <= 0)
        return NULL;
    result = method ? PyObject_CallMethodOneArg(maker, str_from_buffer, obj)
                    : PyObject_CallOneArg(maker, obj);
    if (result != NULL) {
        uintptr_t address = (uintptr_t)*(void **)((char *)result + st.bptr);
        if (address % (uintptr_t)align == 0)
            return result;
        Py_DECREF(result);
    }
    return NULL;
}

/* 'T[]' of a plain buffer whose byte size was seen before: the cached (T * n).from_buffer. */
static PyObject *
fastmem_open_view(PyObject *obj, PyObject *ctype)
{
    PyObject *sizes = PyDict_GetItemWithError(st.open_cache, ctype), *key, *entry, *result = NULL;
    Py_buffer view;
    if (sizes == NULL || !PyDict_CheckExact(sizes))
        return NULL;
    if (PyObject_GetBuffer(obj, &view, PyBUF_SIMPLE) < 0)
        return NULL;  /* not contiguous, released, closed: Python's words */
    key = PyLong_FromSsize_t(view.len);
    PyBuffer_Release(&view);
    if (key == NULL)
        return NULL;
    Py_INCREF(sizes);
    entry = PyDict_GetItemWithError(sizes, key);
    Py_DECREF(key);
    if (entry != NULL && PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) == 2) {
        Py_INCREF(entry);  /* (an export may run code that changes the cache) */
        result = fastmem_aligned(PyTuple_GET_ITEM(entry, 0), 0, obj,
                                 PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 1)));
        Py_DECREF(entry);
    }
    Py_DECREF(sizes);
    return result;
}

/* ffikit.view(obj, ctype): a plain buffer viewed as a type text seen before. */
static PyObject *
fastmem_view(PyObject *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    (void)self;
    if (st.view == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ffikit fastmem: setup() was not called");
        return NULL;
    }
    if (nargs == 2 && kwnames == NULL && st.bptr >= 0
        && PySet_Contains(st.plain, (PyObject *)Py_TYPE(args[0])) == 1) {
        PyObject *entry = PyDict_GetItemWithError(st.view_cache, args[1]), *result = NULL;
        if (entry != NULL && PyTuple_CheckExact(entry) && PyTuple_GET_SIZE(entry) == 3) {
            Py_INCREF(entry);
            result = fastmem_aligned(PyTuple_GET_ITEM(entry, 0), 1, args[0],
                                     PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 2)));
            Py_DECREF(entry);
        } else if (entry == NULL && !PyErr_Occurred()) {
            result = fastmem_open_view(args[0], args[1]);
        }
        if (result != NULL)
            return result;
    }
    PyErr_Clear();  /* unhashable text, a too-small buffer, misaligned...: Python's words */
    return PyObject_Vectorcall(st.view, args, nargsf, kwnames);
}

/* ffikit.alloc(ctype[, count]): heap memory of an item type seen before. */
static PyObject *
fastmem_alloc(PyObject *self, PyObject *const *args, Py_ssize_t nargsf, PyObject *kwnames)
{
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf), count = 1, item_size, size;
    PyObject *entry, *active, *target, *exported, *mem, *format;
    int tracked;
    (void)self;
    if (st.alloc == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "ffikit fastmem: setup() was not called");
        return NULL;
    }
    if (kwnames != NULL || nargs < 1 || nargs > 2)
        goto python;
    if (nargs == 2) {
        if (!PyLong_CheckExact(args[1]))
            goto python;
        count = PyLong_AsSsize_t(args[1]);
        if (count < 1)
            goto python;  /* (an overflow error is cleared below) */
    }
    entry = PyDict_GetItemWithError(st.heap_cache, args[0]);
    if (entry == NULL || !PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 3)
        goto python;
    item_size = PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 1));
    if (item_size < 1 || count > st.heap_max / item_size)
        goto python;
    active = PyObject_GetAttr(st.tracking, str_active);
    tracked = active == NULL ? -1 : PyObject_IsTrue(active);
    Py_XDECREF(active);
    if (tracked != 0)
        goto python;  /* tracking records each allocation: Python's path does that */
    size = item_size * count;
    Py_INCREF(entry);  /* (allocating may collect garbage, whose finalizers may change the cache) */
    target = PyByteArray_FromStringAndSize(NULL, size);
    if (target == NULL) {
        Py_DECREF(entry);
        goto python;  /* Python's path raises OutOfMemory */
    }
    memset(PyByteArray_AS_STRING(target), 0, (size_t)size);
    format = PyTuple_GET_ITEM(entry, 2);
    if (format == Py_None) {
        exported = Py_NewRef(target);
    } else {  /* memoryview(m) typed as the items (typed_exports.exported_as_items) */
        PyObject *raw = PyMemoryView_FromObject(target);
        exported = raw == NULL ? NULL : PyObject_CallMethodOneArg(raw, str_cast, format);
        Py_XDECREF(raw);
    }
    mem = exported == NULL ? NULL : PyObject_CallOneArg(st.memory_type, exported);
    Py_XDECREF(exported);
    if (mem == NULL || PyObject_SetAttr(mem, str_target, target) < 0
        || PyObject_SetAttr(mem, str_spec, PyTuple_GET_ITEM(entry, 0)) < 0) {
        Py_XDECREF(mem);
        Py_DECREF(target);
        Py_DECREF(entry);
        return NULL;
    }
    Py_DECREF(target);
    Py_DECREF(entry);
    {
        PyObject *nbytes = PyLong_FromSsize_t(size);
        if (nbytes == NULL || PyObject_SetAttr(mem, str_size, nbytes) < 0) {
            Py_XDECREF(nbytes);
            Py_DECREF(mem);
            return NULL;
        }
        Py_DECREF(nbytes);
    }
    return mem;
python:
    PyErr_Clear();
    return PyObject_Vectorcall(st.alloc, args, nargsf, kwnames);
}

static PyObject *
fastmem_setup(PyObject *module, PyObject *args)
{
    PyObject *plain, *view_cache, *open_cache, *view, *heap_cache, *memory_type, *tracking, *alloc;
    Py_ssize_t bptr, heap_max;
    (void)module;
    if (!PyArg_ParseTuple(args, "O!O!O!OO!O!OOnn", &PySet_Type, &plain, &PyDict_Type, &view_cache,
                          &PyDict_Type, &open_cache, &view, &PyDict_Type, &heap_cache, &PyType_Type,
                          &memory_type, &tracking, &alloc, &bptr, &heap_max))
        return NULL;
    Py_XSETREF(st.plain, Py_NewRef(plain));
    Py_XSETREF(st.view_cache, Py_NewRef(view_cache));
    Py_XSETREF(st.open_cache, Py_NewRef(open_cache));
    Py_XSETREF(st.view, Py_NewRef(view));
    Py_XSETREF(st.heap_cache, Py_NewRef(heap_cache));
    Py_XSETREF(st.memory_type, Py_NewRef(memory_type));
    Py_XSETREF(st.tracking, Py_NewRef(tracking));
    Py_XSETREF(st.alloc, Py_NewRef(alloc));
    st.bptr = bptr;
    st.heap_max = heap_max;
    Py_RETURN_NONE;
}

static PyMethodDef fastmem_methods[] = {
    {"setup", fastmem_setup, METH_VARARGS,
     "setup(plain types, view cache, open-array cache, view, heap cache, Memory, tracking, alloc, "
     "bptr, heap max)"},
    {"view", (PyCFunction)(void (*)(void))fastmem_view, METH_FASTCALL | METH_KEYWORDS,
     "ffikit.view's common case in C; everything else is the Python ffikit.view"},
    {"alloc", (PyCFunction)(void (*)(void))fastmem_alloc, METH_FASTCALL | METH_KEYWORDS,
     "ffikit.alloc's common case in C; everything else is the Python ffikit.alloc"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef fastmem_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = FASTMEM_NAME,
    .m_doc = "ffikit.view and ffikit.alloc: their common cases in C",
    .m_size = -1,
    .m_methods = fastmem_methods,
};

static PyObject *
fastmem_init(void)
{
    PyObject *m;
#define INTERN(var, text) if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL
    INTERN(str_from_buffer, "from_buffer");
    INTERN(str_cast, "cast");
    INTERN(str_active, "ACTIVE");
    INTERN(str_target, "_target");
    INTERN(str_spec, "_spec");
    INTERN(str_size, "_size");
#undef INTERN
    m = PyModule_Create(&fastmem_module);
#ifdef Py_GIL_DISABLED
    if (m != NULL && PyUnstable_Module_SetGIL(m, Py_MOD_GIL_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
