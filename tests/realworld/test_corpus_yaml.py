"""libyaml as its documentation shows it: an event loop over a document, an error with its
position, and an emitter writing through a Python output handler."""

from __future__ import annotations

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet


@pytest.fixture(scope="module")
def yaml(backend):
    require("libyaml-dev", "yaml.h")
    return ffikit.load("yaml", ffikit.include("yaml.h"))


def _events(yaml, text: bytes):
    """(event type, scalar value) for every event of ``text``, as libyaml's parse loop does."""
    parser, event = yaml.new("yaml_parser_t"), yaml.new("yaml_event_t")
    assert yaml.yaml_parser_initialize(parser) == 1
    found = []
    try:
        yaml.yaml_parser_set_input_string(parser, text, len(text))
        while True:
            if not yaml.yaml_parser_parse(parser, event):
                raise ValueError(f"{ffikit.string(parser.problem).decode()} at line "
                                 f"{parser.problem_mark.line + 1}")
            kind = event.type
            value = None
            if kind == yaml.YAML_SCALAR_EVENT:
                scalar = event.data.scalar
                value = ffikit.string(scalar.value, scalar.length).decode()
            found.append((kind, value))
            yaml.yaml_event_delete(event)
            if kind == yaml.YAML_STREAM_END_EVENT:
                return found
    finally:
        yaml.yaml_parser_delete(parser)


def test_parse_a_mapping(yaml):
    text = b"name: ffikit\nlanguages: [C, Python]\n"
    events = _events(yaml, text)
    assert [v for _, v in events if v is not None] == ["name", "ffikit", "languages", "C",
                                                        "Python"]
    kinds = [k for k, _ in events]
    assert kinds[0] == yaml.YAML_STREAM_START_EVENT and kinds[-1] == yaml.YAML_STREAM_END_EVENT
    assert kinds.count(yaml.YAML_MAPPING_START_EVENT) == 1
    assert kinds.count(yaml.YAML_SEQUENCE_START_EVENT) == 1


def test_event_type_enum_by_typedef_name(yaml):
    kinds = yaml.defs.enums["yaml_event_type_t"]
    assert kinds.YAML_SCALAR_EVENT == yaml.YAML_SCALAR_EVENT


def test_syntax_error_names_the_line(yaml):
    with pytest.raises(ValueError, match="line 2"):
        _events(yaml, b"a: [1, 2\nb: }\n")


def test_emit_through_an_output_handler(yaml):
    """The emitter calls back into Python with each chunk of output."""
    chunks: list[bytes] = []

    def write(data, buffer, size):
        chunks.append(ffikit.string(buffer, size))
        return 1  # success

    emitter, event = yaml.new("yaml_emitter_t"), yaml.new("yaml_event_t")
    assert yaml.yaml_emitter_initialize(emitter) == 1
    handler = ffikit.callback(yaml.defs.yaml_write_handler_t, write)
    try:
        yaml.yaml_emitter_set_output(emitter, handler, None)
        steps = [
            lambda: yaml.yaml_stream_start_event_initialize(event, yaml.YAML_UTF8_ENCODING),
            lambda: yaml.yaml_document_start_event_initialize(event, None, None, None, 1),
            lambda: yaml.yaml_mapping_start_event_initialize(event, None, None, 1,
                                                             yaml.YAML_BLOCK_MAPPING_STYLE),
            lambda: yaml.yaml_scalar_event_initialize(event, None, None, b"key", 3, 1, 1,
                                                      yaml.YAML_PLAIN_SCALAR_STYLE),
            lambda: yaml.yaml_scalar_event_initialize(event, None, None, b"value", 5, 1, 1,
                                                      yaml.YAML_PLAIN_SCALAR_STYLE),
            lambda: yaml.yaml_mapping_end_event_initialize(event),
            lambda: yaml.yaml_document_end_event_initialize(event, 1),
            lambda: yaml.yaml_stream_end_event_initialize(event),
        ]
        for make in steps:
            assert make() == 1
            assert yaml.yaml_emitter_emit(emitter, event) == 1  # takes the event over
        assert yaml.yaml_emitter_flush(emitter) == 1
    finally:
        yaml.yaml_emitter_delete(emitter)
        handler.release()
    assert b"".join(chunks) == b"key: value\n"
