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
from itertools import repeat
from operator import attrgetter

from .model import Primitive

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["cached", "FORMAT", "input_files"]

FORMAT = 2


def _debug(message: str, *args: Any) -> None:
    """A debug record for ``ffikit.cdecl``.  Without :mod:`logging` imported nobody configured
    a handler, and debug records would go nowhere: not importing it saves start-up time."""
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger("ffikit.cdecl").debug(message, *args)
_LINE_MARKER = re.compile(r'\n#\s*(?:line\s+)?\d+\s+"([^"]+)"')  # (in "\n" + text: a literal
# first is found by a fast scan)
_MODEL_PACKAGE = "ffikit.cdecl."
_PRIMITIVES = (str, int, float, bool, type(None))
_PLAIN = frozenset(_PRIMITIVES)


class _Unsupported(Exception):
    """The model holds something this format does not store: it is not cached."""


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


# --- encoding: a node table of model objects, plain containers inline ----------------------
#
# ``classes`` lists each class once: ``[module, qualname, [field, ...], kinds]``; a node is
# ``[class index, value of each field in that order]``.  A field's kind, chosen per class from
# every node of it, says how its values are written: ``r`` another node's index (or null),
# ``p`` a plain JSON value as it is, ``v`` a tagged value (containers, references inside
# containers, NaN, an attribute not set).  Most fields are ``r`` or ``p``: a node costs one
# JSON array, not a dict per node and per reference.

_REF, _PLAIN_KIND, _VALUE = "r", "p", "v"
_UNSET = {"u": 1}  # a slot the object never set


def _state_names(cls: type) -> tuple[str, ...]:
    """A model class's slots, in the order its instances' state is written (without
    ``_hash``: a cached hash belongs to its process, string hashes are salted per process)."""
    names: list[str] = []
    for klass in cls.__mro__:
        for slot in klass.__dict__.get("__slots__", ()):
            if slot not in ("__weakref__", "__dict__", "_hash") and slot not in names:
                names.append(slot)
    return tuple(names)


class _Ref:
    """A field value that is a model object (written as its node's index)."""

    __slots__ = ("index",)

    def __init__(self, index: int) -> None:
        self.index = index


class _Missing:
    """The type of the marker for a field a node does not have (only :meth:`_Encoder.table`)."""


_MISSING = _Missing()
_AS_IS = frozenset((str, int, bool, type(None)))  # what :meth:`_Encoder.value` returns unchanged
_FIELD_CODES: dict[type, str] = {_Ref: _REF, str: _PLAIN_KIND, int: _PLAIN_KIND, bool: _PLAIN_KIND,
                                 type(None): ""}  # a value's type -> its code (floats: NaN or not)


