/* C callbacks: a fixed pool of compiled C functions of one signature (see cbpool.h).
 *
 * A generated pool module includes this file, then defines, per signature, one dispatcher
 * (ffk_cbd: C arguments to Python objects, the call, the result back to C, range checks
 * included -- no Python frame between C and the user's function) and FFK_CB_SLOTS
 * trampolines, slot k calling the dispatcher with &ffk_slots[k].
 *
 * A slot is lent for one call (a plain callable passed to a compiled wrapper: cbpool.h)
 * or held (an ffikit.callback).  Given back, its target is cleared: a call from C then
 * reports CallbackReleased through Python (late()), gets the callback's on_error, and the
 * slot is never lent again (STUCK).  A slot given back waits in a FIFO until FFK_CB_MIN_FREE
 * more wait; a held one first waits in a quarantine of FFK_CB_QUARANTINE, so a pointer C
 * kept by mistake stays a reporting stub as long as possible.  No slot is ever freed.
 *
 * Calls from C: from interpreter exit on (exit_begin()), every slot returns its zero
 * value without touching Python; a call already waiting for the GIL then returns too.
 * Exceptions, late calls, deep nesting and results that need converting go to Python
 * helpers given to setup() (ffikit.backends.ctypes.cbhooks), the same code the ctypes
 * thunks use, so both say the same words.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include "cbpool.h"

#if defined(__GNUC__) || defined(__clang__)
#define FFK_CB_FN static __attribute__((unused))
#else
#define FFK_CB_FN static
#endif

#ifndef FFK_CB_SLOTS
#define FFK_CB_SLOTS 256
#endif
#define FFK_CB_MIN_FREE 16
#define FFK_CB_QUARANTINE 64

enum { FFK_CB_NEW, FFK_CB_LENT, FFK_CB_HELD, FFK_CB_FREE, FFK_CB_QUAR, FFK_CB_STUCK };

typedef struct {
    PyObject *fn;      /* the target; NULL once given back */
    PyObject *name;    /* given back: the target's name, for a late call's report */
    PyObject *owner;   /* lent: what names the parameter (owner_text(param)); held: the
                          Python slot object */
    PyObject *fallback; /* held: on_error as given (reported); lent: NULL (zero) */
    int param;         /* lent: the parameter's index; held: -1 */
    int state;
    long long fb_i;    /* on_error as C gets it */
    double fb_d;
} ffk_cbslot;

static ffk_cbslot ffk_slots[FFK_CB_SLOTS];
static int ffk_cb_next = 0;                  /* slots never used: ffk_cb_next .. end */
static int ffk_cb_free[FFK_CB_SLOTS];        /* given back, oldest first (a ring) */
static int ffk_cb_free_head = 0, ffk_cb_free_n = 0;
static int ffk_cb_quar[FFK_CB_QUARANTINE];   /* released held slots, oldest first */
static int ffk_cb_quar_head = 0, ffk_cb_quar_n = 0;

static int ffk_cb_busy = 0;     /* calls from C inside a slot now (atomic: before the GIL) */
static int ffk_cb_exiting = 0;  /* set at interpreter exit: no more Python */
static long ffk_cb_after_exit = 0;

/* Python helpers (setup()) */
static PyObject *ffk_cb_late = NULL;     /* (held, owner, param, name, fallback) -> None */
static PyObject *ffk_cb_failed = NULL;   /* (fn, exception) -> None: parks or reports it */
static PyObject *ffk_cb_guard = NULL;    /* (depth, fn) -> None or raises CallbackRecursion */
static PyObject *ffk_cb_check = NULL;    /* result -> what C gets, or raises */
static PyObject *ffk_cb_inflight = NULL; /* the ctypes thunks' list of running callbacks */
static Py_ssize_t ffk_cb_check_from = 4;
static double ffk_cb_float_max = 0;      /* float results: beyond this they are refused */

typedef struct {
    PyGILState_STATE gil;
    PyObject *fn;
    ffk_cbslot *slot;
} ffk_cbcall;

/* ------------------------------------------------------------------------------------ */
/* the FIFO of slots given back */

