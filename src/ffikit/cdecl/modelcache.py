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

The format is plain data (JSON), never pickle: the model's objects are
written as a table of nodes (class, attributes), so shared and cyclic types
(a struct pointing to itself) come back as they were, and only classes of
``ffikit.cdecl`` are ever made from it.  Anything that does not check out --
truncated, foreign, another version, another platform, a class that is not
a model class -- is ignored and the header is parsed again.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from .model import Primitive

__all__ = ["cached", "FORMAT", "input_files"]

FORMAT = 1


def _debug(message: str, *args: Any) -> None:
    """A debug record for ``ffikit.cdecl``.  Without :mod:`logging` imported nobody configured
    a handler, and debug records would go nowhere: not importing it saves start-up time."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("ffikit.cdecl").debug(message, *args)
_LINE_MARKER = re.compile(r'^#\s*(?:line\s+)?\d+\s+"([^"]+)"', re.M)
_MODEL_PACKAGE = "ffikit.cdecl."
_PRIMITIVES = (str, int, float, bool, type(None))
_PLAIN = frozenset(_PRIMITIVES)


class _Unsupported(Exception):
    """The model holds something this format does not store: it is not cached."""


def input_files(preprocessed_text: str) -> tuple[str, ...]:
    """The files the preprocessor read (from its line markers), as absolute paths."""
    found = dict.fromkeys(os.path.abspath(f) for f in _LINE_MARKER.findall(preprocessed_text)
                          if not f.startswith("<"))
    return tuple(f for f in found if os.path.isfile(f))


def _stamp(files: tuple[str, ...] | list[str]) -> list[list]:
    out = []
    for path in files:
        info = os.stat(path)
        out.append([path, info.st_size, info.st_mtime_ns])
    return out


# --- encoding: a node table of model objects, plain containers inline ----------------------

def _state_names(cls: type) -> list[str]:
    names: list[str] = []
    for klass in cls.__mro__:
        for slot in klass.__dict__.get("__slots__", ()):
            if slot not in ("__weakref__", "__dict__", "_hash") and slot not in names:  # (a
                # cached hash belongs to its process: string hashes are salted per process)
                names.append(slot)
    return names


class _Encoder:
    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.primitives: dict[str, int] = {}
        self.nodes: list[Any] = []
        self.keep: list[Any] = []

    def node(self, obj: Any) -> dict:
        found = self.ids.get(id(obj))
        if found is None and type(obj) is Primitive:  # a value with no parts: one node per name
            found = self.primitives.get(obj.name)  # (the parser makes one object per use)
            if found is not None:
                self.ids[id(obj)] = found
                self.keep.append(obj)
        if found is None:
            cls = type(obj)
            if cls is Primitive:
                self.primitives[obj.name] = len(self.nodes)
            if not cls.__module__.startswith(_MODEL_PACKAGE):
                raise _Unsupported(f"{cls.__module__}.{cls.__qualname__}")
            found = self.ids[id(obj)] = len(self.nodes)
            self.keep.append(obj)
            self.nodes.append(None)
            state = dict(getattr(obj, "__dict__", {}))
            for name in _state_names(cls):
                if hasattr(obj, name):
                    state[name] = getattr(obj, name)
            self.nodes[found] = [cls.__module__, cls.__qualname__,
                                 {k: self.value(v) for k, v in state.items()}]
        return {"r": found}

    def value(self, obj: Any) -> Any:
        if isinstance(obj, _PRIMITIVES):
            if isinstance(obj, float) and obj != obj:
                return {"nan": 1}
            return obj
        if type(obj) is list:
            return {"l": [self.value(v) for v in obj]}
        if type(obj) is tuple:
            return {"t": [self.value(v) for v in obj]}
        if type(obj) is dict:
            return {"d": [[self.value(k), self.value(v)] for k, v in obj.items()]}
        if type(obj) is frozenset:
            return {"f": [self.value(v) for v in obj]}
        if type(obj) is set:
            return {"s": [self.value(v) for v in obj]}
        return self.node(obj)


def _model_class(module: str, qualname: str) -> type[object]:
    """The model class a node names; anything outside ``ffikit.cdecl`` is refused."""
    leaf = module[len(_MODEL_PACKAGE):] if module.startswith(_MODEL_PACKAGE) else ""
    if not (leaf and leaf.isascii() and leaf.replace("_", "a").isalpha() and leaf.islower()) or \
            not (qualname.isascii() and qualname.isidentifier()):  # (str checks: no regex to compile)
        raise ValueError(f"not a model class: {module}.{qualname}")
    target = getattr(importlib.import_module(module), qualname, None)
    if not isinstance(target, type) or target.__module__ != module:
        raise ValueError(f"not a model class: {module}.{qualname}")
    return target


class _Decoder:
    def __init__(self, nodes: list) -> None:
        self.nodes = nodes
        known: dict[tuple[str, str], type[object]] = {}
        classes = []
        for module, qualname, _ in nodes:
            cls = known.get((module, qualname))
            if cls is None:
                cls = known[module, qualname] = _model_class(module, qualname)
            classes.append(cls)
        self.objects = [cls.__new__(cls) for cls in classes]

    def run(self) -> None:
        # Fill the leaves first: a node's state may hash another node (a dict keyed by a type).
        setattr_, value, plain, objects, nodes = object.__setattr__, self.value, _PLAIN, \
            self.objects, self.nodes
        for index in range(len(nodes) - 1, -1, -1):
            obj = objects[index]
            for name, data in nodes[index][2].items():
                setattr_(obj, name, data if type(data) in plain else value(data))

    def value(self, data: Any) -> Any:
        if type(data) in _PLAIN:  # (JSON makes these exact types)
            return data
        (tag, body), = data.items()
        if tag == "r":
            return self.objects[body]
        value, plain = self.value, _PLAIN
        if tag == "t":
            return tuple([v if type(v) in plain else value(v) for v in body])
        if tag == "l":
            return [v if type(v) in plain else value(v) for v in body]
        if tag == "d":
            return {value(k): value(v) for k, v in body}
        if tag == "f":
            return frozenset([value(v) for v in body])
        if tag == "s":
            return {value(v) for v in body}
        if tag == "nan":
            return float("nan")
        raise ValueError(f"unknown tag {tag!r}")


# --- the cache entry -------------------------------------------------------------------------

def _key(parts: tuple) -> list:
    import platform as host

    from ffikit.cachedir import compiler_identity

    return [FORMAT, _model_code(), sys.platform, host.machine(), sys.maxsize, sys.byteorder,
            compiler_identity(), os.environ.get("CPATH", ""), os.environ.get("C_INCLUDE_PATH", ""),
            repr(parts)]


def _model_code() -> list:
    """The model code's own files (name, size, mtime): a changed ffikit reads no old entry."""
    here = os.path.dirname(os.path.abspath(__file__))
    return [[name, (info := os.stat(os.path.join(here, name))).st_size, info.st_mtime_ns]
            for name in sorted(os.listdir(here)) if name.endswith(".py")]


