"""``#define``\\ s as C sees them: expanded, then evaluated with C's types.

Object-like and function-like macros are expanded as the preprocessor would
(arguments, ``#``, ``##``, a macro never re-expanding itself), so
``UINT64_C(1)``, ``INT64_MIN`` (``(-__INT64_C(9223372036854775807)-1)``) and
``(PCRE2_SIZE)~0`` (``PCRE2_SIZE`` standing for ``size_t``) evaluate.

Linear, not exponential: each macro is evaluated once (memoised); where a macro
is one operand (``(B1*B1)``, ``-1``, ``(int)x``) its value stands for its text, so
``#define B2 (B1*B1)`` chains cost one multiplication each.  What would grow
(``#define D2 D1+D1``) is cut at :data:`MAX_TOKENS` tokens; macros referring to
macros deeper than :data:`MAX_NEST` levels are refused.  Nothing is silently
dropped: :func:`macro_constants` returns why each skipped macro was skipped.
"""

from __future__ import annotations

from ..errors import DeclarationError
from .carith import CValue, NotConstant
from .clex import tokenize
from .constexpr import Env, evaluate_atom, python_value, type_from_tokens
from .model import CType

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["Macros", "MacroValues", "macro_constants", "MAX_TOKENS", "MAX_NEST"]

MAX_TOKENS = 20000
MAX_NEST = 60


class _TooDeep(NotConstant):
    """Nested too deeply from where evaluation started (not a property of the macro):
    ``at`` is the macro reached at the limit, to evaluate first."""

    def __init__(self, message: str, at: str):
        super().__init__(message)
        self.at = at


class Macros:
    """A macro table, its expansion, and memoised values.

    ``objects`` maps names to bodies; ``functions`` maps names to
    ``(parameters, body)``.  ``env`` supplies the platform, type names and the
    constants that are not macros (enum members).
    """

    def __init__(self, objects: dict, functions: dict, env: Env):
        self.objects = objects
        self.functions = functions
        self.env = env
        self._tokens: dict = {}
        self._values: dict = {}
        self._expansions: dict = {}
        self._active: list = []
        self._expanding: set = set()

    def tokens(self, name: str) -> list:
        found = self._tokens.get(name)
        if found is None:
            body = self.objects[name] if name in self.objects else self.functions[name][1]
            found = self._tokens[name] = tokenize(body)
        return found

    def value(self, name: str) -> tuple[CValue, bool]:
        """The macro's value and whether it is one operand (memoised)."""
        found = self._values.get(name)
        if found is not None:
            if isinstance(found, NotConstant):
                raise found
            return found
        if name in self._active:
            raise NotConstant(f"'{name}' refers to itself")
        self._active.append(name)
        try:
            tokens = self.expansion(name)
            found = evaluate_atom(tokens if tokens is not None else [("name", name)], self.env)
        except _TooDeep:
            raise
        except NotConstant as exc:
            self._values[name] = exc
            raise
        except RecursionError:
            self._values[name] = NotConstant("nested too deeply")
            raise self._values[name] from None
        finally:
            self._active.pop()
        self._values[name] = found
        return found

    def expansion(self, name: str) -> list | None:
        """The body of object-like macro ``name`` fully expanded (memoised); None while
        it is being expanded (C does not expand a macro inside itself)."""
        found = self._expansions.get(name)
        if found is not None:
            if isinstance(found, NotConstant):
                raise found
            return found
        if name in self._expanding:
            return None
        if len(self._expanding) >= MAX_NEST:
            raise _TooDeep(f"macros nested deeper than {MAX_NEST} levels", name)
        self._expanding.add(name)
        try:
            found = self.expand(self.tokens(name), {name}, [MAX_TOKENS])
        except _TooDeep:
            raise
        except NotConstant as exc:
            self._expansions[name] = exc
            raise
        finally:
            self._expanding.discard(name)
        self._expansions[name] = found
        return found

    def expand(self, tokens: list, hide: set, budget: list) -> list:
        """``tokens`` with every macro expanded (values standing for one-operand macros)."""
        out: list = []
        i, n = 0, len(tokens)
        while i < n:
            tok = tokens[i]
            i += 1
            name = tok[1]
            if tok[0] != "name" or name in hide:
                out.append(tok)
                continue
            if name in self.objects:
                sub = self._object(name)
            elif name in self.functions and i < n and tokens[i][1] == "(":
                args, i = _arguments(tokens, i, name)
                sub = self.expand(self._substitute(name, args, hide, budget), hide | {name},
                                  budget)
            else:
                out.append(tok)
                continue
            budget[0] -= len(sub)
            if budget[0] < 0:
                raise NotConstant(f"expands to more than {MAX_TOKENS} tokens")
            out.extend(sub)
        return out

    def _object(self, name: str) -> list:
        try:
            value, atom = self.value(name)
            if atom:
                return [("v", value)]
        except _TooDeep:
            raise
        except NotConstant:
            body = self.tokens(name)
            if _parenthesised(body) and not (body[1][0] == "name"
                                             and self.env.is_type_name(body[1][1])):
                raise  # '(...)' that is no cast: its text would fail the same way
        sub = self.expansion(name)
        return sub if sub is not None else [("name", name)]

    def _substitute(self, name: str, args: list, hide: set, budget: list) -> list:
        params, _body = self.functions[name]
        body = self.tokens(name)
        variadic = bool(params) and params[-1] == "..."
        names = list(params[:-1] if variadic else params) + (["__VA_ARGS__"] if variadic else [])
        if variadic and len(args) > len(names):
            head, tail = args[:len(names) - 1], args[len(names) - 1:]
            joined: list = []
            for k, a in enumerate(tail):
                joined += ([("op", ",")] if k else []) + a
            args = head + [joined]
        if len(args) != len(names) and not (not names and args == [[]]):
            raise NotConstant(f"macro '{name}' takes {len(names)} arguments, got {len(args)}")
        table = dict(zip(names, args))
        result: list = []
        for j, tok in enumerate(body):
            if tok[0] == "name" and tok[1] in table:
                arg = table[tok[1]]
                if result and result[-1] == ("op", "#"):
                    result[-1] = ("str", '"' + " ".join(str(t[1]) for t in arg)
                                  .replace("\\", "\\\\").replace('"', '\\"') + '"')
                elif (j and body[j - 1][1] == "##") or (j + 1 < len(body)
                                                        and body[j + 1][1] == "##"):
                    result.extend(arg)
                else:
                    result.extend(self.expand(arg, hide, budget))
            else:
                result.append(tok)
        return _paste(result)


