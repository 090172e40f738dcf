"""libxml2 through two of its installed headers: one translation unit, or two Libraries
that accept each other's structs (issue 18)."""

from __future__ import annotations

import ctypes
import os

import pytest

import ffikit

XML2 = "/usr/include/libxml2"
pytestmark = pytest.mark.skipif(not os.path.exists(f"{XML2}/libxml/parser.h"),
                                reason="libxml2 headers not installed (libxml2-dev)")
DOC = b"<shelf><book id='1'>C</book><book id='2'>Python</book></shelf>"


def test_parser_and_tree_as_one_translation_unit(backend):
    defs = ffikit.include(["libxml/parser.h", "libxml/tree.h"], include_dirs=[XML2])
    assert defs.declares("xmlReadMemory") and defs.declares("xmlDocGetRootElement")
    assert defs.where("xmlDocGetRootElement")[0].endswith("libxml/tree.h")
    xml = ffikit.load("xml2", defs, backend=backend)
    doc = xml.xmlReadMemory(DOC, len(DOC), b"shelf.xml", None, 0)
    try:
        root = xml.xmlDocGetRootElement(doc)
        assert ctypes.string_at(root.contents.name) == b"shelf"
        assert xml.xmlChildElementCount(root) == 2
    finally:
        xml.xmlFreeDoc(doc)


def test_two_libraries_share_the_document_type(backend):
    parser = ffikit.load("xml2", ffikit.include("libxml/parser.h", include_dirs=[XML2]),
                         backend=backend)
    tree = ffikit.load("xml2", ffikit.include("libxml/tree.h", include_dirs=[XML2]),
                       backend=backend)
    assert parser.defs is not tree.defs and parser.defs.xmlDoc is tree.defs.xmlDoc
    doc = parser.xmlReadMemory(DOC, len(DOC), b"shelf.xml", None, 0)
    try:
        root = tree.xmlDocGetRootElement(doc)  # a parser.h document, walked by tree.h's library
        assert tree.xmlChildElementCount(root) == 2
        assert parser.xmlDocGetRootElement(doc).contents.line == root.contents.line
    finally:
        tree.xmlFreeDoc(doc)
