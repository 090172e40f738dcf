"""libcurl's easy interface as its documentation shows it: a ``file://`` URL read through a
write callback, transfer info, error codes and their text, and a callback that stops the
transfer."""

from __future__ import annotations

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet


@pytest.fixture(scope="module")
def curl(backend):
    require("libcurl4-openssl-dev", "curl/curl.h")
    lib = ffikit.load("curl", ffikit.include("curl/curl.h"))
    assert lib.curl_global_init(lib.CURL_GLOBAL_DEFAULT) == lib.CURLE_OK
    yield lib
    lib.curl_global_cleanup()


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "page.txt"
    path.write_bytes(b"ffikit fetched this through libcurl\n" * 200)
    return path


def _fetch(curl, url: bytes, write):
    """curl_easy_perform on ``url``; returns (CURLcode, bytes downloaded)."""
    handle = curl.curl_easy_init()
    assert handle is not None
    callback = ffikit.callback(curl.defs.curl_write_callback, write, on_error=0)
    try:
        assert curl.curl_easy_setopt(handle, curl.CURLOPT_URL, url) == curl.CURLE_OK
        assert curl.curl_easy_setopt(handle, curl.CURLOPT_WRITEFUNCTION,
                                     callback) == curl.CURLE_OK
        code = curl.curl_easy_perform(handle)
        size = curl.new("curl_off_t *")  # a pointer to a zeroed curl_off_t, as cffi's new()
        assert curl.curl_easy_getinfo(handle, curl.CURLINFO_SIZE_DOWNLOAD_T,
                                      size) == curl.CURLE_OK
        return code, size[0]
    finally:
        curl.curl_easy_cleanup(handle)
        callback.release()


def test_file_url_through_a_write_callback(curl, page):
    received: list[bytes] = []

    def write(ptr, size, nmemb, userdata):
        received.append(ffikit.string(ptr, size * nmemb))
        return size * nmemb  # all taken

    code, downloaded = _fetch(curl, page.as_uri().encode(), write)
    assert code == curl.CURLE_OK
    assert b"".join(received) == page.read_bytes() and downloaded == len(page.read_bytes())


def test_missing_file_is_an_error_code_with_its_text(curl, tmp_path):
    code, _ = _fetch(curl, (tmp_path / "absent.txt").as_uri().encode(), lambda *a: 0)
    assert code == curl.CURLE_FILE_COULDNT_READ_FILE
    assert b"read" in curl.curl_easy_strerror(code).lower()  # const char *: bytes


def test_taking_less_stops_the_transfer(curl, page):
    code, _ = _fetch(curl, page.as_uri().encode(), lambda ptr, size, nmemb, data: 0)
    assert code == curl.CURLE_WRITE_ERROR


def test_an_exception_in_the_callback_reaches_the_caller(curl, page):
    def write(ptr, size, nmemb, userdata):
        raise KeyError("stop here")

    with pytest.raises(KeyError, match="stop here"):
        _fetch(curl, page.as_uri().encode(), write)


def test_version_info(curl):
    info = curl.curl_version_info(curl.CURLVERSION_NOW).contents
    assert ffikit.string(info.version).decode().count(".") == 2
    assert ffikit.string(curl.curl_version()).startswith(b"libcurl/")
