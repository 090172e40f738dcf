"""Expat as its documentation shows it (outline.c, elements.c): element and character-data
handlers that C keeps, attributes as a NULL-terminated array, errors with their line."""

from __future__ import annotations

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet

DOCUMENT = b"""<?xml version="1.0"?>
<library name="ffikit">
  <book id="1" lang="en">C from Python</book>
  <book id="2">Zero copy</book>
</library>
"""


@pytest.fixture(scope="module")
def expat(backend):
    require("libexpat1-dev", "expat.h")
    return ffikit.load("expat", ffikit.include("expat.h"))


def _attributes(atts) -> dict[bytes, bytes]:
    """``const XML_Char **atts``: name, value, name, value, ..., NULL."""
    out, i = {}, 0
    while atts[i]:  # a NULL pointer is false
        out[ffikit.string(atts[i])] = ffikit.string(atts[i + 1])
        i += 2
    return out


def _parse(expat, document: bytes):
    events: list[tuple] = []
    text: list[bytes] = []
    depth = [0]

    def start(user_data, name, atts):
        events.append(("start", depth[0], ffikit.string(name), _attributes(atts)))
        depth[0] += 1

    def end(user_data, name):
        depth[0] -= 1
        events.append(("end", depth[0], ffikit.string(name)))

    def characters(user_data, s, length):
        text.append(ffikit.string(s, length))

    parser = expat.XML_ParserCreate(None)
    handlers = [ffikit.callback(expat.defs.XML_StartElementHandler, start),
                ffikit.callback(expat.defs.XML_EndElementHandler, end),
                ffikit.callback(expat.defs.XML_CharacterDataHandler, characters)]
    try:
        expat.XML_SetElementHandler(parser, handlers[0], handlers[1])
        expat.XML_SetCharacterDataHandler(parser, handlers[2])
        if expat.XML_Parse(parser, document, len(document), 1) == expat.XML_STATUS_ERROR:
            raise SyntaxError(f"{expat.XML_ErrorString(expat.XML_GetErrorCode(parser)).decode()}"
                              f" at line {expat.XML_GetCurrentLineNumber(parser)}")
    finally:
        expat.XML_ParserFree(parser)
        for handler in handlers:
            handler.release()
    return events, b"".join(text)


def test_elements_attributes_and_text(expat):
    events, text = _parse(expat, DOCUMENT)
    starts = [e for e in events if e[0] == "start"]
    assert starts == [("start", 0, b"library", {b"name": b"ffikit"}),
                      ("start", 1, b"book", {b"id": b"1", b"lang": b"en"}),
                      ("start", 1, b"book", {b"id": b"2"})]
    assert events[-1] == ("end", 0, b"library")
    assert b"C from Python" in text and b"Zero copy" in text


def test_error_with_its_line(expat):
    with pytest.raises(SyntaxError, match="mismatched tag at line 3"):
        _parse(expat, b"<a>\n<b>\n</a>\n")


def test_chunks_fed_one_by_one(expat):
    """XML_Parse with isFinal=0 for every chunk but the last, as a reader loop does."""
    seen: list[bytes] = []
    parser = expat.XML_ParserCreate(b"UTF-8")
    with ffikit.callback(expat.defs.XML_StartElementHandler,
                         lambda data, name, atts: seen.append(ffikit.string(name))) as start:
        expat.XML_SetStartElementHandler(parser, start)
        try:
            for i in range(0, len(DOCUMENT), 7):
                chunk = DOCUMENT[i:i + 7]
                assert expat.XML_Parse(parser, chunk, len(chunk), 0) == expat.XML_STATUS_OK
            assert expat.XML_Parse(parser, b"", 0, 1) == expat.XML_STATUS_OK
        finally:
            expat.XML_ParserFree(parser)
    assert seen == [b"library", b"book", b"book"]


def test_version(expat):
    version = expat.XML_ExpatVersionInfo()
    assert (version.major, version.minor) >= (2, 0)
    assert expat.XML_ExpatVersion() == b"expat_%d.%d.%d" % (version.major, version.minor,
                                                             version.micro)
