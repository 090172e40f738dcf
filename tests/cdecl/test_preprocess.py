"""Preprocessing: cpp when needed, comment stripping, scrubbing, recorded attributes."""


import pytest

import ffikit
from ffikit import DeclarationError
from ffikit.cdecl.preprocess import needs_cpp, preprocess, scrub, strip_comments


class TestNeedsCpp:
    def test_directives(self):
        assert needs_cpp("#include <stdio.h>\n")
        assert needs_cpp("  #define X 1\n")
        assert not needs_cpp("#pragma pack(1)\nint x;")
        assert not needs_cpp("int x; // #define in a comment is not at line start")


class TestScrub:
    def test_blanks_extensions_keeping_lines(self):
        text = ("__extension__ typedef int __attribute__((mode(DI))) i64;\n"
                "extern int f(int) __asm__(\"f_v2\") __attribute__((nothrow));\n")
        out = scrub(text).text
        assert "__attribute__" not in out and "__asm__" not in out and "__extension__" not in out
        assert out.count("\n") == text.count("\n")
        assert "typedef int" in out and "extern int f(int)" in out

    def test_records_packed_aligned_and_pragma_pack(self):
        pre = scrub("#pragma pack(push, 2)\nstruct __attribute__((packed)) s { "
                    "int a __attribute__((aligned(8))); };\n#pragma pack(pop)\n")
        kinds = [(a.kind, a.value) for a in pre.attributes]
        assert kinds == [("packed", None), ("aligned", 8)]
        assert [p[1] for p in pre.packs] == [2, None]

    def test_unbalanced_attribute_is_a_declaration_error(self):
        with pytest.raises(DeclarationError, match="unbalanced"):
            scrub("int x __attribute__((aligned(8);")

    def test_strip_comments_keeps_strings(self):
        out = strip_comments('int a; /* x\ny */ char *s = "/* kept */"; // tail\n')
        assert out.count("\n") == 2
        assert '"/* kept */"' in out and "tail" not in out


class TestPreprocess:
    def test_defines_are_kept_with_their_file(self):
        pre = preprocess("#define ANSWER 42\nint x;", filename="<cdef>")
        assert ("ANSWER", "42", "<cdef>", 1) in pre.macros

    def test_missing_header_names_the_search_path(self):
        with pytest.raises(DeclarationError) as info:
            preprocess('#include "no_such_header_ffikit.h"\n', include_dirs=["/opt/nowhere"])
        message = str(info.value)
        assert "no_such_header_ffikit.h" in message
        assert "/opt/nowhere" in message and "searched:" in message


class TestGccRules:
    def test_line_comment_continued_by_backslash(self):

        text = "// a comment \\\ncontinued int broken(\nint h(void);"
        assert strip_comments(text).split("\n")[1].strip() == ""
        assert "h" in ffikit.cdef(text).functions

    def test_pragma_pack_follows_gcc(self):

        pre = scrub("#pragma pack(push, 2)\nA\n#pragma pack(3)\nB\n#pragma pack(push, x, 1)\nC\n"
                    "#pragma pack(push, 8)\nD\n#pragma pack(pop, x)\nE\n#pragma pack(pop)\nF\n")
        at = {c: pre.pack_at(pre.text.index(c)) for c in "ABCDEF"}
        assert at == {"A": 2, "B": 2, "C": 1, "D": 8, "E": 2, "F": None}

    def test_layout_attributes_recorded_with_their_expressions(self):

        pre = scrub("int x __attribute__((__aligned__(2 * (16)), unused, vector_size(16)));"
                    " struct __attribute__((ms_struct, packed)) s;")
        assert [(a.kind, a.expr) for a in pre.attributes] == [
            ("aligned", "2 * (16)"), ("vector_size", "16"), ("ms_struct", None),
            ("packed", None)]
        assert "__attribute__" not in pre.text


