"""Expanding a macro name as the C preprocessor would, to find the function it names.

GMP declares ``#define mpz_init __gmpz_init``; pcre2 declares
``#define pcre2_compile PCRE2_SUFFIX(pcre2_compile_)``, which pastes
``pcre2_compile_8`` through three function-like macros.  C code calls those
functions by the macro's name, so ``lib.mpz_init`` should work too:
:func:`expand` gives the tokens a name expands to (object-like and
function-like macros, ``#``, ``##``, ``__VA_ARGS__``, rescanning with C's rule
that a macro is not expanded inside its own expansion).  The work is bounded
(:data:`TOKEN_BUDGET`): a header's macros cannot make it run away.
"""

from __future__ import annotations

import re

__all__ = ["expand", "alias_targets", "TOKEN_BUDGET"]

TOKEN_BUDGET = 10_000  # tokens produced per expansion before giving up
_TOKEN = re.compile(r"""\s*(
    [A-Za-z_]\w* | \#\# | \# | "(?:[^"\\]|\\.)*" | '(?:[^'\\]|\\.)*' | \.\.\. |
    \d[\w.]* | \S)""", re.X)


class _Budget(Exception):
    """The expansion grew past :data:`TOKEN_BUDGET`."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def expand(name: str, objects: dict, functions: dict) -> list[str] | None:
    """The tokens ``name`` expands to, given ``objects`` (name -> body) and ``functions``
    (name -> ``(params text, body)``); None when the expansion runs past the budget."""
    return expand_tokens([name], objects, functions)


class _Expander:
    def __init__(self, objects: dict, functions: dict, budget: list):
        self.objects, self.functions, self.budget = objects, functions, budget

    def spend(self, n: int) -> None:
        self.budget[0] -= n
        if self.budget[0] < 0:
            raise _Budget

    def run(self, toks: list[str], hide: frozenset) -> list[str]:
        """``toks`` with every macro expanded (none of ``hide``: those are being expanded)."""
        out: list[str] = []
        i = 0
        while i < len(toks):
            tok = toks[i]
            if tok not in hide and tok in self.objects:
                body = _tokens(self.objects[tok])
                self.spend(len(body))
                out.extend(self.run(body, hide | {tok}))
                i += 1
                continue
            if tok not in hide and tok in self.functions and toks[i + 1:i + 2] == ["("]:
                args, after = _arguments(toks, i + 1)
                if args is not None:
                    params, body = self.functions[tok]
                    replaced = self.substitute(params, body, args, hide)
                    self.spend(len(replaced))
                    out.extend(self.run(replaced, hide | {tok}))
                    i = after
                    continue
            out.append(tok)
            i += 1
        return out

    def substitute(self, params_text: str, body: str, args: list, hide: frozenset) -> list[str]:
        params = [p.strip() for p in params_text.split(",") if p.strip()]
        variadic = bool(params) and params[-1] == "..."
        named = params[:-1] if variadic else params
        values = dict(zip(named, args))
        if variadic:
            rest = args[len(named):]
            values["__VA_ARGS__"] = [t for k, a in enumerate(rest) for t in ([","] if k else []) + a]
        toks = _tokens(body)
        out: list[str] = []
        for k, tok in enumerate(toks):
            if tok in values:
                pasted = (k > 0 and toks[k - 1] == "##") or (k + 1 < len(toks) and
                                                               toks[k + 1] == "##")
                if k > 0 and toks[k - 1] == "#":
                    out[-1] = '"' + " ".join(values[tok]) + '"'
                    continue
                out.extend(values[tok] if pasted else self.run(list(values[tok]), hide))
            else:
                out.append(tok)
        while "##" in out:
            k = out.index("##")
            left = out[k - 1] if k > 0 else ""
            right = out[k + 1] if k + 1 < len(out) else ""
            out[max(k - 1, 0):k + 2] = [left + right]
        return out


def _arguments(toks: list[str], open_at: int) -> tuple[list | None, int]:
    """The comma-separated arguments of the call whose ``(`` is at ``open_at``."""
    args: list[list[str]] = [[]]
    depth = 0
    for j in range(open_at, len(toks)):
        tok = toks[j]
        if tok == "(":
            depth += 1
            if depth == 1:
                continue
        elif tok == ")":
            depth -= 1
            if depth == 0:
                return ([] if args == [[]] else args), j + 1
        elif tok == "," and depth == 1:
            args.append([])
            continue
        args[-1].append(tok)
    return None, len(toks)


def alias_targets(objects: dict, functions: dict, declared) -> dict[str, str]:
    """Macro name -> the declared name it stands for (``declared(name)`` says which are):
    an object-like macro expanding to that one name, or a function-like one whose
    expansion calls it with the macro's own parameters (``#define f(a, b) g(a, b)``)."""
    found = {}
    for name in objects:
        toks = expand(name, objects, functions)
        if toks and len(toks) == 1 and toks[0] != name and declared(toks[0]):
            found[name] = toks[0]
    for name, (params_text, _body) in functions.items():
        params = [p.strip() for p in params_text.split(",") if p.strip()]
        if "..." in params or not all(p.isidentifier() for p in params):
            continue
        call = [name, "(", *[t for k, p in enumerate(params) for t in ([","] if k else []) + [p]],
                ")"]
        toks = expand_tokens(call, objects, functions)
        if toks and toks[0] != name and declared(toks[0]) and toks[1:] == call[1:]:
            found[name] = toks[0]
    return found


def expand_tokens(toks: list[str], objects: dict, functions: dict) -> list[str] | None:
    """:func:`expand` for a token list (a call, say)."""
    try:
        return _Expander(objects, functions, [TOKEN_BUDGET]).run(toks, frozenset())
    except (_Budget, RecursionError):
        return None
