"""bodies: the statements of functions defined in headers blanked; braces, newlines and
preprocessor lines kept, whatever braces strings, characters and directives hold."""

from ffikit.cdecl.bodies import blank_bodies


def test_bodies_blanked_whatever_braces_their_strings_and_directives_hold():
    text = ('static inline int f(int x) {\n  const char *s = "}{";\n  char c = \'}\';\n'
            '#define INSIDE { }\n  if (x) { return \'{\'; }\n  return "\\"}";\n}\n'
            'struct s { int a; };\nint g(void) { return 1; }\n'
            'int h(void) { char q = \'\\\'\'; return "unterminated; }\n')
    out = blank_bodies(text)
    lines = out.split("\n")
    assert out.count("\n") == text.count("\n") and len(out) == len(text)
    assert lines[0] == "static inline int f(int x) {" and lines[6] == "}"
    assert all(not line.strip() for line in lines[1:6] if not line.startswith("#"))
    assert "struct s { int a; };" in out
    assert lines[8].startswith("int g(void) {") and "return" not in lines[8]
    assert lines[9].startswith("int h(void) {")


def test_a_huge_text_without_braces_is_scanned_in_one_pass():
    text = 'int a; "s{" \'}\' x\n#define Y {\n' * 40_000 + "int f(void) { return 1; }\n"
    out = blank_bodies(text)  # (a backtracking scan would keep state per token here)
    assert out.endswith("int f(void) {" + " " * len(" return 1; ") + "}\n")
    assert out[:-40] == text[:-40]