class TestRecordedForNames:
    """What scrub records for the names a library answers to (issue 18)."""

    def test_asm_labels_join_string_literals(self):
        from ffikit.cdecl.preprocess import preprocess

        pre = preprocess('int f(void) __asm__("" "f_v2");\nint g(void) __asm__ ("g3");\n'
                         "int h(void);\n")
        assert [label for _offset, label in pre.asm_labels] == ["f_v2", "g3"]
        assert pre.text.count("__asm__") == 0

    def test_function_like_macros_and_undef_in_order(self):
        from ffikit.cdecl.preprocess import preprocess

        pre = preprocess("#define J(a, b) a ## b\n#define K 1\n#undef K\n#undef J\n"
                         "#define J(x) x\n")
        assert [(n, b) for n, b, f, _l in pre.function_macros if f == "<cdef>"] == [
            ("J", ("a,b", "a ## b")), ("K", None), ("J", None), ("J", ("x", "x"))]  # as cpp -dD
        assert [(n, b) for n, b, f, _l in pre.macros if f == "<cdef>"] == [
            ("K", "1"), ("K", None), ("J", None)]

    def test_system_headers_are_flagged(self):
        from ffikit.cdecl.preprocess import preprocess

        pre = preprocess("#include <stddef.h>\nint f(void);\n")
        assert any(f.endswith("/stddef.h") for f in pre.system_files)
        assert "<cdef>" not in pre.system_files

class TestRealHeaderSyntax:
    def test_atomic_is_laid_out_as_its_type(self):
        pre = scrub("struct s { _Atomic(int) a; _Atomic long b; };")
        assert pre.text.split() == "struct s { int a; long b; };".split()
        assert ffikit.cdef("struct s { char c; _Atomic(int) a; };").sizeof("struct s") == 8

    def test_alignas_split_by_line_markers_is_joined(self):
        defs = ffikit.cdef("#include <stdalign.h>\nstruct s { char c; alignas(16) int x; "
                           "alignas(double) char d; };")
        assert [defs.layout("struct s").field(n).offset for n in "cxd"] == [0, 16, 24]

    def test_error_after_a_joined_line_keeps_its_line(self):
        with pytest.raises(DeclarationError) as info:
            ffikit.cdef("#include <stdalign.h>\nstruct s { alignas(16) int x; };\nint bad bad;")
        assert info.value.line == 3

    def test_invalid_pack_push_is_ignored_entirely(self):
        pre = scrub("#pragma pack(push, 2)\nA\n#pragma pack(push, 3)\nB\n#pragma pack(pop)\nC\n")
        at = {c: pre.pack_at(pre.text.index(c)) for c in "ABC"}
        assert at == {"A": 2, "B": 2, "C": None}
def test_the_pcpp_fallback_refuses_a_missing_include(tmp_path, monkeypatch):
    pytest.importorskip("pcpp")
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))  # no compiler: pcpp preprocesses
    with pytest.raises(ffikit.DeclarationError, match="#include 'nothere.h' not found.*pcpp") as info:
        ffikit.cdef('#include "nothere.h"\nint f(void);')
    assert "include_dirs" in info.value.hint
    assert list(ffikit.cdef("#define N 3\nint g(int a[N]);").functions) == ["g"]  # pcpp still runs
    with pytest.raises(ffikit.DeclarationError, match="'stdio.h' not found"):  # pcpp knows no
        ffikit.cdef("#include <stdio.h>\nint pcpp_probe(FILE *f);")  # system dirs: never empty


class TestBlanking:
    """Directive lines become spaces of their own length: offsets and lines stay the user's."""

    def test_directives_keep_length_and_newlines(self):
        text = "#define A 1\r\n#  define B(x) ((x) + 1)\n#undef A\n\tint y;\n#pragma pack(2)\n"
        lines = ["#define A 1\r", "#  define B(x) ((x) + 1)", "#undef A", "\tint y;",
                 "#pragma pack(2)", ""]
        expected = "\n".join(line if line == "\tint y;" else " " * len(line) for line in lines)
        assert scrub(text).text == expected

    def test_random_directive_text_is_blanked_character_for_character(self):
        import random
        import re

        rng = random.Random(5)
        pieces = ["#define X", "#define F(a, b)", "#undef X", " 1", "\t", "\r", "\f", " ", "(",
                  ")", '"s"', "\\", "é", "#pragma pack(4)"]
        for _ in range(300):
            lines = ["".join(rng.choice(pieces) for _ in range(rng.randrange(1, 6)))
                     for _ in range(rng.randrange(1, 5))]
            text = "\n".join(line if line.startswith("#") else "#define Y" + line
                              for line in lines)
            assert scrub(text).text == re.sub(r"[^\n]", " ", text)


