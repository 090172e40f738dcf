/* A pointer result keeps alive the arguments it may point into (as result_pins.py does).
 *
 * `void *same(void *p)` or `strchr(s, c)` return a pointer into one of their arguments.
 * A non-NULL pointer result of a function with pointer parameters therefore carries, as
 * its `_ffikit_keep` attribute, a pin: the pointer arguments as given, and the buffer
 * exports the call took (moved out of the call, not released), so a bytearray the result
 * may point into cannot be resized or freed while the result lives.  (A lone pointer
 * argument that needed no export -- a ctypes object, bytes -- is kept as itself.)
 */

typedef struct {
    PyObject_VAR_HEAD
    PyObject *args;        /* the pointer arguments, as the caller gave them */
    Py_buffer views[1];    /* ob_size of them; .obj NULL: none held */
} ffk_pin;

static int
ffk_pin_traverse(PyObject *o, visitproc visit, void *arg)
{
    ffk_pin *p = (ffk_pin *)o;
    Py_ssize_t k;
    Py_VISIT(Py_TYPE(o));
    Py_VISIT(p->args);
    for (k = 0; k < Py_SIZE(p); k++)
        Py_VISIT(p->views[k].obj);
    return 0;
}

static void
ffk_pin_release(ffk_pin *p)
{
    Py_ssize_t k;
    for (k = 0; k < Py_SIZE(p); k++)
        if (p->views[k].obj != NULL)
            PyBuffer_Release(&p->views[k]);
}

static int
ffk_pin_clear(PyObject *o)
{
    ffk_pin *p = (ffk_pin *)o;
    ffk_pin_release(p);
    Py_CLEAR(p->args);
    return 0;
}

static void
ffk_pin_dealloc(PyObject *o)
{
    PyObject_GC_UnTrack(o);
    ffk_pin_clear(o);
    Py_TYPE(o)->tp_free(o);
}

static PyObject *
ffk_pin_args(PyObject *o, void *closure)
{
    (void)closure;
    return Py_NewRef(((ffk_pin *)o)->args);
}

static PyGetSetDef ffk_pin_getset[] = {
    {"args", ffk_pin_args, NULL, "the pointer arguments kept, as the caller gave them", NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject ffk_pin_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "ffikit.ResultPin",
    .tp_doc = "what a pointer result keeps alive: the call's pointer arguments and exports",
    .tp_basicsize = offsetof(ffk_pin, views),
    .tp_itemsize = sizeof(Py_buffer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = ffk_pin_traverse,
    .tp_clear = ffk_pin_clear,
    .tp_dealloc = ffk_pin_dealloc,
    .tp_getset = ffk_pin_getset,
};

static PyObject *ffk_str_keep = NULL;  /* "_ffikit_keep", interned by setup() */

/* Pin `count` pointer arguments (their indexes in `which`) to the result `out`; the buffer
   views still held (`held[k]`) move into the pin, so the caller no longer releases them.
   0 on success; -1 with an exception set, the views left to the caller. */
FFK_FN int
ffk_pin_result(PyObject *out, PyObject *const *args, const int *which, Py_buffer *const *views,
               int *const *held, int count)
{
    ffk_pin *p;
    int k, exports = 0;
    if (ffk_str_keep == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "the compiled runtime was not set up");
        return -1;
    }
    for (k = 0; k < count; k++)
        exports += *held[k] == FFK_HELD_VIEW;
    if (exports == 0 && count == 1)  /* no export to hold: the argument itself will do */
        return PyObject_SetAttr(out, ffk_str_keep, args[which[0]]);
    p = PyObject_GC_NewVar(ffk_pin, &ffk_pin_type, count);
    if (p == NULL)
        return -1;
    p->args = PyTuple_New(count);
    for (k = 0; k < count; k++) {
        p->views[k].obj = NULL;
        if (p->args != NULL)
            PyTuple_SET_ITEM(p->args, k, Py_NewRef(args[which[k]]));
    }
    if (p->args == NULL) {
        Py_DECREF(p);
        return -1;
    }
    PyObject_GC_Track(p);
    if (PyObject_SetAttr(out, ffk_str_keep, (PyObject *)p) < 0) {
        Py_DECREF(p);
        return -1;
    }
    for (k = 0; k < count; k++)
        if (*held[k] == FFK_HELD_VIEW) {  /* (a lent callback slot is given back by the call) */
            p->views[k] = *views[k];
            *held[k] = 0;
        }
    Py_DECREF(p);
    return 0;
}