def _parenthesised(tokens: list) -> bool:
    """True when the whole body is one parenthesised group."""
    if not tokens or tokens[0] != ("op", "(") or tokens[-1] != ("op", ")"):
        return False
    depth = 0
    for k, tok in enumerate(tokens):
        if tok[0] == "op":
            depth += (tok[1] == "(") - (tok[1] == ")")
            if depth == 0 and k < len(tokens) - 1:
                return False
    return True


def _arguments(tokens: list, i: int, name: str) -> tuple[list, int]:
    """The arguments of a call whose ``(`` is at ``i``, and the index after ``)``."""
    args: list = [[]]
    depth = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        i += 1
        if tok[1] == "(" and tok[0] == "op":
            depth += 1
            if depth == 1:
                continue
        elif tok[1] == ")" and tok[0] == "op":
            depth -= 1
            if depth == 0:
                return args, i
        elif tok[1] == "," and tok[0] == "op" and depth == 1:
            args.append([])
            continue
        args[-1].append(tok)
    raise NotConstant(f"unterminated call of macro '{name}'")


def _paste(tokens: list) -> list:
    out: list = []
    k = 0
    while k < len(tokens):
        tok = tokens[k]
        if tok == ("op", "##") and out and k + 1 < len(tokens):
            left, right = out.pop(), tokens[k + 1]
            if left[0] == "v" or right[0] == "v":
                raise NotConstant("'##' on an expanded value")
            out.extend(tokenize(f"{left[1]}{right[1]}"))
            k += 2
            continue
        out.append(tok)
        k += 1
    return out


