/* A plain Python callable for a function-pointer parameter: a slot of a C callback pool,
 * lent for the call.
 *
 * The parameter's function-pointer class carries the pool (a capsule, see cbpool.h) once
 * the pool for its signature is built; found once per class and remembered here.  The
 * slot is given back when the call returns (ffk_unhold), after which a call from C to it
 * reports instead of reaching the callable.  No pool, or no free slot: the slow path
 * (the ctypes backend lends a ctypes thunk).
 */
#include "cbpool.h"

#define FFK_POOLS 16
typedef struct { PyObject *fptype; ffk_cbpool *pool; } ffk_poolref;
static ffk_poolref ffk_pools[FFK_POOLS];
static PyObject *ffk_str_pool = NULL;  /* FFK_POOL_ATTR, interned */

FFK_FN ffk_cbpool *
ffk_pool_of(PyObject *fptype)
{
    PyObject *capsule;
    ffk_cbpool *pool;
    int k;
    for (k = 0; k < FFK_POOLS && ffk_pools[k].fptype != NULL; k++)
        if (ffk_pools[k].fptype == fptype)
            return ffk_pools[k].pool;
    if (ffk_str_pool == NULL && (ffk_str_pool = PyUnicode_InternFromString(FFK_POOL_ATTR)) == NULL) {
        PyErr_Clear();
        return NULL;
    }
    capsule = PyObject_GetAttr(fptype, ffk_str_pool);
    if (capsule == NULL) {  /* not built (yet): the slow path */
        PyErr_Clear();
        return NULL;
    }
    pool = PyCapsule_IsValid(capsule, FFK_POOL_CAPSULE)
           ? (ffk_cbpool *)PyCapsule_GetPointer(capsule, FFK_POOL_CAPSULE) : NULL;
    Py_DECREF(capsule);  /* the pool module is never unloaded */
    if (pool != NULL && k < FFK_POOLS) {
        ffk_pools[k].fptype = Py_NewRef(fptype);
        ffk_pools[k].pool = pool;
    }
    return pool;
}

/* 1: *out is a slot calling o, given back by ffk_unhold(*held, view); 0: the slow path. */
FFK_FN int
ffk_lend(ffk_func *self, int index, PyObject *o, void **out, Py_buffer *view, int *held)
{
    PyObject *fptype = PyList_GET_ITEM(self->fptypes, index);
    ffk_cbpool *pool;
    int slot;
    Py_INCREF(fptype);
    pool = ffk_pool_of(fptype);
    Py_DECREF(fptype);
    if (pool == NULL)
        return 0;
    slot = pool->lend(pool, o, self->classify, index, out);
    if (slot < 0)
        return 0;
    view->obj = NULL;
    view->buf = pool;
    view->len = slot;
    *held = FFK_HELD_SLOT;
    return 1;
}

/* After the call: a buffer is released, a lent slot given back. */
static inline void
ffk_unhold(int held, Py_buffer *view)
{
    if (held == FFK_HELD_SLOT) {
        ffk_cbpool *pool = (ffk_cbpool *)view->buf;
        pool->give_back(pool, (int)view->len);
    } else {
        PyBuffer_Release(view);
    }
}