static void
ffk_cb_push_free(int k)
{
    ffk_cb_free[(ffk_cb_free_head + ffk_cb_free_n) % FFK_CB_SLOTS] = k;
    ffk_cb_free_n++;
    ffk_slots[k].state = FFK_CB_FREE;
}

static void
ffk_cb_unqueue(int *ring, int size, int *head, int *n, int k)
{
    int i, j;
    for (i = 0; i < *n; i++)
        if (ring[(*head + i) % size] == k)
            break;
    if (i == *n)
        return;
    for (j = i; j + 1 < *n; j++)
        ring[(*head + j) % size] = ring[(*head + j + 1) % size];
    (*n)--;
}

/* A slot to lend: the one given back longest ago once FFK_CB_MIN_FREE wait, else a new
   one, else (every slot used) -1. */
static int
ffk_cb_take(void)
{
    int k;
    if (ffk_cb_free_n >= FFK_CB_MIN_FREE) {
        k = ffk_cb_free[ffk_cb_free_head];
        ffk_cb_free_head = (ffk_cb_free_head + 1) % FFK_CB_SLOTS;
        ffk_cb_free_n--;
        return k;
    }
    if (ffk_cb_next < FFK_CB_SLOTS)
        return ffk_cb_next++;
    return -1;
}

static void
ffk_cb_target(ffk_cbslot *s, PyObject *fn, PyObject *owner, int param, int state)
{
    Py_INCREF(fn);
    Py_XINCREF(owner);
    Py_XSETREF(s->fn, fn);
    Py_XSETREF(s->owner, owner);
    Py_CLEAR(s->name);
    Py_CLEAR(s->fallback);
    s->param = param;
    s->state = state;
}

/* The name a late call reports: __qualname__, or the repr (as the Python side does). */
static PyObject *
ffk_cb_name(PyObject *fn)
{
    PyObject *name;
    if (PyFunction_Check(fn)) {
        name = ((PyFunctionObject *)fn)->func_qualname;
        if (name != NULL && PyUnicode_Check(name) && PyUnicode_GET_LENGTH(name) > 0)
            return Py_NewRef(name);
    }
    name = PyObject_GetAttrString(fn, "__qualname__");
    if (name != NULL && PyObject_IsTrue(name) == 1)
        return name;
    Py_XDECREF(name);
    PyErr_Clear();
    name = PyObject_Repr(fn);
    if (name == NULL) {
        PyErr_Clear();
        name = PyUnicode_FromString("?");
    }
    return name;
}

static int
ffk_cb_lend(ffk_cbpool *pool, PyObject *fn, PyObject *owner, int param, void **address);
static void
ffk_cb_give_back(ffk_cbpool *pool, int index);

static ffk_cbpool ffk_cb_api = {ffk_cb_lend, ffk_cb_give_back};
static void *const *ffk_cb_addresses = NULL;  /* the trampolines, given to ffk_cb_init() */

static int
ffk_cb_lend(ffk_cbpool *pool, PyObject *fn, PyObject *owner, int param, void **address)
{
    int k = ffk_cb_take();
    (void)pool;
    if (k < 0)
        return -1;
    ffk_cb_target(&ffk_slots[k], fn, owner, param, FFK_CB_LENT);
    ffk_slots[k].fb_i = 0;
    ffk_slots[k].fb_d = 0;
    *address = ffk_cb_addresses[k];
    return k;
}

static void
ffk_cb_give_back(ffk_cbpool *pool, int index)
{
    ffk_cbslot *s = &ffk_slots[index];
    PyObject *fn = s->fn;
    (void)pool;
    if (fn == NULL || s->state != FFK_CB_LENT)
        return;
    s->fn = NULL;
    s->name = ffk_cb_name(fn);
    Py_DECREF(fn);
    ffk_cb_push_free(index);
}

/* ------------------------------------------------------------------------------------ */
/* a call from C */

/* 1 with the GIL held and c->fn the target (NULL: given back); 0: C gets its zero value
   (the interpreter is exiting: no Python may run). */