class _Encoder:
    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.primitives: dict[str, int] = {}
        self.states: list[tuple[type, dict]] = []  # per node: its class and attribute values
        self.keep: list[Any] = []
        self.model_classes: dict[type, tuple[str, ...]] = {}  # a model class -> its slots
        self.getters: dict[type, Any] = {}  # a model class -> attrgetter of its slots (2+)

    def node(self, obj: Any) -> dict:
        return {"r": self.index(obj)}

    def index(self, obj: Any) -> int:
        found = self.ids.get(id(obj))
        if found is not None:
            return found
        cls = type(obj)
        if cls is Primitive:  # a value with no parts: one node per name
            found = self.primitives.get(obj.name)  # (the parser makes one object per use)
            if found is not None:
                self.ids[id(obj)] = found
                self.keep.append(obj)
                return found
            self.primitives[obj.name] = len(self.states)
        slots = self.model_classes.get(cls)
        if slots is None:
            if not cls.__module__.startswith(_MODEL_PACKAGE):
                raise _Unsupported(f"{cls.__module__}.{cls.__qualname__}")
            slots = self.model_classes[cls] = _state_names(cls)
            self.getters[cls] = attrgetter(*slots) if len(slots) > 1 else None
        found = self.ids[id(obj)] = len(self.states)
        self.keep.append(obj)
        state: dict | None = None
        if hasattr(obj, "__dict__"):
            state = dict(obj.__dict__)
        elif (getter := self.getters[cls]) is not None:
            try:  # (every slot set: all at once)
                state = dict(zip(slots, getter(obj)))
            except AttributeError:  # (one is not set: one by one)
                pass
            else:
                slots = ()
        if state is None:
            state = {}
        if slots:
            for name in slots:
                value = getattr(obj, name, _UNSET)
                if value is not _UNSET:
                    state[name] = value
        self.states.append((cls, state))
        for name, value in state.items():
            kind = type(value)
            if kind not in _PLAIN:  # (nodes reached from here get indexes)
                state[name] = _Ref(self.index(value)) if kind in self.model_classes or (
                    kind.__module__.startswith(_MODEL_PACKAGE) and not isinstance(value, type)) \
                    else self.value(value)
        return found

    def value(self, obj: Any) -> Any:
        kind = type(obj)
        if kind in _PLAIN:
            return {"nan": 1} if kind is float and obj != obj else obj
        if isinstance(obj, _PRIMITIVES):  # (subclasses: an IntEnum...)
            if isinstance(obj, float) and obj != obj:
                return {"nan": 1}
            return obj
        if kind in self.model_classes:
            return {"r": self.index(obj)}
        if kind is tuple:  # (a plain item is written as it is: no call for it)
            return {"t": [v if type(v) in _AS_IS else self.value(v) for v in obj]}
        if kind is list:
            return {"l": [v if type(v) in _AS_IS else self.value(v) for v in obj]}
        if kind is dict:
            if all(type(k) is str for k in obj):  # (most dicts: names -> ...), as a JSON object
                values = obj.values()
                if all(type(v) in _PLAIN and v == v for v in values):
                    return {"D": obj}
                if all(type(v) is tuple and all(type(x) in _PLAIN and x == x for x in v)
                       for v in values):
                    return {"T": obj}
                if all(type(v).__module__.startswith(_MODEL_PACKAGE) and not isinstance(v, type)
                       for v in values):
                    return {"R": {k: self.index(v) for k, v in obj.items()}}
            return {"d": [[self.value(k), self.value(v)] for k, v in obj.items()]}
        if kind is frozenset:
            return {"f": [self.value(v) for v in obj]}
        if kind is set:
            return {"s": [self.value(v) for v in obj]}
        return self.node(obj)

    def table(self) -> tuple[list, list]:
        """``(classes, nodes)`` as written (see above).  Column by column: each field's kind
        from the types of its values in every node of its class, then its values as written."""
        by_class: dict[type, tuple[list[int], list[dict]]] = {}
        for index, (cls, state) in enumerate(self.states):
            found = by_class.get(cls)
            if found is None:
                by_class[cls] = ([index], [state])
            else:
                found[0].append(index)
                found[1].append(state)
        kinds_of: dict[type, dict[str, str]] = {}
        columns_of: dict[type, list[list]] = {}
        value_of = self.value
        for cls, (_, states) in by_class.items():
            kinds, columns = kinds_of[cls], columns_of[cls] = {}, []
            for name in dict.fromkeys([name for state in states for name in state]):
                column = [state.get(name, _MISSING) for state in states]
                types = set(map(type, column))
                codes = {_FIELD_CODES.get(t, _VALUE) for t in types if t is not float}
                if float in types:
                    codes.add(_PLAIN_KIND if all(v == v for v in column if type(v) is float)
                              else _VALUE)
                kind = kinds[name] = _kind(codes, 0 if _Missing in types else 1, 1)
                if kind == _REF:  # (a reference, or None)
                    column = [v.index if type(v) is _Ref else v for v in column]
                elif kind == _VALUE:  # (plain values as they are but NaN; unset: the marker)
                    column = [{"r": v.index} if type(v) is _Ref else value_of(v) if type(v) is float
                              else _UNSET if v is _MISSING else v for v in column]
                columns.append(column)
        classes = [[cls.__module__, cls.__qualname__, list(kinds), list(kinds.values())]
                   for cls, kinds in kinds_of.items()]
        nodes: list[Any] = [None] * len(self.states)
        for where, ((indexes, _), columns) in enumerate(zip(by_class.values(), columns_of.values())):
            for index, row in zip(indexes, zip(repeat(where), *columns)):
                nodes[index] = row
        return classes, nodes


