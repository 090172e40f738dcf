"""The ffikit exception hierarchy.

Every error derives from :class:`FFIError` and also from the builtin a user
would already catch (``OSError``, ``TypeError``, ``ValueError``, ...), so
``except ValueError`` keeps working around ffikit code.  Every error displays
as ``ffikit.<Name>`` and its message says what went wrong, where, and how to
fix it.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = [
    "FFIError",
    "LibraryNotFound",
    "SymbolNotFound",
    "DeclarationError",
    "ArgumentError",
    "InvalidValue",
    "UnknownMember",
    "SharedMemoryNotFound",
    "SharedMemoryExists",
    "OutOfRange",
    "CallError",
    "BufferTooSmall",
    "CallbackReleased",
    "CallbackRecursion",
    "ReadOnlyBuffer",
    "InvalidAddress",
    "NotContiguous",
    "MisalignedBuffer",
    "MemoryReleased",
    "MemoryInUse",
    "ProtectedMemory",
    "OutOfMemory",
    "CompileError",
    "UntrustedCache",
    "LeakError",
    "NotPicklable",
    "UnsafeWarning",
]


class FFIError(Exception):
    """Base class of every error ffikit raises itself."""


class LibraryNotFound(FFIError, OSError):
    """A shared library could not be found or loaded.

    ``candidates`` lists ``(path_or_name, reason)`` for every file tried.
    """

    def __init__(self, message: str, candidates: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.candidates = list(candidates or [])

    def __str__(self) -> str:
        return str(self.args[0])


class SymbolNotFound(FFIError, AttributeError):
    """A declared function or variable is not exported by the library.

    ``suggest`` (optional) returns the "did you mean" tail of the message; it
    runs when the message is first shown, so ``hasattr`` and refusals that
    nobody reads cost microseconds, not a fuzzy search over every name.
    """

    def __init__(self, message: str, suggest: Callable[[], str] | None = None):
        super().__init__(message)
        self._suggest = suggest

    def __str__(self) -> str:
        if self._suggest is not None:
            suggest, self._suggest = self._suggest, None
            self.args = (self.args[0] + suggest(),)
        return str(self.args[0])


class DeclarationError(FFIError, ValueError):
    """C declaration text could not be parsed or understood.

    Carries ``filename``, ``line`` and ``column`` when known; the message
    quotes the offending line with a caret under the column.
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str | None = None,
        line: int | None = None,
        column: int | None = None,
        source_line: str | None = None,
        hint: str | None = None,
    ):
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        self.source_line = source_line
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = ""
        if self.line is not None:
            where = f"{self.filename or '<cdef>'}:{self.line}"
            if self.column:
                where += f":{self.column}"
            where += ": "
        text = where + self.message
        if self.source_line is not None:
            text += "\n    " + self.source_line.rstrip("\n")
            if self.column:
                text += "\n    " + " " * (self.column - 1) + "^"
        if self.hint:
            text += "\nhint: " + self.hint
        return text

    def __str__(self) -> str:
        return self._render()


class ArgumentError(FFIError, TypeError):
    """A Python value cannot be passed to a C parameter (or given to an ffikit function)."""


class OutOfRange(ArgumentError, OverflowError):
    """A number outside its C type's range (an ``int`` argument for ``int8_t``, a float
    too large for ``float``); also an ``OverflowError``, which cffi and Python's own
    conversions raise for the same mistake.  Never wrapped silently."""


class InvalidValue(ArgumentError, ValueError):
    """An argument of the right type has a value ffikit cannot use (a negative count,
    an unknown mode); also a ``ValueError``, as Python's own functions raise for such values."""


class UnknownMember(ArgumentError, AttributeError):
    """A struct or union was given a member it does not have (``S(widht=3)``, ``s.widht = 3``);
    also an ``AttributeError``, as assigning an unknown attribute is in Python."""


class SharedMemoryNotFound(FFIError, FileNotFoundError):
    """``ffikit.shared(name, ..., create=False)`` found no shared memory block of that name."""


class SharedMemoryExists(FFIError, FileExistsError):
    """``ffikit.shared(name, ...)`` would create a block whose name is already taken."""