static inline int
ffk_cb_enter(ffk_cbslot *s, ffk_cbcall *c)
{
    __atomic_add_fetch(&ffk_cb_busy, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ffk_cb_exiting, __ATOMIC_SEQ_CST)) {
        __atomic_add_fetch(&ffk_cb_after_exit, 1, __ATOMIC_RELAXED);
        __atomic_sub_fetch(&ffk_cb_busy, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    c->gil = PyGILState_Ensure();
    if (__atomic_load_n(&ffk_cb_exiting, __ATOMIC_SEQ_CST)) {  /* it came while we waited */
        PyGILState_Release(c->gil);
        __atomic_add_fetch(&ffk_cb_after_exit, 1, __ATOMIC_RELAXED);
        __atomic_sub_fetch(&ffk_cb_busy, 1, __ATOMIC_SEQ_CST);
        return 0;
    }
    c->slot = s;
    c->fn = s->fn;
    Py_XINCREF(c->fn);
    return 1;
}

static inline void
ffk_cb_leave(ffk_cbcall *c)
{
    Py_XDECREF(c->fn);
    PyGILState_Release(c->gil);
    __atomic_sub_fetch(&ffk_cb_busy, 1, __ATOMIC_SEQ_CST);
}

/* Report what a Python helper raised itself: nothing may reach C as a pending exception. */
static void
ffk_cb_unraisable(PyObject *r)
{
    if (r == NULL)
        PyErr_WriteUnraisable(NULL);
    Py_XDECREF(r);
}

/* The target raised (or its result was refused): park or report the exception. */
static void
ffk_cb_fail(ffk_cbcall *c)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        value = Py_NewRef(Py_None);
    } else if (tb != NULL) {
        PyException_SetTraceback(value, tb);
    }
    if (ffk_cb_failed != NULL)
        ffk_cb_unraisable(PyObject_CallFunctionObjArgs(ffk_cb_failed, c->fn, value, NULL));
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* C called a slot after it was given back: never lent again; reported through Python.
   is_void: what C gets is nothing (reported as None). */
static void
ffk_cb_late_call(ffk_cbcall *c, int is_void)
{
    ffk_cbslot *s = c->slot;
    int k = (int)(s - ffk_slots);
    PyObject *fallback = is_void ? Py_NewRef(Py_None)
                         : s->fallback != NULL ? Py_NewRef(s->fallback) : PyLong_FromLong(0);
    if (s->state == FFK_CB_FREE)
        ffk_cb_unqueue(ffk_cb_free, FFK_CB_SLOTS, &ffk_cb_free_head, &ffk_cb_free_n, k);
    else if (s->state == FFK_CB_QUAR)
        ffk_cb_unqueue(ffk_cb_quar, FFK_CB_QUARANTINE, &ffk_cb_quar_head, &ffk_cb_quar_n, k);
    s->state = FFK_CB_STUCK;
    if (ffk_cb_late != NULL && fallback != NULL)
        ffk_cb_unraisable(PyObject_CallFunction(
            ffk_cb_late, "OOiOO", s->param < 0 ? Py_True : Py_False,
            s->owner ? s->owner : Py_None, s->param, s->name ? s->name : Py_None, fallback));
    else
        PyErr_Clear();
    Py_XDECREF(fallback);
}

/* Call the target with argv[0..n) (new references, consumed; NULL: the conversion failed).
   NULL with the exception set when anything failed. */
