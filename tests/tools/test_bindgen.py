"""``ffikit bind``'s generator: C text re-spelled from the model parses back to the same layouts."""

from __future__ import annotations

from pathlib import Path

import pytest

import ffikit
from ffikit.tools.bindgen import c_text, generate
from randstructs import random_declarations


def _layout_facts(defs, name):
    lay = defs.layout(name)
    return (lay.size, lay.alignment,
            [(f.name, f.offset, f.bit_offset, f.bit_width) for f in lay.fields])


class TestCText:
    def test_random_structs_round_trip(self, tmp_path):
        """Random structs (packing, alignment, bitfields, nesting): same layout after re-spelling."""
        gen = random_declarations(seed=11, count=150)
        (tmp_path / "r.h").write_text(gen.c_definitions())
        original = ffikit.include(str(tmp_path / "r.h"))
        names = [f"{s.kind} {s.name}" for s in gen.structs]
        again = ffikit.cdef(c_text(original, [], names))
        for name in names:
            assert _layout_facts(again, name) == _layout_facts(original, name), name

    def test_dependencies_first(self):
        defs = ffikit.cdef("""
            typedef struct node node;
            typedef int (*visit_fn)(node *n, void *ctx);
            struct node { node *next; visit_fn visit; struct { int a, b; } pair; };
            typedef struct { node head; unsigned flags : 3; } list;
            int walk(list *l, visit_fn f);
        """)
        text = c_text(defs, ["walk"], [])
        assert text.index("typedef struct node node;") < text.index("typedef int (*visit_fn)")
        assert text.index("struct node {") < text.index("typedef struct {")
        assert "    unsigned int flags : 3;" in text
        assert text.rstrip().endswith("int walk(list *l, visit_fn f);")
        again = ffikit.cdef(text)
        assert _layout_facts(again, "list") == _layout_facts(defs, "list")

    def test_opaque_struct_stays_opaque(self):
        defs = ffikit.cdef("typedef struct db db; int db_open(const char *path, db **out);")
        assert c_text(defs, ["db_open"], []) == (
            "struct db;\ntypedef struct db db;\nint db_open(const char *path, db **out);\n")


class TestGenerate:
    def test_stub_types(self):
        defs = ffikit.cdef("""
            #define LIMIT 10
            enum mode { FAST = 1, SAFE = 2 };
            double scale(double x, int times);
            const char *name_of(int code);
            void fill(unsigned char *buf, unsigned long n);
            int printf_like(const char *fmt, ...);
        """)
        module, stub = generate(defs, "x.h", "c")
        assert "def scale(x: float, times: int, /) -> float: ..." in stub
        assert "def name_of(code: int, /) -> bytes | None: ..." in stub
        assert "def fill(buf: Any, n: int, /) -> None: ..." in stub
        assert "def printf_like(fmt: bytes | str | None, /, *args: Any) -> int: ..." in stub
        assert "class mode(enum.IntEnum):\n    FAST = 1\n    SAFE = 2" in stub
        assert "LIMIT: int" in stub and "LIMIT = 10" in module

    def test_prefix_and_exclude(self):
        defs = ffikit.cdef("int zz_a(int); int zz_b(int); int other(int);\n#define ZZ_MAX 3\n")
        module, stub = generate(defs, "x.h", "c", prefix="zz", exclude="_b$")
        assert "def zz_a(" in stub and "zz_b" not in stub and "other" not in stub
        assert "ZZ_MAX = 3" in module

    def test_bad_exclude_regex(self):
        defs = ffikit.cdef("int f(int);")
        with pytest.raises(Exception, match="unterminated character set"):
            generate(defs, "x.h", "c", exclude="[")


