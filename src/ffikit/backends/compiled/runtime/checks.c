/* Size relations, checked in C before the call (ffikit.rules.sizes is the rule; this is its
 * comparison).
 *
 * v[i] holds what the wrapper converted: an integer argument's value (the bits of an
 * unsigned 64-bit one), or the extent of a pointer argument (FFK_EXT_NONE for NULL, which
 * is not checked; FFK_EXT_ASK for a ctypes object, whose extent only the slow path knows).
 * Any doubt -- an extent to ask for, a negative count, an overflowing product, a buffer too
 * small -- answers 0, and the wrapper hands the call to the slow path, which accepts it or
 * raises the refusal both backends word the same.
 */

FFK_FN int
ffk_sizes_ok(const ffk_func *self, const long long *v)
{
    int k;
    for (k = 0; k < self->nrels; k++) {
        const ffk_rel *r = self->rels + k;
        long long extent = v[r->buffer];
        unsigned long long n, need;
        /* a negative count is refused even beside NULL (C would still read it as huge) */
        if (r->size >= 0 && !r->size_unsigned && v[r->size] < 0)
            return 0;
        if (r->factor >= 0 && !r->factor_unsigned && v[r->factor] < 0)
            return 0;
        if (extent == FFK_EXT_NONE)
            continue;
        if (extent < 0)
            return 0;
        if (r->size < 0)
            n = r->count;
        else
            n = (unsigned long long)v[r->size];
        if (r->factor >= 0) {
            if (__builtin_mul_overflow(n, (unsigned long long)v[r->factor], &n))
                return 0;
        }
        if (__builtin_mul_overflow(n, r->unit, &need) || need > (unsigned long long)extent)
            return 0;
    }
    return 1;
}

/* The relations make() was given: (buffer, size, factor, count, unit, size_unsigned,
   factor_unsigned) tuples, indexes checked against the wrapper's parameters. */
FFK_FN int
ffk_set_rels(ffk_func *self, PyObject *rels)
{
    Py_ssize_t n, k;
    if (!PyTuple_Check(rels)) {
        PyErr_SetString(PyExc_TypeError, "relations must be a tuple");
        return -1;
    }
    n = PyTuple_GET_SIZE(rels);
    self->nrels = 0;
    if (n == 0)
        return 0;
    self->rels = PyMem_Calloc((size_t)n, sizeof(ffk_rel));
    if (self->rels == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (k = 0; k < n; k++) {
        ffk_rel *r = self->rels + k;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(rels, k), "iiiKKpp;a relation", &r->buffer, &r->size,
                              &r->factor, &r->count, &r->unit, &r->size_unsigned, &r->factor_unsigned))
            return -1;
        if (r->buffer < 0 || r->buffer >= self->nparams || r->size >= self->nparams
            || r->factor >= self->nparams || r->size < -1 || r->factor < -1) {
            PyErr_SetString(PyExc_IndexError, "a relation names a parameter the function lacks");
            return -1;
        }
    }
    self->nrels = (int)n;
    return 0;
}
