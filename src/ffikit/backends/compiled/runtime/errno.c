/* errno emulation: ctypes' per-thread errno copy, swapped with the real errno around each call.
 *
 * Libraries are loaded with use_errno=True, so ctypes keeps a private errno per thread (a
 * capsule in the thread-state dict) and swaps it with errno around its calls; the compiled
 * wrappers do the same swap, so ctypes.get_errno() and check.errno read what C left and C
 * sees what ctypes.set_errno() put there.  The capsule's address is found once per thread
 * state and kept in a C thread-local (checked against the thread state's pointer and unique
 * id), so a call costs two loads and two stores, not a dict lookup.  Enabled only after the
 * Python side checked, at import, that it finds the value ctypes.set_errno() put there.
 */

/* What a wrapper keeps per thread, in one thread-local (one TLS lookup per call): the
   compiled function running C on this thread (callbacks park exceptions on it, crash
   reports name it), and where this thread's errno copy is. */
typedef struct {
    ffk_func *current;
    PyThreadState *tstate;   /* the thread state the errno space belongs to */
    uint64_t id;             /* and its unique id: a new thread state at the same address differs */
    int *space;
} ffk_thread;

static _Thread_local ffk_thread ffk_here = {NULL, NULL, 0, NULL};
#define ffk_current (ffk_here.current)

static int ffk_errno_enabled = 0;
static PyObject *ffk_errno_key = NULL;

/* The space in the thread-state dict (creating it through ctypes on first use per thread). */
static int *
ffk_errno_lookup(void)
{
    PyObject *dict, *capsule;
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
    if (!PyCapsule_CheckExact(capsule))
        return NULL;
    return (int *)PyCapsule_GetPointer(capsule, PyCapsule_GetName(capsule));
}

/* This thread's errno copy, or NULL (emulation off, or not found).  Needs the GIL. */
static inline int *
ffk_errno_space(ffk_thread *here)
{
    PyThreadState *tstate;
    if (!ffk_errno_enabled)
        return NULL;
    tstate = PyThreadState_Get();
    if (here->tstate != tstate || here->id != PyThreadState_GetID(tstate)) {
        int *space = ffk_errno_lookup();
        if (space == NULL)
            return NULL;
        here->tstate = tstate;
        here->id = PyThreadState_GetID(tstate);
        here->space = space;
    }
    return here->space;
}

#define FFK_SWAP_ERRNO(space) if (space) { int t_ = (space)[0]; (space)[0] = errno; errno = t_; }

static PyObject *
ffk_errno_probe(PyObject *module, PyObject *enable)
{
    int *space;
    (void)module;
    if (ffk_errno_key == NULL && (ffk_errno_key = PyUnicode_InternFromString("ctypes.error_object")) == NULL)
        return NULL;
    ffk_errno_enabled = 1;
    ffk_here.tstate = NULL;
    space = ffk_errno_space(&ffk_here);
    ffk_errno_enabled = PyObject_IsTrue(enable) && space != NULL;
    if (space == NULL)
        Py_RETURN_NONE;
    return PyLong_FromLong(space[0]);
}

static PyObject *
ffk_current_call(PyObject *module, PyObject *unused)
{
    PyObject *f = (PyObject *)ffk_current;
    (void)module;
    (void)unused;
    if (f == NULL)
        Py_RETURN_NONE;
    Py_INCREF(f);
    return f;
}
