"""cdef/include results are memoised least-recently-used, not for the life of the process."""

import ffikit
from ffikit.backends.ctypes.declarations import typeof


class TestMemoBounded:
    """cdef/include results are memoised LRU (MEMO_SIZE), not for the process's life."""

    def test_old_texts_are_let_go_and_held_ones_stay_resolvable(self):
        import gc
        import weakref

        from ffikit.cdecl import memo as model

        held = ffikit.cdef("typedef struct { int id; } MemoHeld;")
        first = weakref.ref(ffikit.cdef("int memo_first_fn(int);"))
        again = ffikit.cdef("int memo_again_fn(int);")
        for i in range(model.MEMO_SIZE + 20):
            ffikit.cdef(f"int memo_filler_{i}(int);")
            assert ffikit.cdef("int memo_again_fn(int);") is again  # in use: never evicted
        gc.collect()
        assert first() is None  # evicted and unreferenced: freed
        assert len(model._memo) <= model.MEMO_SIZE
        assert held in model.recent_declarations()  # still alive: names still resolve
        assert typeof("MemoHeld") == held.types["MemoHeld"]
        assert len(model._recent) <= 4 * model.MEMO_SIZE + 64  # dead references pruned

    def test_a_load_per_text_keeps_nothing_once_dropped(self, cbuild):
        import gc
        import weakref

        path = cbuild("int memo_id(int x) { return x; }", name="memo_loads")
        refs = []
        for i in range(300):
            lib = ffikit.load(path, f"int memo_id(int x); /* {i} */", backend="ctypes")
            assert lib.memo_id(i) == i
            refs.append(weakref.ref(lib.defs))
        del lib
        gc.collect()
        from ffikit.cdecl import memo as model
        alive = sum(r() is not None for r in refs)
        assert alive <= model.MEMO_SIZE  # at most the memo's worth, not all 300
