"""Running the system C preprocessor (``$CC -E -dD``, or ``pcpp`` without a compiler).

The preprocessor runs in its own process group with a time limit
(:func:`cpp_timeout`): past it, the whole group (the driver and its ``cc1``)
is killed and a DeclarationError raised, so an ``#include`` of a FIFO, a
device or an endless file neither hangs the caller nor leaves processes
behind.  An ``#include`` naming something that is not a regular file is
refused before the preprocessor starts.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
from collections.abc import Callable
from functools import lru_cache

from ..cachedir import which
from ..errors import DeclarationError

TYPE_CHECKING = False

if TYPE_CHECKING:
    import subprocess

__all__ = ["compiler", "system_include_dirs", "run_cpp", "cpp_timeout"]


def compiler() -> list[str]:
    return shlex.split(os.environ.get("CC") or "cc")


@lru_cache(maxsize=8)
def system_include_dirs(cc: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The compiler's default ``#include <...>`` search path."""
    import subprocess  # (a cached model needs no preprocessor: imported when one runs)

    cc = cc or tuple(compiler())
    try:
        proc = subprocess.run([*cc, "-E", "-x", "c", "-v", "-"], input="", capture_output=True,
                              text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return ()
    dirs, inside = [], False
    for line in proc.stderr.splitlines():
        if line.startswith("#include <...> search starts here"):
            inside = True
        elif line.startswith("End of search list"):
            break
        elif inside:
            dirs.append(line.strip())
    return tuple(dirs)


def run_cpp(text: str, filename: str, include_dirs=(), defines=None, cpp=None,
            meanwhile: Callable[[], object] | None = None) -> str:
    """Run the C preprocessor over ``text``; return its output with ``#define``s kept.

    ``meanwhile()`` (e.g. importing the parser) is called while the preprocessor runs."""
    define_args = []
    for name, value in (defines or {}).items():
        define_args.append(f"-D{name}" if value is None else f"-D{name}={value}")
    include_args = [f"-I{d}" for d in include_dirs]
    cc = shlex.split(cpp) if isinstance(cpp, str) else (list(cpp) if cpp else compiler())
    if which(cc[0]) is None:
        return _run_pcpp(text, filename, include_dirs, defines, cc[0])
    _refuse_special_includes(text, include_dirs)
    argv = [*cc, "-E", "-dD", "-std=gnu11", "-x", "c", *include_args, *define_args, "-"]
    returncode, stdout, stderr = _run_bounded(argv, f'# 1 "{filename}"\n{text}', cc[0], meanwhile)
    if returncode != 0:
        raise _cpp_error(stderr, include_dirs, cc)
    return stdout


def cpp_timeout() -> float:
    """Seconds the preprocessor may run (``$FFIKIT_CPP_TIMEOUT``, default 30)."""
    try:
        return max(float(os.environ.get("FFIKIT_CPP_TIMEOUT", "30")), 0.1)
    except ValueError:
        return 30.0


# Input this small is written before ``meanwhile`` runs: it fits the pipe's buffer (64 KiB on
# Linux, 16 KiB on macOS), so the write cannot block on a preprocessor that is not reading yet.
_PREWRITE = 4096


def _run_bounded(argv: list, text: str, name: str,
                 meanwhile: Callable[[], object] | None = None) -> tuple[int, str, str]:
    """Run the preprocessor in its own process group; past :func:`cpp_timeout` the whole
    group (the driver and its ``cc1``) is killed and a DeclarationError raised, so an
    ``#include`` of a FIFO or a device cannot hang the caller or leave processes behind.

    ``meanwhile()`` runs while the preprocessor works (its 15-25 ms for a header overlap
    the parser's imports): a small input is handed over whole first (cc reads to the
    end of its input before it writes), and the output pipe is widened so that cc
    finishes without a reader.  Larger input is written by ``communicate`` after
    ``meanwhile``, which reads the output as it writes (no deadlock)."""
    import subprocess

    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True)
    except OSError as exc:
        raise DeclarationError(f"could not run the C preprocessor {name!r}: {exc}") from None
    timeout = cpp_timeout()
    try:
        if meanwhile is not None:
            _widen_pipe(proc.stdout)  # a header's output (100+ KB) fits: cc does not stall
            if len(text) <= _PREWRITE and proc.stdin is not None:
                _hand_over(proc, text)
                text = ""
            meanwhile()
        stdout, stderr = proc.communicate(text or None, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise DeclarationError(
            f"the C preprocessor ran longer than {timeout:g} s and was stopped",
            hint="an #include of a FIFO, a device or a huge file? (set $FFIKIT_CPP_TIMEOUT "
                 "for slow machines)") from None
    except BaseException:
        _kill_group(proc)
        raise
    return proc.returncode, stdout, stderr


def _hand_over(proc: subprocess.Popen, text: str) -> None:
    """Write all of ``text`` to the preprocessor and close its input (``communicate``
    then has no input to send)."""
    stdin, proc.stdin = proc.stdin, None
    try:
        stdin.write(text)  # type: ignore[union-attr]
    except BrokenPipeError:  # it exited already: communicate() collects why
        pass
    finally:
        with contextlib.suppress(BrokenPipeError):
            stdin.close()  # type: ignore[union-attr]


def _widen_pipe(pipe) -> None:
    """Let the preprocessor write up to 1 MiB before anyone reads (Linux; 64 KiB by default),
    so it runs to the end while ``meanwhile`` works.  Elsewhere, or refused: as it was."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (ImportError, OSError, ValueError, AttributeError):
        pass


def _kill_group(proc: subprocess.Popen) -> None:
    import signal

    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.communicate()


_INCLUDE_LINE = re.compile(r'^[ \t]*#[ \t]*include(?:_next)?[ \t]*["<]([^">\n]+)[">]', re.M)


def _refuse_special_includes(text: str, include_dirs) -> None:
    """An ``#include`` that names a FIFO, device or directory: refused before running."""
    for m in _INCLUDE_LINE.finditer(text):
        name = m.group(1)
        for base in ("", *include_dirs):
            path = os.path.join(base, name) if base else name
            if os.path.exists(path) and not os.path.isfile(path) and \
                    (base or os.path.isabs(name) or m.group(0).rstrip().endswith('"')):
                raise DeclarationError(f"#include names {path!r}, which is not a regular file",
                                       hint="include header files only")


def _cpp_error(stderr: str, include_dirs, cc) -> DeclarationError:
    match = re.search(r"^(.*?):(\d+):(\d+): (?:fatal )?error: (.*)$", stderr, re.M)
    message = match.group(4) if match else stderr.strip().splitlines()[-1:]
    hint = None
    if match and "No such file or directory" in match.group(4):
        searched = list(include_dirs) + list(system_include_dirs(tuple(cc)))
        hint = ("searched: " + ", ".join(searched) +
                "; pass include_dirs=[...] or install the library's development headers")
    return DeclarationError(
        f"preprocessor: {message}",
        filename=match.group(1) if match else None,
        line=int(match.group(2)) if match else None,
        column=int(match.group(3)) if match else None,
        hint=hint,
    )


def _run_pcpp(text, filename, include_dirs, defines, missing) -> str:
    try:
        from pcpp import Preprocessor  # optional fallback, pure Python
    except ImportError:
        raise DeclarationError(
            f"no C preprocessor: {missing!r} is not installed and pcpp is not available",
            hint="install gcc/clang (or set $CC), or 'pip install pcpp'",
        ) from None
    import io

    class Strict(Preprocessor):  # pcpp prints a missing include to stderr and goes on
        def on_include_not_found(self, is_malformed, is_system_include, curdir, includepath):
            raise DeclarationError(
                f"#include {includepath!r} not found (pcpp, the fallback preprocessor, searched "
                f"{[str(d) for d in include_dirs] or 'no include_dirs'})",
                hint="pass include_dirs=[...] with its directory, or install a C compiler")

    pre = Strict()
    for d in include_dirs:
        pre.add_path(str(d))
    for name, value in (defines or {}).items():
        pre.define(f"{name} {'' if value is None else value}")
    pre.parse(text, filename)
    out = io.StringIO()
    pre.write(out)
    defined = "".join(
        f"#define {m.name} {''.join(t.value for t in m.value)}\n"
        for m in pre.macros.values() if m.arglist is None and m.source == filename
    ) if hasattr(next(iter(pre.macros.values()), None), "source") else ""
    return out.getvalue() + defined