def test_function_facts_survive_re_spelling():
    """Bounds, access, nonnull, format and deallocators: a bound module checks what the header did."""
    defs = ffikit.cdef("""
        #include <stddef.h>
        typedef struct f FILE;
        int fclose(FILE *f);
        FILE *fopen(const char *p, const char *m) __attribute__((malloc(fclose, 1), nonnull(1, 2)));
        void f(size_t n, const char a[n], int b[16]) __attribute__((access(write_only, 3)));
        int pf(char *o, size_t n, const char *f, ...) __attribute__((format(printf, 3, 4)));
    """)
    again = ffikit.cdef(c_text(defs, list(defs.functions), []))
    for name, decl in defs.functions.items():
        assert again.functions[name].type.facts == decl.type.facts, name
    assert again.functions["f"].type.facts.access[0].source == "the array bound [n]"


def _import(tmp_path, header, library, name, **kw):
    """``ffikit bind`` a system header, then import the module it wrote."""
    import importlib.util
    import os

    from ffikit.cdecl.preprocess import system_include_dirs
    from ffikit.tools.bindgen import generate

    if not any(os.path.isfile(os.path.join(d, header)) for d in system_include_dirs()):
        pytest.skip(f"<{header}> is not installed")
    module, stub = generate(ffikit.include(header), header, library, **kw)
    path = tmp_path / f"{name}.py"
    path.write_text(module)
    (tmp_path / f"{name}.pyi").write_text(stub)
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(mod)
    except ffikit.LibraryNotFound as exc:
        pytest.skip(f"lib{library} is not installed: {exc}")
    return mod


class TestGeneratedModulesImport:
    """Bindings of real headers import and make one real call each."""

    def test_zlib(self, tmp_path):
        z = _import(tmp_path, "zlib.h", "z", "bind_zlib")
        assert z.compressBound(1000) >= 1000 and z.zlibVersion().startswith(b"1.")

    def test_sqlite3_with_cast_constant(self, tmp_path):
        s = _import(tmp_path, "sqlite3.h", "sqlite3", "bind_sqlite3")
        assert isinstance(s.SQLITE_TRANSIENT, s.defs.ctype("sqlite3_destructor_type"))
        assert "SQLITE_TRANSIENT = defs.constant_value(_m.CastConstant(" in \
            open(s.__file__).read()
        db, stmt = s.lib.new("sqlite3 *"), s.lib.new("sqlite3_stmt *")
        assert s.sqlite3_open(b":memory:", db) == s.SQLITE_OK
        try:
            assert s.sqlite3_prepare_v2(db, b"select ?", -1, stmt, None) == s.SQLITE_OK
            text = bytearray(b"copied\0")  # -1: sqlite reads up to the NUL
            assert s.sqlite3_bind_text(stmt, 1, text, -1, s.SQLITE_TRANSIENT) == s.SQLITE_OK
            text[:6] = b"XXXXXX"  # SQLITE_TRANSIENT: sqlite copied the text before returning
            assert s.sqlite3_step(stmt) == s.SQLITE_ROW
            assert s.sqlite3_column_text(stmt, 0) is not None
            assert s.sqlite3_column_bytes(stmt, 0) == 6
        finally:
            s.sqlite3_finalize(stmt)
            s.sqlite3_close(db)

    def test_png_typedef_struct_with_pointer_typedef(self, tmp_path):
        png = _import(tmp_path, "png.h", "png16", "bind_png")
        text = png.DECLARATIONS
        assert "<anonymous>" not in text
        assert "} png_image;" in text and "typedef png_image *png_imagep;" in text
        assert png.png_access_version_number() >= 10000

    def test_lzma_anonymous_union_array_member(self, tmp_path):
        xz = _import(tmp_path, "lzma.h", "lzma", "bind_lzma")
        assert "<anonymous>" not in xz.DECLARATIONS
        assert xz.lzma_version_number() > 50000000

    def test_bzlib_void_typedef(self, tmp_path):
        bz = _import(tmp_path, "bzlib.h", "bz2", "bind_bzlib")
        assert bz.BZ2_bzlibVersion().startswith(b"1.")

    def test_git2_array_of_anonymous_struct_typedef(self, tmp_path):
        """git2.h: ``typedef struct {...} git_oid``-style arrays; binding imports and calls."""
        git = _import(tmp_path, "git2.h", "git2", "bind_git2")
        assert git.git_libgit2_init() >= 1
        try:
            major, minor, rev = (git.lib.new("int") for _ in range(3))
            assert git.git_libgit2_version(major, minor, rev) == 0
            assert major.value >= 1
        finally:
            git.git_libgit2_shutdown()

    def test_turbojpeg(self, tmp_path):
        tj = _import(tmp_path, "turbojpeg.h", "turbojpeg", "bind_turbojpeg")
        handle = tj.tjInitCompress()
        assert handle is not None
        assert tj.tjBufSize(16, 16, tj.TJSAMP_444) > 16 * 16 * 3
        assert tj.tjDestroy(handle) == 0

    def test_gmp_imports(self, tmp_path):
        """gmp.h's functions are all ``__gmp*`` names (reached through macros)."""
        gmp = _import(tmp_path, "gmp.h", "gmp", "bind_gmp")
        assert "__gmpz_init" in gmp.FUNCTIONS and gmp.defs.sizeof("mpz_t") == 16

    def test_gmp_by_its_macro_names(self, tmp_path):
        """'#define mpz_init __gmpz_init': the binding answers to the documented names too."""
        gmp = _import(tmp_path, "gmp.h", "gmp", "bind_gmp_names", prefix="mpz_")
        assert gmp.ALIASES["mpz_init"] == "__gmpz_init" and "mpz_init" in dir(gmp)
        n = gmp.lib.new("mpz_t")
        gmp.mpz_init(n)
        gmp.mpz_set_ui(n, 10**6)
        assert gmp.mpz_sizeinbase(n, 10) == 7
        gmp.mpz_clear(n)
        stub = (tmp_path / "bind_gmp_names.pyi").read_text()
        assert "def mpz_init(" in stub

    def test_uuid(self, tmp_path):
        uuid = _import(tmp_path, "uuid/uuid.h", "uuid", "bind_uuid")
        out = bytearray(16)
        uuid.uuid_generate(out)
        assert out != bytearray(16)


