"""libsodium as its documentation shows it: secret-key boxes, generic hashing, signatures."""

from __future__ import annotations

import hashlib

import pytest

import ffikit
from corpus_helpers import require

# lib.CONSTANT (cffi's lib.X for #define and enum constants): not merged into main yet


@pytest.fixture(scope="module")
def sodium(backend):
    require("libsodium-dev", "sodium.h")
    lib = ffikit.load("sodium", ffikit.include("sodium.h"))
    assert lib.sodium_init() >= 0  # 1: already initialised, still fine
    return lib


def test_secretbox_round_trip_and_forgery(sodium):
    message = b"test message"
    key = bytearray(sodium.crypto_secretbox_KEYBYTES)
    nonce = bytearray(sodium.crypto_secretbox_NONCEBYTES)
    sodium.crypto_secretbox_keygen(key)
    sodium.randombytes_buf(nonce, len(nonce))
    ciphertext = bytearray(sodium.crypto_secretbox_MACBYTES + len(message))
    assert sodium.crypto_secretbox_easy(ciphertext, message, len(message), nonce, key) == 0
    assert message not in ciphertext

    decrypted = bytearray(len(message))
    assert sodium.crypto_secretbox_open_easy(decrypted, ciphertext, len(ciphertext), nonce,
                                             key) == 0
    assert decrypted == message

    ciphertext[-1] ^= 1  # forged: the MAC no longer matches
    assert sodium.crypto_secretbox_open_easy(decrypted, ciphertext, len(ciphertext), nonce,
                                             key) == -1


def test_generichash_is_blake2b(sodium):
    message = b"Arbitrary data to hash"
    digest = bytearray(sodium.crypto_generichash_BYTES)
    assert sodium.crypto_generichash(digest, len(digest), message, len(message), None, 0) == 0
    assert bytes(digest) == hashlib.blake2b(message, digest_size=len(digest)).digest()

    key = b"k" * sodium.crypto_generichash_KEYBYTES
    assert sodium.crypto_generichash(digest, len(digest), message, len(message), key,
                                     len(key)) == 0
    assert bytes(digest) == hashlib.blake2b(message, digest_size=len(digest), key=key).digest()


def test_detached_signature(sodium):
    pk = bytearray(sodium.crypto_sign_PUBLICKEYBYTES)
    sk = bytearray(sodium.crypto_sign_SECRETKEYBYTES)
    assert sodium.crypto_sign_keypair(pk, sk) == 0
    message = b"signed"
    sig = bytearray(sodium.crypto_sign_BYTES)
    assert sodium.crypto_sign_detached(sig, None, message, len(message), sk) == 0
    assert sodium.crypto_sign_verify_detached(sig, message, len(message), pk) == 0
    assert sodium.crypto_sign_verify_detached(sig, b"signeD", len(message), pk) == -1


def test_bin2hex(sodium):
    data = bytes(range(250, 256))
    text = bytearray(len(data) * 2 + 1)
    result = sodium.sodium_bin2hex(text, len(text), data, len(data))
    assert ffikit.string(result) == data.hex().encode() == bytes(text[:-1])


def test_buffer_shorter_than_the_constant_is_refused(sodium):
    """A key buffer one byte short: ffikit refuses before libsodium reads past it."""
    key = bytearray(sodium.crypto_secretbox_KEYBYTES - 1)
    with pytest.raises(ffikit.BufferTooSmall):
        sodium.crypto_secretbox_keygen(key)
