"""The declaration model of a header, cached on disk: a later process skips the preprocessor and the parser.

``include("sqlite3.h")`` preprocesses (``cc -E``) and parses (pycparser)
every time: about a second for sqlite3.h.  The parsed, laid-out model is
stored in the cache directory (:mod:`ffikit.cachedir`: trusted directory,
hash-verified entries, atomic writes, size bound), keyed by everything that
changes it: the ``include`` arguments, the target platform and this host,
the compiler's identity (path, size, mtime: no ``cc --version``), ffikit's
version and this format's version.  Each entry lists the files the
preprocessor read with their size and mtime; the entry is used only if all
still match (an edited header, or a new version of the library, rebuilds it).
A header newly put earlier on the include path, shadowing one listed, is not
noticed: ``ffikit cache clear``.

An entry is one line of JSON (format, key, input files) and the model as a
pickle that only model data can come out of (:mod:`.modelformat`: shared and
cyclic types -- a struct pointing to itself -- come back as they were, and
only the model's own classes are ever made).  Anything that does not check
out -- truncated, foreign, another version, another platform, a class or a
function that is not model data -- is ignored and the header is parsed
again.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable

from . import modelformat

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["cached", "FORMAT", "input_files"]

FORMAT = 4


def _debug(message: str, *args: Any) -> None:
    """A debug record for ``ffikit.cdecl``.  Without :mod:`logging` imported nobody configured
    a handler, and debug records would go nowhere: not importing it saves start-up time."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("ffikit.cdecl").debug(message, *args)


_LINE_MARKER = re.compile(r'\n#\s*(?:line\s+)?\d+\s+"([^"]+)"')  # (in "\n" + text: a literal
# first is found by a fast scan)


def input_files(preprocessed_text: str) -> tuple[str, ...]:
    """The files the preprocessor read (from its line markers), as absolute paths."""
    found = dict.fromkeys(os.path.abspath(f) for f in dict.fromkeys(
        _LINE_MARKER.findall("\n" + preprocessed_text)) if not f.startswith("<"))  # (each name once:
    # a header's output names its files in hundreds of markers)
    return tuple(f for f in found if os.path.isfile(f))


def _stamp(files: tuple[str, ...] | list[str]) -> list[list]:
    out = []
    for path in files:
        info = os.stat(path)
        out.append([path, info.st_size, info.st_mtime_ns])
    return out


def _key(parts: tuple) -> list:
    from ffikit.cachedir import compiler_identity

    from .platforms import host_machine

    return [FORMAT, _model_code(), sys.platform, host_machine(), sys.maxsize, sys.byteorder,
            compiler_identity(), os.environ.get("CPATH", ""), os.environ.get("C_INCLUDE_PATH", ""),
            repr(parts)]


@functools.lru_cache(maxsize=1)
def _model_code() -> list:
    """The model code's own files (:func:`~ffikit.cachedir.code_stamps`): a changed ffikit
    reads no old entry."""
    from ffikit.cachedir import code_stamps

    return code_stamps(os.path.dirname(os.path.abspath(__file__)), [""], (".py",))


def _load(path: str, key: list) -> tuple[Any, list] | None:
    from ffikit.cachedir import read_verified

    data = read_verified(path)
    if data is None:
        return None
    head, _, body = data.partition(b"\n")
    try:
        entry = json.loads(head)
        if type(entry) is not dict or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        if _stamp([f for f, _, _ in entry["inputs"]]) != entry["inputs"]:
            return None  # a header changed since
        return modelformat.loads(body), entry["inputs"]
    except Exception as exc:  # (what a damaged pickle raises is not one closed list of errors:
        _debug("declaration cache entry %s not used: %r", path, exc)  # the header is parsed)
        return None


def _keyed(result: Any, digest: str, inputs: list) -> Any:
    """Name the model's content on ``result`` (``_model_key``: the entry's key and the files it
    was read from), so caches derived from a model can be keyed by it."""
    from ffikit.cachedir import sha256_hex

    state = getattr(result, "__dict__", None)
    if isinstance(state, dict):
        state["_model_key"] = sha256_hex(json.dumps([digest, inputs]).encode())[:32]
    return result


def cached(parts: tuple, make: Callable[[], Any], parts_of: Callable[[Any], tuple],
           rebuild: Callable[[tuple], Any], *, standalone: bool = False) -> Any:
    """``make()``'s result for the include (or cdef) arguments ``parts``, from the cache when
    it can be.

    ``parts_of(result)`` gives ``(model tuple, input files)`` to store;
    ``rebuild(model tuple)`` turns a stored model back into the result.  A result made from
    no file is stored only when ``standalone`` (``parts`` alone determine it).
    """
    from ffikit.cachedir import publish, sha256_hex, touch, trusted_root
    from ffikit.errors import CompileError

    try:
        key = _key(parts)
        root = trusted_root()
    except (CompileError, OSError) as exc:  # no compiler, or no trusted cache: parse every time
        _debug("declaration cache not used: %s", exc)
        return make()
    digest = sha256_hex(json.dumps(key).encode())[:24]
    path = os.path.join(root, f"model-{digest}.pickle")
    loaded = _load(path, key)
    if loaded is not None:
        try:
            rebuilt = rebuild(loaded[0])
        except Exception as exc:  # model classes only, but not the model's shape: parse again
            _debug("declaration cache entry %s not used: %r", path, exc)
        else:
            _debug("declaration cache hit: %s", path)
            touch(path)
            return _keyed(rebuilt, digest, loaded[1])
    result = make()
    try:
        model, inputs = parts_of(result)
        if not inputs and not standalone:
            return result
        stamps = _stamp(inputs)
        head = json.dumps({"format": FORMAT, "key": key, "inputs": stamps}, separators=(",", ":"))
        publish(path, head.encode() + b"\n" + modelformat.dumps(model))  # (JSON escapes newlines)
        _debug("declaration cache stored: %s", path)
        _keyed(result, digest, stamps)
    except (modelformat.Unsupported, OSError, ValueError, TypeError) as exc:
        _debug("declaration cache: not stored (%s)", exc)
    return result