static PyObject *
ffk_cb_call(ffk_cbcall *c, PyObject **argv, Py_ssize_t n)
{
    PyObject *res = NULL;
    Py_ssize_t k, depth;
    for (k = 0; k < n; k++)
        if (argv[k] == NULL)
            goto done;
    depth = __atomic_load_n(&ffk_cb_busy, __ATOMIC_RELAXED)
            + (ffk_cb_inflight != NULL ? PyList_GET_SIZE(ffk_cb_inflight) : 0);
    if (depth > ffk_cb_check_from && ffk_cb_guard != NULL) {  /* nested: C stack left? */
        PyObject *r = PyObject_CallFunction(ffk_cb_guard, "nO", depth, c->fn);
        if (r == NULL)
            goto done;
        Py_DECREF(r);
    }
    res = PyObject_Vectorcall(c->fn, argv, (size_t)n | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
done:
    for (k = 0; k < n; k++)
        Py_XDECREF(argv[k]);
    return res;
}

/* The Python helper's verdict on a result C cannot take as it is: a new reference, or
   NULL with the exception set. */
static PyObject *
ffk_cb_checked(PyObject *res)
{
    PyObject *r = ffk_cb_check != NULL ? PyObject_CallOneArg(ffk_cb_check, res) : NULL;
    if (r == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, "ffikit callback pool: setup() was not called");
    return r;
}

/* An integer result within [lo, hi] (unsigned: [0, uhi]); else the fallback. Consumes res. */
FFK_CB_FN long long
ffk_cb_int(ffk_cbcall *c, PyObject *res, long long lo, long long hi, int is_unsigned,
           unsigned long long uhi)
{
    int pass;
    for (pass = 0; res != NULL && pass < 2; pass++) {
        if (PyLong_CheckExact(res)) {
            if (is_unsigned) {
                unsigned long long u = PyLong_AsUnsignedLongLong(res);
                if (!(u == (unsigned long long)-1 && PyErr_Occurred()) && u <= uhi) {
                    Py_DECREF(res);
                    return (long long)u;
                }
            } else {
                int overflow;
                long long v = PyLong_AsLongLongAndOverflow(res, &overflow);
                if (!overflow && !(v == -1 && PyErr_Occurred()) && v >= lo && v <= hi) {
                    Py_DECREF(res);
                    return v;
                }
            }
            PyErr_Clear();
        }
        if (pass == 0)
            Py_SETREF(res, ffk_cb_checked(res));  /* int subclasses, refusals: Python's words */
    }
    if (res != NULL) {  /* the helper accepted what C cannot take: refuse it all the same */
        Py_DECREF(res);
        PyErr_SetString(PyExc_TypeError, "ffikit callback: result out of range");
    }
    ffk_cb_fail(c);
    return c->slot->fb_i;
}

/* A floating-point result (the float limit for float results); else the fallback. */
FFK_CB_FN double
ffk_cb_double(ffk_cbcall *c, PyObject *res, int is_float)
{
    int pass;
    for (pass = 0; res != NULL && pass < 2; pass++) {
        if (PyFloat_CheckExact(res)) {  /* (what the helper gives back is taken as it is) */
            double d = PyFloat_AS_DOUBLE(res);
            if (!is_float || pass == 1 || !(fabs(d) > ffk_cb_float_max)) {
                Py_DECREF(res);
                return d;
            }
        }
        if (pass == 0)
            Py_SETREF(res, ffk_cb_checked(res));
    }
    if (res != NULL) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_TypeError, "ffikit callback: float result out of range");
    }
    ffk_cb_fail(c);
    return c->slot->fb_d;
}

/* A void result: only whether it raised matters. */
FFK_CB_FN void
ffk_cb_void(ffk_cbcall *c, PyObject *res)
{
    if (res == NULL)
        ffk_cb_fail(c);
    Py_XDECREF(res);
}

/* The given-back case of every dispatcher: report (C gets on_error: the caller returns it). */
FFK_CB_FN void
ffk_cb_released(ffk_cbcall *c, int is_void)
{
    ffk_cb_late_call(c, is_void);
}

/* argument conversions, as ctypes gives them to a Python callback */
#define FFK_CB_PTR(p) ((p) != NULL ? PyLong_FromVoidPtr((void *)(p)) : Py_NewRef(Py_None))
#define FFK_CB_STR(p) ((p) != NULL ? PyBytes_FromString((const char *)(p)) : Py_NewRef(Py_None))

/* ------------------------------------------------------------------------------------ */
/* the module: held callbacks, the capsule, setup and exit */

static PyObject *
ffk_cb_setup(PyObject *module, PyObject *args)
{
    PyObject *late, *failed, *guard, *check, *inflight;
    Py_ssize_t check_from;
    double float_max;
    (void)module;
    if (!PyArg_ParseTuple(args, "OOOOO!nd", &late, &failed, &guard, &check, &PyList_Type, &inflight,
                          &check_from, &float_max))
        return NULL;
    Py_XSETREF(ffk_cb_late, Py_NewRef(late));
    Py_XSETREF(ffk_cb_failed, Py_NewRef(failed));
    Py_XSETREF(ffk_cb_guard, Py_NewRef(guard));
    Py_XSETREF(ffk_cb_check, Py_NewRef(check));
    Py_XSETREF(ffk_cb_inflight, Py_NewRef(inflight));
    ffk_cb_check_from = check_from;
    ffk_cb_float_max = float_max;
    Py_RETURN_NONE;
}

