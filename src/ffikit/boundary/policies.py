"""Error policies: deciding from a C function's result whether it failed.

``lib.fn.errors = ffikit.check.nonzero`` (or ``.negative``, ``.null``,
``.errno``, or any callable ``(result, function, args) -> result``) turns C
error codes into :class:`ffikit.CallError`, naming the code when a
``{code: name}`` map is given.
"""

from __future__ import annotations

import ctypes
import errno as _errno_mod
import os
from collections.abc import Mapping

from ffikit.errors import CallError

__all__ = ["Policy", "check"]

_c_void_p = ctypes.c_void_p
_Pointer = ctypes._Pointer
_get_errno = ctypes.get_errno
_errorcode = _errno_mod.errorcode


class Policy:
    """An error policy: decides from a C result whether the call failed.

    Call it with a ``{code: name}`` mapping to get the same policy whose
    messages name the codes: ``check.negative({-1: "ENOMEM"})``.  A policy is
    called as ``policy(result, function, args)`` (the ctypes ``errcheck``
    signature) and returns the result or raises :class:`ffikit.CallError`.
    """

    def __init__(self, kind: str, codes: Mapping[object, str] | None = None):
        self.kind = kind
        self.codes = dict(codes or {})

    @property
    def __ffikit_policy__(self) -> str | None:
        """The kind, by which the compiled backend judges results in C: a call that
        passes never reaches Python; one that fails asks :meth:`failed` for the error.
        None for a subclass that changes how results are judged: it is called each time."""
        cls = type(self)
        if cls.__call__ is not Policy.__call__ or cls.failure is not Policy.failure \
                or cls.judge is not Policy.judge or cls.failed is not Policy.failed:
            return None
        return self.kind

    def __repr__(self) -> str:
        codes = f"({self.codes!r})" if self.codes else ""
        return f"ffikit.check.{self.kind}{codes}"

    def __call__(self, *args: object) -> object:
        if len(args) == 3:
            return self.judge(args[0], args[1])
        if len(args) == 1 and isinstance(args[0], Mapping):
            return Policy(self.kind, args[0])
        raise TypeError(f"{self!r} takes a {{code: name}} mapping, or (result, function, args)")

    def judge(self, result: object, function: object) -> object:
        """``result`` if the call succeeded, else raise :class:`ffikit.CallError`."""
        error = self.failure(result, function)
        if error is not None:
            raise error
        return result

    def failure(self, result: object, function: object) -> CallError | None:
        """The error for a failed call, None for a successful one."""
        if self.kind == "errno":
            failed = result is None or result == -1 or (isinstance(result, _c_void_p) and not result.value)
            if isinstance(result, _Pointer):
                failed = not result
        elif self.kind == "nonzero":
            failed = result != 0
        elif self.kind == "negative":
            failed = result < 0  # type: ignore[operator]
        elif self.kind == "null":
            failed = result is None or (isinstance(result, (_c_void_p, _Pointer)) and not result)
        else:  # pragma: no cover - constructed only below
            raise AssertionError(self.kind)
        return self.failed(result, function) if failed else None

    def failed(self, result: object, function: object, number: int | None = None) -> CallError:
        """The error for a call that failed: the compiled backend judges the C result
        itself and asks only for this (``number``: the errno C left), then raises it
        from C, so no Python frame joins the traceback; the message is worded when read."""
        name = getattr(function, "__name__", None) or str(function)
        if self.kind == "errno":
            if number is None:
                number = _get_errno()
            symbol = self.codes.get(number) or _errorcode.get(number, "")
            text = _strerror(number)
            return CallError.lazily(_errno_words, (name, result, number, symbol, text), name, result,
                                    symbol or None, number, text)
        code_name = self.codes.get(result) if isinstance(result, (int, float, bytes)) else None
        return CallError.lazily(_code_words, (name, result, code_name), name, result, code_name)


def _errno_words(name: str, result: object, number: int, symbol: str, text: str) -> str:
    label = f" ({symbol})" if symbol else ""
    return f"{name} failed: returned {_result_text(result)}, errno {number}{label}: {text}"


def _code_words(name: str, result: object, code_name: str | None) -> str:
    label = f" ({code_name})" if code_name else ""
    return f"{name} failed: returned {_result_text(result)}{label}"


def _strerror(number: int) -> str:
    """``os.strerror``, remembered per number (decoding the C library's text per failure
    costs more than the rest of a failing call)."""
    text = _STRERROR.get(number)
    if text is None:
        text = os.strerror(number)
        if len(_STRERROR) < 4096:
            _STRERROR[number] = text
    return text


_STRERROR: dict[int, str] = {}


def _result_text(result: object) -> str:
    if result is None or (isinstance(result, (_c_void_p, _Pointer)) and not result):
        return "NULL"
    return repr(result)


class _Check:
    """The error policies: ``ffikit.check.nonzero``, ``.negative``, ``.null``, ``.errno``.

    ``nonzero``: any non-zero result is an error (zlib's ``Z_OK == 0``);
    ``negative``: a result below zero; ``null``: a NULL pointer result;
    ``errno``: ``-1`` or NULL, with ``errno`` read from ctypes' private copy
    (libraries are loaded with ``use_errno=True``), raised as an ``OSError``.
    Each is usable bare or with a code->name map; any callable
    ``(result, function, args) -> result`` works as a policy too.
    """

    nonzero = Policy("nonzero")
    negative = Policy("negative")
    null = Policy("null")
    errno = Policy("errno")

    def __repr__(self) -> str:
        return "ffikit.check"


check = _Check()
