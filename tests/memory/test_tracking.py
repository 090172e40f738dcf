"""The leak tracker: what is recorded, where, and the report."""

import threading

import pytest

import ffikit
from ffikit.memory import tracking


class TestTrack:
    def test_records_kinds_sizes_and_user_lines(self):
        with ffikit.track() as t:
            a = ffikit.alloc("double", 10)  # line A
            line_a = a and __import__("inspect").currentframe().f_lineno - 1
            arena = ffikit.Arena(128)
            block = arena.alloc("int", 2)
            n = ffikit.new("int", 5)
        kinds = sorted(x.kind for x in t.leaks())
        assert kinds == ["alloc", "arena", "arena block", "new"]
        where = {x.kind: x.where for x in t.leaks()}
        assert where["alloc"].endswith(f"test_tracking.py:{line_a}")
        del a, arena, block, n

    def test_freed_and_collected_are_not_leaks(self):
        with ffikit.track() as t:
            m = ffikit.alloc("char", 8)
            m.free()
            ffikit.alloc("char", 8)  # dropped at once
        assert t.leaks() == []
        t.assert_no_leaks()

    def test_report_groups_by_line_and_assert_raises(self):
        with ffikit.track() as t:
            keep = [ffikit.alloc("char", 100) for _ in range(3)]
        report = t.report()
        assert report.splitlines()[0] == "3 leaked ffikit allocation(s), 300 bytes:"
        assert "keep = [ffikit.alloc" in report and "      3  alloc" in report
        with pytest.raises(ffikit.LeakError) as info:
            t.assert_no_leaks()
        assert "3 ffikit allocation(s) were not freed" in str(info.value)
        del keep

    def test_off_by_default_and_thread_safe(self):
        assert tracking.ACTIVE is False
        with ffikit.track() as t:
            assert tracking.ACTIVE is True
            kept = []
            lock = threading.Lock()

            def work():
                for _ in range(200):
                    m = ffikit.alloc("char", 16)
                    with lock:
                        kept.append(m)

            threads = [threading.Thread(target=work) for _ in range(4)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            assert len(t.leaks()) == 800
        assert tracking.ACTIVE is False
        kept.clear()


class TestThreads:
    def test_current_thread_only_when_asked(self):
        made_elsewhere = []

        def work():
            made_elsewhere.append(ffikit.alloc("char", 16))

        with ffikit.track(threads="current") as mine, ffikit.track() as everyone:
            here = ffikit.alloc("char", 8)
            thread = threading.Thread(target=work)
            thread.start()
            thread.join()
        assert [a.size for a in mine.leaks()] == [8]
        assert sorted(a.size for a in everyone.leaks()) == [8, 16]  # "all" is the default
        assert mine.thread == threading.get_ident() and everyone.thread is None
        made_elsewhere.clear()
        del here

    def test_a_free_in_another_thread_still_counts(self):
        with ffikit.track(threads="current") as t:
            m = ffikit.alloc("char", 4)
            thread = threading.Thread(target=m.free)
            thread.start()
            thread.join()
        assert t.leaks() == [] and m.freed

    def test_unknown_choice(self):
        with pytest.raises(ffikit.InvalidValue, match="'all' or 'current'"):
            with ffikit.track(threads="mine"):
                pass
        assert tracking.ACTIVE is False
