"""The macro expander that finds the function a macro name stands for."""

from __future__ import annotations

import pytest

from ffikit.cdecl.macros import TOKEN_BUDGET, alias_targets, expand

OBJECTS = {"pcre2_compile": "PCRE2_SUFFIX(pcre2_compile_)", "PCRE2_CODE_UNIT_WIDTH": "8",
           "A": "B", "B": "A", "S": "STR(x, y)", "E": "", "N": "1 + 2"}
FUNCTIONS = {"PCRE2_JOIN": ("a,b", "a ## b"), "PCRE2_GLUE": ("a,b", "PCRE2_JOIN(a,b)"),
             "PCRE2_SUFFIX": ("a", "PCRE2_GLUE(a,PCRE2_CODE_UNIT_WIDTH)"),
             "STR": ("...", "#__VA_ARGS__"), "SELF": ("x", "SELF(x)")}


@pytest.mark.parametrize(("name", "tokens"), [
    ("pcre2_compile", ["pcre2_compile_8"]),  # pcre2's three-level paste
    ("A", ["A"]),  # a macro is not expanded inside its own expansion
    ("S", ['"x , y"']),
    ("E", []),
    ("N", ["1", "+", "2"]),
    ("plain", ["plain"]),
])
def test_expand(name, tokens):
    assert expand(name, OBJECTS, FUNCTIONS) == tokens


def test_self_reference_and_budget():
    assert expand("x", {"x": "SELF(1)"}, FUNCTIONS) == ["SELF", "(", "1", ")"]
    bomb = {"X0": "x"}
    for k in range(1, 40):
        bomb[f"X{k}"] = f"X{k - 1} X{k - 1}"  # 2**39 tokens if expanded
    assert expand("X39", bomb, {}) is None
    assert expand("X8", bomb, {}) == ["x"] * 256 and 256 < TOKEN_BUDGET


def test_alias_targets():
    declared = {"pcre2_compile_8", "__gmpz_init", "g"}.__contains__
    objects = {**OBJECTS, "mpz_init": "__gmpz_init", "N": "1 + 2", "loop": "loop"}
    functions = {**FUNCTIONS, "f": ("a, b", "g(a, b)"), "h": ("a, b", "g(b, a)"),
                 "v": ("...", "g(__VA_ARGS__)")}
    assert alias_targets(objects, functions, declared) == {
        "pcre2_compile": "pcre2_compile_8", "mpz_init": "__gmpz_init", "f": "g"}
