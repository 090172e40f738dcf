"""records: data classes with dataclasses' meaning for what ffikit uses, at a fraction of the cost."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import subprocess
import sys

import pytest

from ffikit.records import FrozenRecordError, data_record, field, fields, is_record, replace


@data_record(frozen=True)
class Point:
    """A frozen record with defaults."""

    x: int
    y: int = 0
    label: str = ""


@data_record
class Bag:
    """A mutable record with factories and a field left out of equality."""

    name: str
    items: list = field(default_factory=list)
    note: str = field(default="", compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class PointDC:
    x: int
    y: int = 0
    label: str = ""


class TestAsDataclassesDo:
    def test_init_defaults_and_keywords(self):
        assert (Point(1).x, Point(1).y, Point(1, 2, "a").label, Point(x=3, label="b").label) == (1, 0, "a", "b")
        with pytest.raises(TypeError):
            Point()
        with pytest.raises(TypeError):
            Point(1, 2, "a", 4)

    def test_equality_hash_and_repr_match_a_dataclass(self):
        for args in [(1,), (1, 2), (1, 2, "a")]:
            ours, theirs = Point(*args), PointDC(*args)
            assert repr(ours).replace("Point", "P") == repr(theirs).replace("PointDC", "P")
            assert hash(ours) == hash(theirs)  # both hash the tuple of fields
        assert Point(1, 2) == Point(1, 2) and Point(1, 2) != Point(2, 1)
        assert Point(1) != PointDC(1) and (Point(1) == (1, 0, "")) is False

    def test_frozen_refuses_assignment_and_deletion(self):
        p = Point(1)
        with pytest.raises(FrozenRecordError, match="cannot assign to field 'x'"):
            p.x = 2
        with pytest.raises(AttributeError):
            del p.y
        with pytest.raises(AttributeError):
            p.other = 1
        assert p.x == 1

    def test_mutable_records_are_unhashable_and_factories_are_per_instance(self):
        a, b = Bag("a"), Bag("a")
        a.items.append(1)
        assert b.items == [] and a.items is not b.items
        with pytest.raises(TypeError):
            hash(a)
        b.note = "ignored by =="
        b.items.append(1)
        assert a == b and "note" not in repr(b) and repr(a) == "Bag(name='a', items=[1])"

    def test_fields_replace_and_is_record(self):
        assert fields(Point) == fields(Point(1)) == ("x", "y", "label")
        moved = replace(Point(1, 2, "a"), y=5)
        assert moved == Point(1, 5, "a") and is_record(moved) and is_record(Point)
        assert not is_record(PointDC(1)) and not is_record(object)
        with pytest.raises(TypeError, match="no field 'z'"):
            replace(Point(1), z=1)

    def test_pickle_and_copy_keep_the_value(self):
        for value in (Point(1, 2, "a"), Bag("x", [1, 2], "n")):
            assert pickle.loads(pickle.dumps(value)) == value
            assert copy.copy(value) == value and copy.deepcopy(value) == value

    def test_a_field_without_default_after_one_with_is_refused(self):
        with pytest.raises(TypeError, match="without a default follows"):
            @data_record
            class Wrong:
                a: int = 0
                b: int

    def test_a_subclass_adds_fields_after_the_bases(self):
        @data_record(frozen=True)
        class Labelled(Point):
            colour: str = "red"

        assert fields(Labelled) == ("x", "y", "label", "colour")
        assert Labelled(1, colour="blue") != Point(1) and Labelled(1).colour == "red"

    def test_field_options_are_checked(self):
        with pytest.raises(ValueError):
            field(default=1, default_factory=list)


def test_defining_records_imports_no_dataclasses():
    code = ("import sys\nfrom ffikit.records import data_record\n"
            "@data_record(frozen=True)\nclass A:\n    x: int\n"
            "print('dataclasses' in sys.modules, 'inspect' in sys.modules, A(1))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "A(x=1)"]


def test_methods_the_class_defines_are_kept():
    @data_record(frozen=True)
    class Named:
        name: str

        def __repr__(self) -> str:
            return f"<{self.name}>"

        def __hash__(self) -> int:
            return 7

    assert repr(Named("a")) == "<a>" and hash(Named("a")) == 7 and Named("a") == Named("a")


def test_init_is_compiled_at_the_first_instance_not_at_definition(monkeypatch):
    """A record the process never constructs costs no ``compile``; the first instance puts the
    compiled ``__init__`` on the class, and a plain subclass constructs through it too."""
    import builtins

    compiled: list[str] = []
    real_compile = builtins.compile
    monkeypatch.setattr(builtins, "compile", lambda source, name, *a, **k: (
        compiled.append(name), real_compile(source, name, *a, **k))[1])

    @data_record(frozen=True)
    class Pair:
        a: int
        b: list = field(default_factory=list)

    class Child(Pair):
        pass

    stub = Pair.__init__
    assert compiled == []
    first = Child(1)
    assert compiled and compiled[0].endswith("Pair>") and Pair.__init__ is not stub
    assert (first.a, first.b, Pair(2, [3])) == (1, [], Pair(2, [3])) and len(compiled) == 1
    with pytest.raises(TypeError):
        Pair()
    with pytest.raises(FrozenRecordError):
        first.a = 5


def test_a_field_without_a_default_after_one_with_is_refused_at_definition():
    with pytest.raises(TypeError, match="'b' without a default follows one with a default"):
        @data_record
        class Bad:
            a: int = 0
            b: int
