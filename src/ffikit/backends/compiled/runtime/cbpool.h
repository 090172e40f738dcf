/* C callbacks: what a callback pool module and a generated wrapper module share.
 *
 * A callback pool module (cbpool.c plus a generated part, one per C signature) holds a
 * fixed number of C functions of that signature -- *slots* -- each of which converts its C
 * arguments to Python objects, calls the slot's Python target and converts the result
 * back, all in C.  No code is made at run time: the slots are compiled functions, lent
 * and given back.  A wrapper module finds a pool through the capsule the function-pointer
 * class carries (attribute FFK_POOL_ATTR, capsule name FFK_POOL_CAPSULE) and lends a slot
 * for one call through the two function pointers below.
 */
#ifndef FFIKIT_CBPOOL_H
#define FFIKIT_CBPOOL_H

#define FFK_POOL_ATTR "_ffikit_pool_"
#define FFK_POOL_CAPSULE "ffikit.cbpool.v1"

typedef struct ffk_cbpool ffk_cbpool;

struct ffk_cbpool {
    /* A slot calling fn for one call: its index (*address: the C function), or -1 when
       none is free (the caller takes its slow path).  owner(param) names the parameter in
       a late call's report.  Needs the GIL. */
    int (*lend)(ffk_cbpool *pool, PyObject *fn, PyObject *owner, int param, void **address);
    /* The call returned: the slot reports from now on, and is lent again only later. */
    void (*give_back)(ffk_cbpool *pool, int index);
};

#endif
