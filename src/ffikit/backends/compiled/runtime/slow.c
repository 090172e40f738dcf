/* The slow path: the ctypes backend's wrapper for the same function, with the original
 * arguments.  Everything the fast path does not handle goes there, so every refusal is
 * raised by the same code in both backends, word for word.
 */

/* That wrapper, made on first need (borrowed; NULL with an exception set on failure).
   Another thread may make it too: one wins. */
FFK_FN PyObject *
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

FFK_FN PyObject *
ffk_slow(ffk_func *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    PyObject *slow = ffk_slow_wrapper(self);
    return slow == NULL ? NULL : PyObject_Vectorcall(slow, args, nargsf, kwnames);
}
