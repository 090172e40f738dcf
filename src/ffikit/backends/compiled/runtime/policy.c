/* Error policies, evaluated in C on the C result: only a failing call reaches Python.
 *
 * ffikit.check's policies carry __ffikit_policy__ ("nonzero", "negative", "null", "errno");
 * the wrapper decides success from the raw C value with the same comparison the Python
 * policy makes on the converted result, and calls the policy (which builds the exception)
 * only when it fails.  Any other callable -- a user's policy, a parked callback exception --
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

/* A failed call (or a policy C cannot judge): the Python policy decides, and raises.
   ffikit.check's policies are asked failure(result, function) -- no argument tuple -- and
   the exception it gives is raised here, with no Python frame in its traceback. */
FFK_FN PyObject *
ffk_after(ffk_func *self, PyObject *result, PyObject *const *args, Py_ssize_t nargs)
{
    PyObject *tuple, *out, *errors;
    Py_ssize_t k;
    if (result == NULL || self->errors == Py_None)
        return result;
    errors = self->errors;
    Py_INCREF(errors);  /* the policy may replace itself (a parked exception does) */
    if (self->policy >= FFK_POLICY_NONZERO && self->policy <= FFK_POLICY_ERRNO && ffk_str_failure != NULL) {
        PyObject *error = PyObject_CallMethodObjArgs(errors, ffk_str_failure, result, (PyObject *)self, NULL);
        if (error == NULL || error == Py_None) {  /* an error of its own, or the call passed */
            out = error == NULL ? NULL : Py_NewRef(result);
            Py_XDECREF(error);
        } else {
            if (PyExceptionInstance_Check(error))
                PyErr_SetObject((PyObject *)Py_TYPE(error), error);
            else
                PyErr_SetString(PyExc_TypeError, "an error policy's failure() gave no exception");
            Py_DECREF(error);
            out = NULL;
        }
    } else if ((tuple = PyTuple_New(nargs)) != NULL) {
        for (k = 0; k < nargs; k++)
            PyTuple_SET_ITEM(tuple, k, Py_NewRef(args[k]));
        out = PyObject_CallFunctionObjArgs(errors, result, (PyObject *)self, tuple, NULL);
        Py_DECREF(tuple);
    } else {
        out = NULL;
    }
    Py_DECREF(errors);
    Py_DECREF(result);
    return out;
}
