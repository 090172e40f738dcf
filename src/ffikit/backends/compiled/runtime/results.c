/* Results built in C: pointers, structs and unions as the same ctypes objects ctypes returns.
 *
 * A typed pointer, a void * (ffikit's c_void_p subclass) and a struct or union result are
 * instances of the ctypes class make() was given, created by that class's tp_new (as
 * ctypes itself creates results: no __init__) with C's bytes copied into the object's own
 * storage.  A result the declaration says the caller owns (malloc (dealloc, i)) is then
 * handed to its owner maker, as the ctypes backend does.
 */

/* An instance of ctypes class `type` holding `size` bytes from `data`. */
static PyObject *
ffk_ctypes_from(ffk_func *self, PyObject *type, const void *data, size_t size)
{
    PyTypeObject *tp = (PyTypeObject *)type;
    PyObject *o;
    if (!PyType_Check(type) || tp->tp_new == NULL) {
        PyErr_SetString(PyExc_TypeError, "no ctypes class to build this result as");
        return NULL;
    }
    o = tp->tp_new(tp, ffk_empty, NULL);
    if (o == NULL)
        return NULL;
    if (!PyObject_TypeCheck(o, tp)) {
        Py_DECREF(o);
        PyErr_Format(PyExc_TypeError, "%s() made another type", tp->tp_name);
        return NULL;
    }
    memcpy(*(void **)((char *)o + self->bptr), data, size);
    return o;
}

static PyObject *
ffk_owned(ffk_func *self, PyObject *r)
{
    PyObject *owned;
    if (r == NULL || self->own == Py_None)
        return r;
    owned = PyObject_CallOneArg(self->own, r);
    Py_DECREF(r);
    return owned;
}

/* A pointer result's class may be given as a function that makes it (binding builds no
 * ctypes class): called at the first result, and the class kept in its place. */
FFK_FN PyObject *
ffk_pointer_result(ffk_func *self, void *p)
{
    PyObject *type = self->result, *out;
    if (PyType_Check(type))
        return ffk_owned(self, ffk_ctypes_from(self, type, &p, sizeof p));
    type = PyObject_CallNoArgs(type);
    if (type == NULL)
        return NULL;
    if (PyType_Check(type)) {
        Py_INCREF(type);
        Py_SETREF(self->result, type);
    }
    out = ffk_owned(self, ffk_ctypes_from(self, type, &p, sizeof p));
    Py_DECREF(type);
    return out;
}

FFK_FN PyObject *
ffk_struct_result(ffk_func *self, const void *p, size_t size)
{
    return ffk_ctypes_from(self, self->result, p, size);
}

FFK_FN PyObject *
ffk_string_result(const char *p)
{
    if (p == NULL)
        Py_RETURN_NONE;
    return PyBytes_FromString(p);
}
