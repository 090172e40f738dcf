/* Exact int / float arguments within the C type's range: the boundary rules' fast case.
 *
 * Nothing here raises: a converter returns 0 on any mismatch and the wrapper hands the
 * call to the slow path, which converts (slowly) or raises the refusal both backends share.
 */

static inline int
ffk_int(PyObject *o, long long lo, long long hi, long long *out)
{
    int overflow;
    long long v;
    if (!PyLong_CheckExact(o))
        return 0;
    v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow)
        return 0;
    if (v == -1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static inline int
ffk_uint64(PyObject *o, unsigned long long *out)
{
    unsigned long long v;
    if (!PyLong_CheckExact(o))
        return 0;
    v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    *out = v;
    return 1;
}

static inline int
ffk_double(PyObject *o, double *out)
{
    if (PyFloat_CheckExact(o)) {
        *out = PyFloat_AS_DOUBLE(o);
        return 1;
    }
    if (PyLong_CheckExact(o)) {
        double d = PyLong_AsDouble(o);
        if (d == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        *out = d;
        return 1;
    }
    return 0;
}

static inline int
ffk_float(PyObject *o, float *out)
{
    double d;
    if (!ffk_double(o, &d))
        return 0;
    if (fabs(d) > FLT_MAX && d != INFINITY)  /* the rules refuse it (even -inf): the slow path says so */
        return 0;
    *out = (float)d;
    return 1;
}