class TestArrayOfAnonymousStructTypedef:
    """``typedef struct {...} R; typedef R A[1];`` (git2.h, gmp.h, turbojpeg.h) re-spells once."""

    SOURCE = "typedef struct { int x; } R; typedef R A[1]; void f(A p); int g(R *r, A a);"

    def test_spelled_once_and_parses_back(self):
        defs = ffikit.cdef(self.SOURCE)
        text = c_text(defs, ["f", "g"], ["R", "A"])
        assert text.count("typedef struct {") == 1 and "typedef R A[1];" in text
        again = ffikit.cdef(text)
        assert again.sizeof("A") == 4 and _layout_facts(again, "R") == _layout_facts(defs, "R")

    def test_module_generates(self):
        module, stub = generate(ffikit.cdef(self.SOURCE), "r.h", "c")
        assert "def f(p: Any, /) -> None: ..." in stub and "'A': _m.Typedef('A'" in module

    def test_nested_levels(self):
        """Arrays of arrays of the typedef, and a pointer to it inside another anonymous struct."""
        defs = ffikit.cdef("typedef struct { int x; } R; typedef R A[2][3];"
                           "typedef struct { A *rows; R one; } T; typedef T TT[1]; void h(TT t);")
        text = c_text(defs, ["h"], ["TT", "A", "T", "R"])
        again = ffikit.cdef(text)
        assert again.sizeof("A") == 24 and _layout_facts(again, "T") == _layout_facts(defs, "T")


