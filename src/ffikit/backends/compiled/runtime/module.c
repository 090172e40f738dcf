/* The module's functions and definition, after the generated wrappers.
 *
 * The generated part defines, before including this file: FFK_MODNAME (the module's name,
 * a string), ffk_wrappers[] (one vectorcall function per shape), ffk_nparams[] (their
 * parameter counts), ffk_rsizes[] (the size of a struct result, 0 for others),
 * FFK_NWRAPPERS and FFK_SHAPES (a digest of the shapes, exported as SHAPES).  It then
 * defines PyInit_<name> as `return ffk_init();`.
 */

static PyObject *
ffk_make(PyObject *module, PyObject *args)
{
    int index;
    PyObject *address, *make_slow, *errors, *classify, *result, *fptypes, *rels, *own;
    Py_ssize_t bptr, rsize;
    ffk_func *f;
    (void)module;
    if (!PyArg_ParseTuple(args, "iOOOOOnO!OOn", &index, &address, &make_slow, &errors, &classify,
                          &result, &bptr, &PyList_Type, &fptypes, &rels, &own, &rsize))
        return NULL;
    /* fptypes: a list, the classifier fills in each function-pointer parameter's class
       when it is first asked about it (until then None: the slow path) */
    if (index < 0 || index >= FFK_NWRAPPERS || PyList_GET_SIZE(fptypes) != ffk_nparams[index]) {
        PyErr_SetString(PyExc_IndexError, "no such wrapper, or fptypes of another length");
        return NULL;
    }
    if (result != Py_None && ((!PyType_Check(result) && !PyCallable_Check(result)) || bptr < 0)) {
        PyErr_SetString(PyExc_TypeError, "a result class must be a ctypes class (or make one)");
        return NULL;
    }
    if (ffk_rsizes[index] != 0 && ffk_rsizes[index] != rsize) {
        PyErr_Format(PyExc_ValueError, "the result class holds %zd bytes, C returns %zd",
                     rsize, ffk_rsizes[index]);
        return NULL;
    }
    f = PyObject_GC_New(ffk_func, &ffk_func_type);
    if (f == NULL)
        return NULL;
    f->vectorcall = ffk_wrappers[index];
    f->cfn = PyLong_AsVoidPtr(address);
    f->nparams = ffk_nparams[index];
    f->seen = PyMem_Calloc((size_t)(f->nparams ? f->nparams : 1) * FFK_SEEN, sizeof(ffk_seen));
    f->slow = NULL;
    f->dict = NULL;
    f->weakrefs = NULL;
    f->rels = NULL;
    f->nrels = 0;
    f->bptr = bptr;
    f->label[0] = 0;
    f->make_slow = Py_NewRef(make_slow);
    f->errors = Py_NewRef(errors);
    f->policy = ffk_policy_of(errors);
    f->classify = Py_NewRef(classify);
    f->result = Py_NewRef(result);
    f->own = Py_NewRef(own);
    f->fptypes = Py_NewRef(fptypes);
    if (f->seen == NULL || PyErr_Occurred() || ffk_set_rels(f, rels) < 0) {
        Py_DECREF(f);
        return PyErr_Occurred() ? NULL : PyErr_NoMemory();
    }
    PyObject_GC_Track(f);
    return (PyObject *)f;
}

static PyMethodDef ffk_methods[] = {
    {"make", ffk_make, METH_VARARGS,
     "make(index, address, make_slow, errors, classify, result, bptr, fptypes, relations, own, "
     "result_size)"},
    {"current", ffk_current_call, METH_NOARGS, "the compiled function running C on this thread, or None"},
    {"setup", ffk_setup, METH_O, "setup(ctypes function pointer base class)"},
    {"report_crashes", ffk_report_crashes, METH_NOARGS,
     "name the running C function on a fatal signal (chained before the previous handler)"},
    {"errno_probe", ffk_errno_probe, METH_O, "errno_probe(enable): ctypes' errno copy here, or None"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef ffk_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = FFK_MODNAME,
    .m_doc = "ffikit compiled backend wrappers",
    .m_size = -1,
    .m_methods = ffk_methods,
};

static PyObject *
ffk_init(void)
{
    PyObject *m;
    if (PyType_Ready(&ffk_func_type) < 0 || PyType_Ready(&ffk_pin_type) < 0)
        return NULL;
    m = PyModule_Create(&ffk_module);
#ifdef FFK_SHAPES
    /* a digest of the shapes it was generated for: an index entry naming it is checked against it */
    if (m != NULL && PyModule_AddStringConstant(m, "SHAPES", FFK_SHAPES) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
#ifdef Py_GIL_DISABLED
    /* free-threading stance (3.13t+): the wrappers rely on the GIL (docs/environment.md) */
    if (m != NULL && PyUnstable_Module_SetGIL(m, Py_MOD_GIL_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    return m;
}
