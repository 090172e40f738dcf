"""The bench table replaces the previous run's between the markers, or adds a section."""

from ffikit.tools.results_table import BEGIN, END, write_results


def test_a_new_file_gets_a_results_section(tmp_path):
    path = tmp_path / "README.md"
    write_results(path, "| a | 1.00x |")
    text = path.read_text()
    assert text.startswith("# Benchmarks") and "## Results" in text
    assert text.index(BEGIN) < text.index("| a | 1.00x |") < text.index(END)


def test_the_previous_table_is_replaced_and_the_rest_kept(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(f"intro\n\n{BEGIN}\nold | 9x\n{END}\n\nafter\n")
    write_results(path, "| new | 2.00x |")
    text = path.read_text()
    assert "old | 9x" not in text and "| new | 2.00x |" in text
    assert text.startswith("intro") and text.rstrip().endswith("after")
    assert text.count(BEGIN) == 1 and text.count(END) == 1