class MacroValues:
    """What each object-like macro is, decided on demand and memoised: a constant
    (with C's value on ``platform``), a type (``#define PCRE2_SIZE size_t``) or
    neither (with the reason).

    ``objects`` maps names to bodies, ``functions`` names to ``(params, body)``;
    ``values`` maps other constants' names (enum members) to their values;
    ``types``/``builtins``/``parse_type`` are as for :class:`Env`.
    """

    def __init__(self, objects: dict, functions: dict, *, platform=None, types=None,
                 builtins=None, values=None, parse_type=None):
        values = values or {}

        def lookup(name: str):
            if name in values:
                return values[name]
            if name in functions:
                raise NotConstant(f"'{name}' is a function-like macro used without arguments")
            raise NotConstant(f"'{name}' is not a constant")

        self.objects = objects
        self.env = Env(platform, lookup, types, builtins, parse_type)
        self.table = Macros(objects, functions, self.env)
        self._kinds: dict[str, tuple[str, Any]] = {}

    def classify(self, name: str) -> tuple[str, Any]:
        """``("constant", value)``, ``("type", ctype)`` or ``("skipped", reason)``."""
        found = self._kinds.get(name)
        if found is None:
            found = self._kinds[name] = self._classify(name)
        return found

    def _classify(self, name: str) -> tuple[str, Any]:
        body = self.objects.get(name)
        if body is None:
            return ("skipped", f"'{name}' is not an object-like macro")
        if not body.strip():
            return ("skipped", "empty (a flag for #ifdef)")
        try:
            return ("constant", python_value(_deep_value(self.table, name)[0]))
        except NotConstant as exc:
            ctype = _type_macro(self.table, name, self.env)
            return ("type", ctype) if ctype is not None else ("skipped", str(exc))


def macro_constants(macros: list, function_macros: dict, keep, *, platform=None,
                    types=None, builtins=None, values=None, parse_type=None
                    ) -> tuple[dict, dict, dict]:
    """Evaluate the object-like ``macros`` (``(name, body, file, line)``, definition
    order) with ``function_macros`` (``name -> (params, body, ...)``) available.

    Returns ``(constants, skipped, type_macros)`` for the macros ``keep(name, file)``
    accepts (or whose file is in ``keep``, a set): constants by name (Python values),
    ``skipped`` name -> the reason it is not a constant, ``type_macros`` name -> the
    model type a macro stands for (see :class:`MacroValues`).
    """
    if not callable(keep):  # a set of file names
        files = keep
        keep = lambda _name, file: file in files  # noqa: E731
    objects = {name: body for name, body, _file, _line in macros}
    functions = {name: (spec[0], spec[1]) for name, spec in function_macros.items()}
    found = MacroValues(objects, functions, platform=platform, types=types, builtins=builtins,
                        values=values, parse_type=parse_type)
    constants: dict = {}
    skipped: dict = {}
    type_macros: dict[str, CType] = {}
    for name, body, file, _line in macros:
        if not keep(name, file) or objects.get(name) != body:
            continue
        kind, value = found.classify(name)
        {"constant": constants, "type": type_macros, "skipped": skipped}[kind][name] = value
    for name, spec in function_macros.items():
        if len(spec) > 2 and keep(name, spec[2]):
            skipped.setdefault(name, "function-like macro (takes arguments)")
    return constants, skipped, type_macros


def _deep_value(table: Macros, name: str) -> tuple[CValue, bool]:
    """``table.value(name)``; a chain deeper than :data:`MAX_NEST` is evaluated from
    where the limit was reached, upwards (iteration, not recursion)."""
    stack = [name]
    while len(stack) > 1 or not isinstance(table._values.get(name), (tuple, NotConstant)):
        try:
            table.value(stack[-1])
            stack.pop()
        except _TooDeep as exc:
            if exc.at in stack or len(stack) > 10000:
                raise NotConstant(str(exc)) from None
            stack.append(exc.at)
        except NotConstant:
            stack.pop()
        if not stack:
            break
    return table.value(name)


def _type_macro(table: Macros, name: str, env: Env) -> CType | None:
    try:
        tokens = table.expansion(name)
        if not tokens or tokens[0][0] != "name" or not env.is_type_name(tokens[0][1]):
            return None
        return type_from_tokens(tokens, env)
    except (NotConstant, RecursionError, DeclarationError):
        return None
