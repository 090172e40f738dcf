"""cJSON as its README shows it: parse and walk a document (struct fields through the
returned pointers, cJSON_ArrayForEach as a loop), build one and print it, errors."""

from __future__ import annotations

import json

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet

MONITOR = b"""{
    "name": "Awesome 4K",
    "resolutions": [
        {"width": 1280, "height": 720},
        {"width": 1920, "height": 1080},
        {"width": 3840, "height": 2160}
    ]
}"""


@pytest.fixture(scope="module")
def cjson(backend):
    require("libcjson-dev", "cjson/cJSON.h")
    return ffikit.load("cjson", ffikit.include("cjson/cJSON.h"))


def _items(array):
    """cJSON_ArrayForEach(element, array)."""
    element = array.contents.child if array else None
    while element:
        yield element
        element = element.contents.next


def test_parse_and_walk(cjson):
    root = cjson.cJSON_Parse(MONITOR)
    assert root
    try:
        name = cjson.cJSON_GetObjectItemCaseSensitive(root, b"name")
        assert cjson.cJSON_IsString(name)
        assert ffikit.string(name.contents.valuestring) == b"Awesome 4K"  # char *: a pointer
        resolutions = cjson.cJSON_GetObjectItemCaseSensitive(root, b"resolutions")
        assert cjson.cJSON_IsArray(resolutions) and cjson.cJSON_GetArraySize(resolutions) == 3
        sizes = []
        for resolution in _items(resolutions):
            width = cjson.cJSON_GetObjectItemCaseSensitive(resolution, b"width")
            height = cjson.cJSON_GetObjectItemCaseSensitive(resolution, b"height")
            assert cjson.cJSON_IsNumber(width) and cjson.cJSON_IsNumber(height)
            sizes.append((width.contents.valuedouble, height.contents.valueint))
        assert sizes == [(1280.0, 720), (1920.0, 1080), (3840.0, 2160)]
        assert resolutions.contents.type & 0xFF == cjson.cJSON_Array
    finally:
        cjson.cJSON_Delete(root)


def test_build_and_print(cjson):
    monitor = cjson.cJSON_CreateObject()
    try:
        assert cjson.cJSON_AddStringToObject(monitor, b"name", "Awesome 4K")
        resolutions = cjson.cJSON_AddArrayToObject(monitor, b"resolutions")
        for width, height in [(1280, 720), (1920, 1080)]:
            resolution = cjson.cJSON_CreateObject()
            cjson.cJSON_AddNumberToObject(resolution, b"width", width)
            cjson.cJSON_AddNumberToObject(resolution, b"height", height)
            assert cjson.cJSON_AddItemToArray(resolutions, resolution)
        text = cjson.cJSON_PrintUnformatted(monitor)
        try:
            printed = ffikit.string(text)
        finally:
            cjson.cJSON_free(text)
    finally:
        cjson.cJSON_Delete(monitor)
    assert json.loads(printed) == {"name": "Awesome 4K", "resolutions": [
        {"width": 1280, "height": 720}, {"width": 1920, "height": 1080}]}


def test_parse_error_points_into_the_input(cjson):
    text = b'{"name": "x", oops}'
    assert not cjson.cJSON_Parse(text)
    error = cjson.cJSON_GetErrorPtr()  # const char *: bytes, where parsing stopped
    assert error and text.endswith(error) and len(error) < len(b"oops}") + 1


def test_version(cjson):
    assert cjson.cJSON_Version() == b"%d.%d.%d" % (
        cjson.CJSON_VERSION_MAJOR, cjson.CJSON_VERSION_MINOR, cjson.CJSON_VERSION_PATCH)
