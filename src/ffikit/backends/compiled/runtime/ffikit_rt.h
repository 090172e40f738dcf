/* ffikit compiled backend: what every file of the runtime and every generated wrapper shares.
 *
 * A generated module is one translation unit: it includes this header, the runtime's .c
 * files (errno.c, convert.c, pins.c, lend.c, pointer.c, checks.c, policy.c, results.c, slow.c, crash.c,
 * functype.c), then its
 * own wrappers, then module.c.  Everything is static: each module has its own copy, and
 * no symbol but PyInit_<name> leaves it.
 */
#ifndef FFIKIT_RT_H
#define FFIKIT_RT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <limits.h>
#include <math.h>
#include <float.h>
#include <errno.h>

/* A runtime helper a given module may not use (no -Wunused-function). */
#if defined(__GNUC__) || defined(__clang__)
#define FFK_FN static __attribute__((unused))
#else
#define FFK_FN static
#endif

#define FFK_SEEN 4  /* argument types remembered per pointer parameter */

/* modes a classifier gives an argument type */
#define FFK_SLOW 0
#define FFK_BUFFER 1
#define FFK_ADDRESS 2
#define FFK_VALUE 3
#define FFK_THUNK 4   /* an ffikit.callback: its .thunk is the C function pointer */
#define FFK_REGION 5  /* ffikit memory: the buffer its __ffikit_region__() gives */
#define FFK_LEND 6    /* a plain callable: a C callback pool's slot, lent for the call (lend.c) */

/* what a pointer argument's `held` flag says the wrapper gives back after the call */
#define FFK_HELD_VIEW 1  /* a Py_buffer: PyBuffer_Release */
#define FFK_HELD_SLOT 2  /* a lent callback slot (lend.c: ffk_unhold); not an export to pin */

/* error policies the wrapper evaluates in C (policy.c); any other callable is FFK_POLICY_CALL */
#define FFK_POLICY_NONE 0
#define FFK_POLICY_NONZERO 1
#define FFK_POLICY_NEGATIVE 2
#define FFK_POLICY_NULL 3
#define FFK_POLICY_ERRNO 4
#define FFK_POLICY_CALL 5

/* what a wrapper records per argument for the size checks (checks.c): an integer
   argument's value (the bits of an unsigned 64-bit one), or a buffer's extent in bytes */
#define FFK_EXT_NONE (-1LL)  /* NULL or no buffer: nothing to check */
#define FFK_EXT_ASK (-2LL)   /* a ctypes object: only the slow path knows its extent */

typedef struct { PyTypeObject *type; int mode; } ffk_seen;

/* A pointer parameter's rule: const-ness and the buffer formats it takes as they are. */
typedef struct {
    int is_const;
    int cstring;                 /* plain char: only NUL-free bytes go fast */
    const char *const *formats;  /* NULL: any format (raw bytes) */
    Py_ssize_t items_of;         /* >0: structs/pointers: items of this size, format T{...}, P or & */
    int nonnull;                 /* declared nonnull: None and NULL pointers take the slow path */
} ffk_pspec;

/* One size relation (ffikit.rules.sizes.SizeRelation as numbers): parameter `buffer` must
   hold count (or the value of parameter `size`, times parameter `factor`'s) * unit bytes. */
typedef struct {
    int buffer, size, factor;    /* parameter indexes; size/factor -1: none */
    int size_unsigned, factor_unsigned;
    unsigned long long count, unit;
} ffk_rel;

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    void *cfn;               /* the C function */
    PyObject *slow;          /* the ctypes backend's wrapper, made on first need */
    PyObject *make_slow;     /* () -> that wrapper */
    PyObject *errors;        /* the error policy, or None */
    PyObject *classify;      /* (index, type) -> mode */
    PyObject *result;        /* the ctypes class of a pointer/struct result, or None */
    PyObject *own;           /* result -> owned result (malloc(dealloc)), or None */
    PyObject *fptypes;       /* per parameter: the ctypes function-pointer type, or None */
    PyObject *dict;
    PyObject *weakrefs;
    Py_ssize_t bptr;         /* offset of a ctypes object's data pointer; -1: unknown */
    int nparams;
    int policy;              /* FFK_POLICY_*, kept in step with errors */
    int nrels;
    ffk_rel *rels;           /* the size relations checked before the call */
    ffk_seen *seen;          /* FFK_SEEN per parameter */
    char label[192];         /* what a crash report names (crash.c): declaration and library */
} ffk_func;

#endif