/* acquire(fn, on_error, owner) -> index, or -1 when every slot is taken. */
static PyObject *
ffk_cb_acquire(PyObject *module, PyObject *args)
{
    PyObject *fn, *on_error, *owner;
    long long fb_i = 0;
    double fb_d = 0;
    int k;
    (void)module;
    if (!PyArg_ParseTuple(args, "OOO", &fn, &on_error, &owner))
        return NULL;
    if (PyFloat_Check(on_error)) {
        fb_d = PyFloat_AS_DOUBLE(on_error);
        fb_i = (long long)fb_d;
    } else if (PyLong_Check(on_error)) {
        int overflow;
        fb_i = PyLong_AsLongLongAndOverflow(on_error, &overflow);
        if (overflow)  /* an unsigned 64-bit value: its bits */
            fb_i = (long long)PyLong_AsUnsignedLongLongMask(on_error);
        if (PyErr_Occurred())
            return NULL;
        fb_d = PyLong_AsDouble(on_error);
        if (PyErr_Occurred())
            PyErr_Clear();
    }
    k = ffk_cb_take();
    if (k >= 0) {
        ffk_cb_target(&ffk_slots[k], fn, owner, -1, FFK_CB_HELD);
        ffk_slots[k].fallback = Py_NewRef(on_error);
        ffk_slots[k].fb_i = fb_i;
        ffk_slots[k].fb_d = fb_d;
    }
    return PyLong_FromLong(k);
}

/* release(index, name): a held slot reports from now on and waits in quarantine. */
static PyObject *
ffk_cb_release(PyObject *module, PyObject *args)
{
    int k;
    PyObject *name;
    ffk_cbslot *s;
    (void)module;
    if (!PyArg_ParseTuple(args, "iU", &k, &name))
        return NULL;
    if (k < 0 || k >= FFK_CB_SLOTS) {
        PyErr_SetString(PyExc_IndexError, "no such slot");
        return NULL;
    }
    s = &ffk_slots[k];
    if (s->state != FFK_CB_HELD || s->fn == NULL)
        Py_RETURN_NONE;
    Py_CLEAR(s->fn);
    Py_XSETREF(s->name, Py_NewRef(name));
    if (ffk_cb_quar_n == FFK_CB_QUARANTINE) {  /* the oldest leaves quarantine: lent on zero */
        int old = ffk_cb_quar[ffk_cb_quar_head];
        ffk_cb_quar_head = (ffk_cb_quar_head + 1) % FFK_CB_QUARANTINE;
        ffk_cb_quar_n--;
        ffk_slots[old].fb_i = 0;
        ffk_slots[old].fb_d = 0;
        Py_CLEAR(ffk_slots[old].fallback);
        ffk_cb_push_free(old);
    }
    ffk_cb_quar[(ffk_cb_quar_head + ffk_cb_quar_n) % FFK_CB_QUARANTINE] = k;
    ffk_cb_quar_n++;
    s->state = FFK_CB_QUAR;
    Py_RETURN_NONE;
}

static PyObject *
ffk_cb_address(PyObject *module, PyObject *arg)
{
    long k = PyLong_AsLong(arg);
    (void)module;
    if (k == -1 && PyErr_Occurred())
        return NULL;
    if (k < 0 || k >= FFK_CB_SLOTS) {
        PyErr_SetString(PyExc_IndexError, "no such slot");
        return NULL;
    }
    return PyLong_FromVoidPtr(ffk_cb_addresses[k]);
}

