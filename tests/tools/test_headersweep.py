"""The header sweep: which headers gcc compiles alone, and how ffikit fares on each."""

from ffikit.tools.headersweep import HeaderResult, gcc_accepts, header_list, parse_header, summary


def test_header_list_takes_top_level_and_samples_folders(tmp_path):
    for name in ("a.h", "b.h", "sys/s1.h", "sys/s2.h", "sys/s3.h", "deep/x/1.h", "deep/x/2.h",
                 "deep/x/3.h", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("int x;\n")
    assert header_list(str(tmp_path), per_dir=2) == [
        "a.h", "b.h", "deep/x/1.h", "deep/x/2.h", "sys/s1.h", "sys/s2.h", "sys/s3.h"]


def test_gcc_accepts_and_parse_header(tmp_path):
    (tmp_path / "ok.h").write_text("struct s { int a; };\n")
    (tmp_path / "bad.h").write_text("this is not C;\n")
    (tmp_path / "cplx.h").write_text("int _Complex c(void);\n")
    assert gcc_accepts("ok.h", str(tmp_path)) == (True, "")
    ok, why = gcc_accepts("bad.h", str(tmp_path))
    assert not ok and "error" in why
    assert parse_header("ok.h", str(tmp_path)).status == "parsed"
    refused = parse_header("cplx.h", str(tmp_path))
    assert refused.status == "refused" and "complex" in refused.reason


def test_summary_counts_and_reasons():
    results = [HeaderResult("a.h", "parsed", functions=3, constants=2),
               HeaderResult("b.h", "refused", "why"), HeaderResult("c.h", "gcc-rejects", "no"),
               HeaderResult("d.h", "bind-crashed", "RecursionError", functions=1)]
    assert summary(results).splitlines() == [
        "4 headers: 1 parsed, 1 refused, 0 crashed, 1 bind-crashed, 1 gcc-rejects; "
        "4 functions, 2 constants",
        "  refused: b.h: why", "  bind-crashed: d.h: RecursionError"]
    assert summary(results, per_header=True).splitlines()[-1] == \
        "  a.h: 3 functions, 2 constants"


def test_parsed_headers_count_what_they_give_and_bind(tmp_path):
    (tmp_path / "lib.h").write_text("#define LIB_MAX 4\nenum mode { FAST, SAFE };\n"
                                    "int lib_open(const char *path);\nvoid lib_close(int h);\n")
    (tmp_path / "r.h").write_text("typedef struct { int x; } R; typedef R A[1]; void f(A p);\n")
    result = parse_header("lib.h", str(tmp_path))
    assert (result.status, result.functions, result.constants) == ("parsed", 2, 3)
    assert parse_header("r.h", str(tmp_path)).status == "parsed"  # bind re-spells it