def _load(path: Any, key: list) -> tuple[Any, list] | None:
    from ffikit.cachedir import verified

    if not verified(path):
        return None
    try:
        entry = json.loads(path.read_bytes())
        if not isinstance(entry, dict) or entry.get("format") != FORMAT or entry.get("key") != key:
            return None
        if _stamp([f for f, _, _ in entry["inputs"]]) != entry["inputs"]:
            return None  # a header changed since
        decoder = _Decoder(entry["nodes"])
        decoder.run()
        return decoder.value(entry["model"]), entry["inputs"]
    except (OSError, ValueError, TypeError, KeyError, AttributeError, ImportError, RecursionError):
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
           rebuild: Callable[[tuple], Any]) -> Any:
    """``make()``'s result for the include arguments ``parts``, from the cache when it can be.

    ``parts_of(result)`` gives ``(model tuple, input files)`` to store;
    ``rebuild(model tuple)`` turns a stored model back into the result.
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
    path = root / f"model-{digest}.json"
    loaded = _load(path, key)
    if loaded is not None:
        _debug("declaration cache hit: %s", path)
        touch(path)
        return _keyed(rebuild(loaded[0]), digest, loaded[1])
    result = make()
    try:
        model, inputs = parts_of(result)
        if not inputs:
            return result
        encoder = _Encoder()
        encoded = encoder.value(model)
        entry = {"format": FORMAT, "key": key, "inputs": _stamp(inputs), "nodes": encoder.nodes,
                 "model": encoded}
        publish(path, json.dumps(entry, separators=(",", ":")).encode())
        _debug("declaration cache stored: %s", path)
        _keyed(result, digest, entry["inputs"])
    except (_Unsupported, OSError, ValueError, TypeError) as exc:
        _debug("declaration cache: not stored (%s)", exc)
    return result