static PyObject *
ffk_cb_stats(PyObject *module, PyObject *unused)
{
    int counts[FFK_CB_STUCK + 1] = {0}, k;
    (void)module;
    (void)unused;
    for (k = 0; k < FFK_CB_SLOTS; k++)
        counts[ffk_slots[k].state]++;
    counts[FFK_CB_NEW] = FFK_CB_SLOTS - ffk_cb_next;
    return Py_BuildValue("{sisisisisisisisl}", "slots", FFK_CB_SLOTS, "new", counts[FFK_CB_NEW],
                         "lent", counts[FFK_CB_LENT], "held", counts[FFK_CB_HELD],
                         "free", counts[FFK_CB_FREE], "quarantined", counts[FFK_CB_QUAR],
                         "stuck", counts[FFK_CB_STUCK], "after_exit", ffk_cb_after_exit);
}

/* exit_begin(): from now on no slot runs Python; exit_wait(seconds): wait, the GIL
   released, for the calls already inside (or waiting for the GIL) to return; how many
   did not in time. */
static PyObject *
ffk_cb_exit_begin(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    __atomic_store_n(&ffk_cb_exiting, 1, __ATOMIC_SEQ_CST);
    Py_RETURN_NONE;
}

static PyObject *
ffk_cb_exit_wait(PyObject *module, PyObject *arg)
{
    double seconds = PyFloat_AsDouble(arg);
    int left;
    long waited = 0;
    (void)module;
    if (seconds == -1 && PyErr_Occurred())
        return NULL;
    Py_BEGIN_ALLOW_THREADS
    while ((left = __atomic_load_n(&ffk_cb_busy, __ATOMIC_SEQ_CST)) > 0 && waited < seconds * 1000) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
        waited++;
    }
    Py_END_ALLOW_THREADS
    return PyLong_FromLong(left);
}

/* A fork copies the counters: threads inside a slot are not in the child. */
static PyObject *
ffk_cb_after_fork(PyObject *module, PyObject *unused)
{
    (void)module;
    (void)unused;
    __atomic_store_n(&ffk_cb_busy, 0, __ATOMIC_SEQ_CST);
    Py_RETURN_NONE;
}

static PyMethodDef ffk_cb_methods[] = {
    {"setup", ffk_cb_setup, METH_VARARGS,
     "setup(late, failed, guard, check, inflight, check_from, float_max)"},
    {"acquire", ffk_cb_acquire, METH_VARARGS, "acquire(fn, on_error, owner) -> slot index or -1"},
    {"release", ffk_cb_release, METH_VARARGS, "release(index, name): a held slot reports from now on"},
    {"address", ffk_cb_address, METH_O, "address(index): the slot's C function"},
    {"stats", ffk_cb_stats, METH_NOARGS, "how many slots are in each state"},
    {"exit_begin", ffk_cb_exit_begin, METH_NOARGS, "no slot runs Python from now on"},
    {"exit_wait", ffk_cb_exit_wait, METH_O, "wait for the calls running now; how many are left"},
    {"after_fork", ffk_cb_after_fork, METH_NOARGS, "in a forked child: no call is running"},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef ffk_cb_module = {
    PyModuleDef_HEAD_INIT,
    .m_doc = "ffikit C callback pool (one C signature)",
    .m_size = -1,
    .m_methods = ffk_cb_methods,
};

FFK_CB_FN PyObject *
ffk_cb_init(const char *name, void *const *addresses)
{
    PyObject *m, *capsule;
    ffk_cb_addresses = addresses;
    ffk_cb_module.m_name = name;
    m = PyModule_Create(&ffk_cb_module);
    if (m == NULL)
        return NULL;
#ifdef Py_GIL_DISABLED
    if (PyUnstable_Module_SetGIL(m, Py_MOD_GIL_USED) < 0) {
        Py_DECREF(m);
        return NULL;
    }
#endif
    capsule = PyCapsule_New(&ffk_cb_api, FFK_POOL_CAPSULE, NULL);
    if (capsule == NULL || PyModule_AddObjectRef(m, "capsule", capsule) < 0
        || PyModule_AddIntConstant(m, "SLOTS", FFK_CB_SLOTS) < 0
        || PyModule_AddIntConstant(m, "MIN_FREE", FFK_CB_MIN_FREE) < 0
        || PyModule_AddIntConstant(m, "QUARANTINE", FFK_CB_QUARANTINE) < 0) {
        Py_XDECREF(capsule);
        Py_DECREF(m);
        return NULL;
    }
    Py_DECREF(capsule);
    return m;
}
