/* ffikit.CompiledFunction: the object a generated module makes per bound C function.
 *
 * Callable through the vectorcall slot (its wrapper is chosen per shape by make()),
 * supports GC and weak references, keeps attributes in a __dict__ (__name__, declaration,
 * source, cfunc), and exposes `errors` -- the error policy, kept in step with the ctypes
 * backend's wrapper and with the policy code the wrapper tests in C -- and `python`, that
 * wrapper itself (built on first need).
 */

static int
ffk_func_traverse(PyObject *o, visitproc visit, void *arg)
{
    ffk_func *self = (ffk_func *)o;
    int k;
    Py_VISIT(self->slow);
    Py_VISIT(self->make_slow);
    Py_VISIT(self->errors);
    Py_VISIT(self->classify);
    Py_VISIT(self->result);
    Py_VISIT(self->own);
    Py_VISIT(self->fptypes);
    Py_VISIT(self->dict);
    if (self->seen != NULL)
        for (k = 0; k < self->nparams * FFK_SEEN; k++)
            Py_VISIT((PyObject *)self->seen[k].type);
    return 0;
}

static int
ffk_func_clear(PyObject *o)
{
    ffk_func *self = (ffk_func *)o;
    int k;
    Py_CLEAR(self->slow);
    Py_CLEAR(self->make_slow);
    Py_CLEAR(self->errors);
    Py_CLEAR(self->classify);
    Py_CLEAR(self->result);
    Py_CLEAR(self->own);
    Py_CLEAR(self->fptypes);
    Py_CLEAR(self->dict);
    if (self->seen != NULL)
        for (k = 0; k < self->nparams * FFK_SEEN; k++)
            Py_CLEAR(self->seen[k].type);
    return 0;
}

static void
ffk_func_dealloc(PyObject *o)
{
    ffk_func *self = (ffk_func *)o;
    PyObject_GC_UnTrack(o);
    if (self->weakrefs != NULL)
        PyObject_ClearWeakRefs(o);
    ffk_func_clear(o);
    PyMem_Free(self->seen);
    PyMem_Free(self->rels);
    Py_TYPE(o)->tp_free(o);
}

static PyObject *
ffk_func_repr(PyObject *o)
{
    ffk_func *self = (ffk_func *)o;
    PyObject *text = self->dict ? PyDict_GetItemString(self->dict, "__ffikit_repr__") : NULL;
    PyObject *name = self->dict ? PyDict_GetItemString(self->dict, "__name__") : NULL;
    if (text != NULL && PyUnicode_Check(text)) {  /* a bound function says where it is from */
        Py_INCREF(text);
        return text;
    }
    if (name == NULL)
        return PyUnicode_FromString("<ffikit compiled function>");
    return PyUnicode_FromFormat("<ffikit compiled function %S>", name);
}

static PyObject *
ffk_get_errors(PyObject *o, void *closure)
{
    (void)closure;
    return Py_NewRef(((ffk_func *)o)->errors);
}

static int
ffk_set_errors(PyObject *o, PyObject *value, void *closure)
{
    ffk_func *self = (ffk_func *)o;
    (void)closure;
    if (value == NULL)
        value = Py_None;
    if (self->slow != NULL && PyObject_SetAttrString(self->slow, "errors", value) < 0)
        return -1;
    Py_INCREF(value);
    Py_SETREF(self->errors, value);
    self->policy = ffk_policy_of(value);
    return 0;
}

static PyObject *
ffk_get_slow(PyObject *o, void *closure)
{
    PyObject *slow = ffk_slow_wrapper((ffk_func *)o);
    (void)closure;
    Py_XINCREF(slow);
    return slow;
}

static PyObject *
ffk_get_policy(PyObject *o, void *closure)
{
    (void)closure;
    return PyLong_FromLong(((ffk_func *)o)->policy);
}