class CallError(FFIError, OSError):
    """A C function reported failure through its declared error policy.

    ``function``, ``code`` and ``code_name`` say which function returned which
    code; when errno is involved the exception also carries ``errno`` and
    ``strerror`` like any ``OSError``.  The message may be worded lazily (on
    first ``str()`` or ``.message``): a caller that catches the error and
    goes on does not pay for the words.
    """

    def __init__(
        self,
        message: str,
        *,
        function: str | None = None,
        code: object = None,
        code_name: str | None = None,
        errno: int | None = None,
        strerror: str | None = None,
    ):
        if errno is not None:
            super().__init__(errno, strerror or "")
        else:
            super().__init__(message)
        self.message = message
        self.function = function
        self.code = code
        self.code_name = code_name

    @classmethod
    def lazily(cls, words: Callable[..., str], parts: tuple[object, ...], function: str, code: object,
               code_name: str | None, errno: int | None = None, strerror: str | None = None) -> CallError:
        """The error, its message ``words(*parts)`` worded only when first read (with an
        errno; without one, ``args`` holds the message, so it is worded now)."""
        if errno is None:
            return cls(words(*parts), function=function, code=code, code_name=code_name)
        exc = _oserror_new(cls, errno, strerror or "")
        _oserror_init(exc, errno, strerror or "")  # args: (errno, strerror), as OSError's
        attributes = exc.__dict__
        attributes["_words"] = (words, parts)
        attributes["function"] = function
        attributes["code"] = code
        attributes["code_name"] = code_name
        return exc

    @property
    def message(self) -> str:
        found = self.__dict__.get("_message")
        if found is None:
            words, parts = self.__dict__.pop("_words")
            found = self.__dict__["_message"] = words(*parts)
        return str(found)

    @message.setter
    def message(self, value: str) -> None:
        self.__dict__["_message"] = value

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (_call_error, (self.message, self.function, self.code, self.code_name, self.errno,
                              self.strerror))


def _call_error(message: str, function: str | None, code: object, code_name: str | None,
                errno: int | None, strerror: str | None) -> CallError:
    return CallError(message, function=function, code=code, code_name=code_name, errno=errno,
                     strerror=strerror)


_oserror_new = OSError.__new__
_oserror_init = OSError.__init__


class BufferTooSmall(FFIError, ValueError):
    """A buffer is smaller than the C type or count asked for."""


class CallbackReleased(FFIError, RuntimeError):
    """C called a callback after ffikit released it (a plain callable after its call returned,
    or a released or collected :func:`ffikit.callback`); C got the callback's ``on_error``."""


class CallbackRecursion(FFIError, RecursionError):
    """A callback was called from C with too little C stack left on its thread to run Python
    safely (recursion through C: Python -> C -> Python ...); C got the callback's ``on_error``."""


class ReadOnlyBuffer(FFIError, TypeError):
    """Read-only memory was offered where C (or Python) would write to it."""


class InvalidAddress(FFIError, ValueError):
    """A raw address cannot be trusted: NULL, unmapped, unreadable, read-only where a write
    was asked for, or (a function pointer read from memory) not checkable at all; the
    message names the ``unsafe=True`` opt-in."""


class NotContiguous(FFIError, BufferError):
    """A buffer is not C-contiguous, so C cannot see it as one block."""


class MisalignedBuffer(FFIError, ValueError):
    """A buffer's address is not aligned for the C type viewed over it."""


class MemoryReleased(FFIError, ValueError):
    """Memory was used after it was freed or its arena was reset."""


class MemoryInUse(FFIError, BufferError):
    """Memory cannot be freed, reset, released or re-protected while views of it are alive."""


class ProtectedMemory(FFIError, PermissionError):
    """Python tried to read memory protected ``"none"`` or to write memory protected ``"r"``."""


class OutOfMemory(FFIError, MemoryError):
    """Native memory could not be allocated (the system refused, or an arena or pool is full)."""


class CompileError(FFIError, RuntimeError):
    """The C compiler failed; ``stderr`` holds what it said."""

    def __init__(self, message: str, *, stderr: str = "", command: list[str] | None = None):
        super().__init__(message)
        self.stderr = stderr
        self.command = list(command or [])

    def __str__(self) -> str:
        text = str(self.args[0])
        if self.stderr:
            text += "\n" + self.stderr.rstrip()
        return text


class UntrustedCache(CompileError, PermissionError):
    """The cache directory could be written by someone else, so nothing in it is loaded.

    A shared library runs code when it is loaded: a cache others can write
    would let them run code in this process.  The message names the directory
    and the fix (``chmod go-w``, or ``$FFIKIT_CACHE_DIR`` set elsewhere).
    """

    def __init__(self, message: str):
        super().__init__(message)


class LeakError(FFIError, AssertionError):
    """Tracked native allocations were still alive; ``report`` lists them."""

    def __init__(self, message: str, report: str = ""):
        super().__init__(message)
        self.report = report

    def __str__(self) -> str:
        return str(self.args[0]) + ("\n" + self.report if self.report else "")


class NotPicklable(FFIError, TypeError):
    """An object that cannot travel to another process by pickle (the message says why
    and what to send instead); ``TypeError`` as for any unpicklable object."""


class UnsafeWarning(UserWarning):
    """An opt-in that steps outside ffikit's checks (raw access the caller must get right)."""


for _cls in list(globals().values()):
    if isinstance(_cls, type) and issubclass(_cls, (FFIError, UnsafeWarning)):
        _cls.__module__ = "ffikit"
del _cls