def _kind(codes: set[str], nodes_with_it: int, nodes: int) -> str:
    """How a field is written, from the codes of its values (``""``: None)."""
    if nodes_with_it != nodes:
        return _VALUE  # some node never set it
    codes.discard("")
    if not codes or codes == {_REF}:
        return _REF  # (all None: written as null)
    return _PLAIN_KIND if codes == {_PLAIN_KIND} else _VALUE



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
    def __init__(self, classes: list, nodes: list) -> None:
        self.nodes = nodes
        self.classes = []
        for module, qualname, names, kinds in classes:
            if len(names) != len(kinds) or not all(type(n) is str for n in names) or \
                    not set(kinds) <= {_REF, _PLAIN_KIND, _VALUE}:
                raise ValueError("not a class table")
            self.classes.append((_model_class(module, qualname), tuple(zip(names, kinds))))
        if not all(type(node) is list and node and type(node[0]) is int and node[0] >= 0
                   for node in nodes):
            raise ValueError("not a node table")
        self.objects = [self.classes[node[0]][0].__new__(self.classes[node[0]][0]) for node in nodes]

    def run(self) -> None:
        # Fill the leaves first: a node's state may hash another node (a dict keyed by a type).
        setattr_, value, objects, nodes, classes = object.__setattr__, self.value, self.objects, \
            self.nodes, self.classes
        for index in range(len(nodes) - 1, -1, -1):
            obj, node = objects[index], nodes[index]
            fields = classes[node[0]][1]
            if len(node) != len(fields) + 1:
                raise ValueError("a node does not match its class")
            position = 1
            for name, kind in fields:
                data = node[position]
                position += 1
                if kind == _REF:
                    if data is not None and (type(data) is not int or data < 0):
                        raise ValueError("not a node index")  # (objects[-1] would be some node)
                    setattr_(obj, name, None if data is None else objects[data])
                elif kind == _PLAIN_KIND:
                    setattr_(obj, name, data)
                elif data != _UNSET:
                    setattr_(obj, name, value(data))

    def value(self, data: Any) -> Any:
        if type(data) in _PLAIN:  # (JSON makes these exact types)
            return data
        (tag, body), = data.items()
        if tag == "r":
            if type(body) is not int or body < 0:
                raise ValueError("not a node index")
            return self.objects[body]
        value, plain = self.value, _PLAIN
        if tag == "t":
            return tuple([v if type(v) in plain else value(v) for v in body])
        if tag == "l":
            return [v if type(v) in plain else value(v) for v in body]
        if tag == "D":  # str -> plain value
            if not all(type(v) in plain for v in body.values()):
                raise ValueError("not plain values")
            return body
        if tag == "T":  # str -> tuple of plain values
            if not all(type(v) is list and all(type(x) in plain for x in v) for v in body.values()):
                raise ValueError("not tuples of plain values")
            return {k: tuple(v) for k, v in body.items()}
        if tag == "R":  # str -> node
            if not all(type(i) is int and i >= 0 for i in body.values()):
                raise ValueError("not a node index")
            objects = self.objects
            return {k: objects[i] for k, i in body.items()}
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
    from ffikit.cachedir import compiler_identity

    from .platforms import host_machine

    return [FORMAT, _model_code(), sys.platform, host_machine(), sys.maxsize, sys.byteorder,
            compiler_identity(), os.environ.get("CPATH", ""), os.environ.get("C_INCLUDE_PATH", ""),
            repr(parts)]


def _model_code() -> list:
    """The model code's own files (:func:`~ffikit.cachedir.code_stamps`): a changed ffikit
    reads no old entry."""
    from ffikit.cachedir import code_stamps

    return code_stamps(os.path.dirname(os.path.abspath(__file__)), [""], (".py",))


def _load(path: Any, key: list) -> tuple[Any, list] | None:
    from ffikit.cachedir import read_entry

    entry = read_entry(path, FORMAT, key)
    if entry is None:
        return None
    try:
        if _stamp([f for f, _, _ in entry["inputs"]]) != entry["inputs"]:
            return None  # a header changed since
        decoder = _Decoder(entry["classes"], entry["nodes"])
        decoder.run()
        return decoder.value(entry["model"]), entry["inputs"]
    except (OSError, ValueError, TypeError, KeyError, IndexError, AttributeError, ImportError,
            RecursionError):
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
        classes, nodes = encoder.table()
        entry = {"format": FORMAT, "key": key, "inputs": _stamp(inputs), "classes": classes,
                 "nodes": nodes, "model": encoded}
        text = json.dumps(entry, separators=(",", ":"), check_circular=False)  # (a node table
        publish(path, text.encode())  # refers by index: there is no cycle to look for)
        _debug("declaration cache stored: %s", path)
        _keyed(result, digest, entry["inputs"])
    except (_Unsupported, OSError, ValueError, TypeError) as exc:
        _debug("declaration cache: not stored (%s)", exc)
    return result