/* `source` and `__signature__`: what the __dict__ holds when make()'s caller put them there;
 * else asked once of the dict's __ffikit_lazy__(function, name) and kept.  (A module imported
 * from the cache without its C source being generated computes them only when read.) */
static PyObject *
ffk_get_lazy(PyObject *o, void *closure)
{
    ffk_func *self = (ffk_func *)o;
    const char *name = (const char *)closure;
    PyObject *found, *hook;
    if (self->dict != NULL) {
        found = PyDict_GetItemString(self->dict, name);
        if (found != NULL)
            return Py_NewRef(found);
        hook = PyDict_GetItemString(self->dict, "__ffikit_lazy__");
        if (hook != NULL) {
            Py_INCREF(hook);
            found = PyObject_CallFunction(hook, "Os", o, name);
            Py_DECREF(hook);
            if (found != NULL && PyDict_SetItemString(self->dict, name, found) < 0)
                Py_CLEAR(found);
            return found;
        }
    }
    PyErr_Format(PyExc_AttributeError, "'ffikit.CompiledFunction' object has no attribute '%s'", name);
    return NULL;
}

static int
ffk_set_lazy(PyObject *o, PyObject *value, void *closure)
{
    const char *name = (const char *)closure;
    PyObject *dict = PyObject_GenericGetDict(o, NULL);
    int rc;
    if (dict == NULL)
        return -1;
    if (value != NULL)
        rc = PyDict_SetItemString(dict, name, value);
    else if ((rc = PyDict_DelItemString(dict, name)) < 0 && PyErr_ExceptionMatches(PyExc_KeyError)) {
        PyErr_Clear();
        PyErr_SetString(PyExc_AttributeError, name);
    }
    Py_DECREF(dict);
    return rc;
}

static PyObject *
ffk_reduce(PyObject *o, PyObject *unused)
{
    ffk_func *self = (ffk_func *)o;
    PyObject *hook = self->dict ? PyDict_GetItemString(self->dict, "__ffikit_reduce__") : NULL;
    (void)unused;
    if (hook == NULL) {
        PyErr_SetString(PyExc_TypeError, "cannot pickle a compiled function not bound to a library");
        return NULL;
    }
    return PyObject_CallOneArg(hook, o);
}

static PyMethodDef ffk_func_methods[] = {
    {"__reduce__", ffk_reduce, METH_NOARGS, "pickle as (library, name)"},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef ffk_func_getset[] = {
    {"errors", ffk_get_errors, ffk_set_errors, "the error policy (None: none)", NULL},
    {"python", ffk_get_slow, NULL, "the ctypes backend's wrapper for the same function", NULL},
    {"policy_in_c", ffk_get_policy, NULL,
     "how the wrapper judges results: 0 no policy, 1-4 check.nonzero/negative/null/errno in C, "
     "5 a Python callable after every call", NULL},
    {"crash_label", ffk_get_label, ffk_set_label,
     "what a fatal signal during the call names (ffikit.enable_faulthandler())", NULL},
    {"source", ffk_get_lazy, ffk_set_lazy, "the C wrapper's source", (void *)"source"},
    {"__signature__", ffk_get_lazy, ffk_set_lazy, "the positional-only signature",
     (void *)"__signature__"},
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject ffk_func_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ffikit.CompiledFunction",
    .tp_basicsize = sizeof(ffk_func),
    .tp_dealloc = ffk_func_dealloc,
    .tp_vectorcall_offset = offsetof(ffk_func, vectorcall),
    .tp_repr = ffk_func_repr,
    .tp_call = PyVectorcall_Call,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_doc = "A C function called through ffikit's compiled backend.",
    .tp_traverse = ffk_func_traverse,
    .tp_clear = ffk_func_clear,
    .tp_weaklistoffset = offsetof(ffk_func, weakrefs),
    .tp_getset = ffk_func_getset,
    .tp_methods = ffk_func_methods,
    .tp_dictoffset = offsetof(ffk_func, dict),
};
