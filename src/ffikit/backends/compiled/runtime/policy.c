/* Error policies, evaluated in C on the C result: only a failing call reaches Python.
 *
 * ffikit.check's policies carry __ffikit_policy__ ("nonzero", "negative", "null", "errno");
 * the wrapper decides success from the raw C value with the same comparison the Python
 * policy makes on the converted result, and asks the policy for the exception (its
 * failed() method) only when the call failed.  Any other callable -- a user's policy, a parked callback exception --
 * is called after every call, as ctypes' errcheck is.  The generated wrapper tests each
 * policy only for result kinds where C and Python agree; for the rest it calls Python.
 */

FFK_FN int
ffk_policy_of(PyObject *errors)
{
    PyObject *kind;
    int policy = FFK_POLICY_CALL;
    if (errors == Py_None)
        return FFK_POLICY_NONE;
    if (ffk_str_policy == NULL)
        return FFK_POLICY_CALL;
    kind = PyObject_GetAttr(errors, ffk_str_policy);
    if (kind == NULL) {
        PyErr_Clear();
        return FFK_POLICY_CALL;
    }
    if (PyUnicode_Check(kind)) {
        if (PyUnicode_CompareWithASCIIString(kind, "nonzero") == 0)
            policy = FFK_POLICY_NONZERO;
        else if (PyUnicode_CompareWithASCIIString(kind, "negative") == 0)
            policy = FFK_POLICY_NEGATIVE;
        else if (PyUnicode_CompareWithASCIIString(kind, "null") == 0)
            policy = FFK_POLICY_NULL;
        else if (PyUnicode_CompareWithASCIIString(kind, "errno") == 0)
            policy = FFK_POLICY_ERRNO;
    }
    Py_DECREF(kind);
    return policy;
}

/* A policy C does not judge (a callable, a parked callback exception, or a result kind C
   leaves to Python): called as ctypes' errcheck is, (result, function, args). */
FFK_FN PyObject *
ffk_after(ffk_func *self, PyObject *result, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *tuple, *out, *errors;
    Py_ssize_t k;
    if (result == NULL || self->errors == Py_None)
        return result;
    tuple = PyTuple_New(nargs);
    if (tuple == NULL) {
        Py_DECREF(result);
        return NULL;
    }
    for (k = 0; k < nargs; k++)
        PyTuple_SET_ITEM(tuple, k, Py_NewRef(args[k]));
    errors = Py_NewRef(self->errors);  /* the policy may replace itself (a parked exception does) */
    out = PyObject_CallFunctionObjArgs(errors, result, (PyObject *)self, tuple, NULL);
    Py_DECREF(errors);
    Py_DECREF(tuple);
    Py_DECREF(result);
    return out;
}

/* A call C judged failed under ffikit.check policy `policy`: the policy's
   failed(result, function, errno) gives the error (worded lazily), raised here -- no
   Python frame in its traceback.  If the policy changed meanwhile (building the result
   ran Python code), the new one judges as any callable does. */
FFK_FN PyObject *
ffk_failed(ffk_func *self, PyObject *result, PyObject *const *args, Py_ssize_t nargs, int policy,
           const int *errno_space)
{
    PyObject *number, *error;
    if (result == NULL)
        return NULL;
    if (self->policy != policy || ffk_str_failed == NULL)
        return ffk_after(self, result, args, nargs);
    number = policy == FFK_POLICY_ERRNO && errno_space != NULL ? PyLong_FromLong(errno_space[0])
                                                               : Py_NewRef(Py_None);
    error = number == NULL ? NULL
        : PyObject_CallMethodObjArgs(self->errors, ffk_str_failed, result, (PyObject *)self, number, NULL);
    Py_XDECREF(number);
    Py_DECREF(result);
    if (error == NULL)
        return NULL;
    if (PyExceptionInstance_Check(error))
        PyErr_SetObject((PyObject *)Py_TYPE(error), error);
    else
        PyErr_SetString(PyExc_TypeError, "an error policy's failed() gave no exception");
    Py_DECREF(error);
    return NULL;
}
