"""``defs.constants``: each macro evaluated the first time it is asked for."""

from __future__ import annotations

import threading

import pytest

import ffikit
from ffikit.cdecl.lazy_constants import NOT_CONSTANT, Constants


def _counting(values: dict):
    asked: list[str] = []

    def evaluate(name):
        asked.append(name)
        return values.get(name, NOT_CONSTANT)

    return asked, evaluate


def test_only_what_is_asked_for_is_evaluated():
    macros = {"A": ("A", "1", "f.h", 1), "B": ("B", "x", "f.h", 2), "_G_H": ("_G_H", "1", "f.h", 3),
              "C": ("C", "3", "f.h", 4)}
    asked, evaluate = _counting({"A": 1, "C": 3, "_G_H": 1})
    constants = Constants(macros, lambda n: not n.endswith("_H"), evaluate)
    assert constants["A"] == 1 and asked == ["A"]
    assert "A" in constants and asked == ["A"]  # once
    assert "_G_H" not in constants and "nothing" not in constants and asked == ["A"]
    with pytest.raises(KeyError):
        constants["B"]  # not a constant
    assert list(constants) == ["A", "C"] and sorted(asked) == ["A", "B", "C"]
    assert len(constants) == 2 and dict(constants) == {"A": 1, "C": 3}


def test_known_values_come_after_macros():
    asked, evaluate = _counting({"X": 7})
    constants = Constants({"X": ("X", "7", "f.h", 1)}, None, evaluate)
    assert constants.setdefault("RED", 0) == 0 and constants.setdefault("X", 1) == 7
    assert list(constants) == ["X", "RED"] and constants["X"] == 7


def test_concurrent_first_use_evaluates_once():
    gate = threading.Barrier(4)
    asked, evaluate = _counting({"N": 5})
    constants = Constants({"N": ("N", "5", "f.h", 1)}, None, evaluate)

    def read():
        gate.wait()
        assert constants["N"] == 5

    threads = [threading.Thread(target=read) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert asked == ["N"]


def test_constants_are_evaluated_when_asked_for():
    defs = ffikit.include("sys/socket.h")
    constants = defs.constants
    assert constants["AF_INET"] == 2 and "AF_INET" in constants
    assert "NO_SUCH_MACRO" not in constants and "_SYS_SOCKET_H" not in constants
    with pytest.raises(KeyError):
        constants["NO_SUCH_MACRO"]
    listed = list(constants)  # iterating evaluates every candidate, once
    assert listed == list(constants) and len(constants) == len(listed) == len(set(listed))
    assert listed.index("PF_INET") < listed.index("AF_INET")  # definition order
    assert dict(constants.items())["SOCK_STREAM"] == 1