class TestOneScan:
    """scrub takes ``#define`` lines and line markers from its one scan's groups, and the
    keywords from an alternation with common prefixes factored out: what it records must be
    what the directive rules say, line by line."""

    def test_defines_and_markers_recorded_as_the_directive_rules_read_them(self):
        import random
        import re

        define = re.compile(r"#\s*define\s+([A-Za-z_]\w*)(\(?)(.*)")
        marker = re.compile(r'#\s*(?:line\s+)?(\d+)\s+"((?:[^"\\]|\\.)*)"')
        rng = random.Random(21)
        gaps = [" ", "\t", "  ", "\f", "\v", " \t"]
        for _ in range(200):
            lines, want_macros, want_functions, want_system = [], [], [], set()
            file, line = "<cdef>", 1
            for _ in range(rng.randrange(1, 12)):
                gap, tail = rng.choice(gaps), rng.choice(["", " ", "\t", " \f", "\r"])
                kind = rng.randrange(5)
                name = rng.choice(["A", "_b1", "LONG_NAME_2", "x"])
                if kind == 0:
                    lead = rng.choice(["", " ", "\t"])
                    body = rng.choice(["1", "(2 + 3)", "", "a b", '"s)"'])
                    text = f"{lead}#{gap}define{gap}{name} {body}{tail}"
                elif kind == 1:
                    text = f"#{gap}define {name}({rng.choice(['', 'a', 'a, b', 'a,'])}" \
                           f"{rng.choice([')', ') a', ')(a)', ''])}{tail}"
                elif kind == 2:
                    flags = rng.choice(["", " 1", " 2", " 1 3", " 3 4", " 3"])
                    path = rng.choice(["f.h", "/usr/include/g.h", "a\\\"b.h", "sp ace.h"])
                    text = f"#{rng.choice(['', ' line'])}{gap}{rng.randrange(1, 90)}{gap}" \
                           f'"{path}"{flags}{tail}'
                elif kind == 3:
                    text = f"#{gap}undef {name}{tail}"
                else:
                    text = rng.choice(["int v;", "typedef int t;", "", "  "])
                lines.append(text)
            text = "\n".join(lines) + "\n"
            for raw in lines:
                stripped = raw.strip()
                found = marker.match(stripped)
                if found:
                    if " 3" in stripped[found.end():]:
                        want_system.add(found.group(2))
                    file, line = found.group(2), int(found.group(1))
                    continue
                got = define.match(stripped)
                if got and got.group(2):
                    params, _, body = got.group(3).partition(")")
                    want_functions.append((got.group(1), (params, body.strip()), file, line))
                elif got:
                    want_macros.append((got.group(1), got.group(3).strip(), file, line))
                elif stripped.startswith("#"):  # (#undef)
                    name = stripped.split()[-1]
                    want_macros.append((name, None, file, line))
                    want_functions.append((name, None, file, line))
                line += 1
            pre = scrub(text)
            assert (pre.macros, pre.function_macros, pre.system_files) == \
                (want_macros, want_functions, want_system), text

    def test_every_keyword_is_found_where_the_plain_alternation_finds_it(self):
        import re

        from ffikit.cdecl.preprocess import _REPLACE, _WITH_PARENS, _WORD

        words = sorted((*_WITH_PARENS, *_REPLACE), key=len, reverse=True)
        plain = re.compile(r"\b(" + "|".join(re.escape(w) for w in words).replace(r"\ ", r"\s+")
                           + r")\b")
        probes = []
        for word in words:
            for before, after in [("", ""), ("x", ""), ("", "x"), ("(", ")"), ("", "_"), ("_", ""),
                                  ("", "__"), ("", "1"), (" ", " ")]:
                probes.append(before + word + after)
                probes.append(before + word.replace(" ", "\n\t ") + after)
        for probe in probes:
            found = [(m.span(1), m.group(1)) for m in _WORD.finditer(probe) if m.group(1)]
            assert found == [(m.span(1), m.group(1)) for m in plain.finditer(probe)], probe