def test_import_parses_no_c(tmp_path, monkeypatch):
    """The module carries the model: importing it never calls the C parser."""
    import ffikit.cdecl.declare as model_declare
    import ffikit.cdecl.parse as parse_module

    def refuse(*args, **kwargs):
        raise AssertionError("the binding parsed C at import")

    header = tmp_path / "shapes.h"
    header.write_text("typedef struct node { struct node *next; int v : 4; } node, *nodep;\n"
                      "typedef union { float f; unsigned u; } bits;\n"
                      "size_t strlen(const char *s);\n#define MAGIC ((void *) -1)\n")
    module, _stub = generate(ffikit.include(str(header)), "shapes.h", "c")
    (tmp_path / "bind_shapes.py").write_text(module)
    monkeypatch.setattr(parse_module, "parse", refuse)
    monkeypatch.setattr(model_declare, "parse", refuse)
    monkeypatch.syspath_prepend(str(tmp_path))
    import bind_shapes

    assert bind_shapes.strlen(b"four") == 4
    import ctypes

    node = bind_shapes.node()
    node.v = -3
    assert ctypes.sizeof(bind_shapes.node) == 16 and node.v == -3
    assert bind_shapes.MAGIC.value == (1 << 64) - 1
    assert "nodep" in dir(bind_shapes)


def test_typedef_struct_and_pointer_typedef_in_one_declaration():
    defs = ffikit.cdef("typedef struct { int a; } P, *PP; int use(PP p);")
    assert defs.types["PP"].type.target is defs.types["P"].type
    text = c_text(defs, ["use"], ["P", "PP"])
    assert "typedef P *PP;" in text and "<anonymous>" not in text
    assert ffikit.cdef(text).sizeof("P") == 4


def test_generated_stub_passes_mypy_strict_on_use(tmp_path):
    """A program using the zlib binding type-checks under ``mypy --strict``; a wrong type fails."""
    import subprocess
    import sys

    pytest.importorskip("mypy")
    module, stub = generate(ffikit.include("zlib.h"), "zlib.h", "z")
    (tmp_path / "bind_z.py").write_text(module)
    (tmp_path / "bind_z.pyi").write_text(stub)
    (tmp_path / "use.py").write_text("import bind_z\n\nbound: int = bind_z.compressBound(10)\n"
                                     "version: bytes | None = bind_z.zlibVersion()\n"
                                     "print(bound, version, bind_z.Z_OK + 1)\n")
    (tmp_path / "bad.py").write_text("import bind_z\n\nbad: str = bind_z.compressBound(10)\n")

    def mypy(name):
        return subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental",
                               name], cwd=tmp_path, capture_output=True, text=True, timeout=300)

    good = mypy("use.py")
    assert good.returncode == 0, good.stdout
    bad = mypy("bad.py")
    assert bad.returncode == 1 and "Incompatible types in assignment" in bad.stdout


def test_import_loads_neither_pycparser_nor_the_parser(tmp_path):
    """A binding of sqlite3.h imports (and calls) without loading pycparser or ffikit's parser."""
    from crashproof import run_isolated
    from ffikit.cdecl.preprocess import system_include_dirs

    if not any((Path(d) / "sqlite3.h").is_file() for d in system_include_dirs()):
        pytest.skip("<sqlite3.h> is not installed")
    module, _stub = generate(ffikit.include("sqlite3.h"), "sqlite3.h", "sqlite3")
    (tmp_path / "bind_sq.py").write_text(module)
    result = run_isolated(f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import bind_sq
        parsers = ("pycparser", "ffikit.cdecl.parse")
        print("import", [m for m in parsers if m in sys.modules])
        db = bind_sq.lib.new("sqlite3 *")
        assert bind_sq.sqlite3_open(b":memory:", db) == bind_sq.SQLITE_OK
        assert bind_sq.sqlite3_libversion_number() > 3000000
        assert bind_sq.sqlite3_close(db) == bind_sq.SQLITE_OK
        print("call", [m for m in parsers if m in sys.modules])
    """)
    assert result.returncode == 0, result.stderr
    assert "import []" in result.stdout and "call []" in result.stdout, result.stdout
