"""Digest (RFC 3230) and Content-Digest (RFC 9530): known vectors and every failure mode."""

from __future__ import annotations

import pytest

from federation.digest import (
    content_digest_header,
    digest_header,
    verify_content_digest,
    verify_digest_header,
)
from federation.errors import DigestError, SignatureError

EMPTY_SHA256 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
EMPTY_SHA512 = ("z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlO"
                "DJ6+SfaPg==")
# RFC 9530 §2 and RFC 9421 Appendix B use this body.
HELLO = b'{"hello": "world"}'
HELLO_SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
HELLO_SHA512 = ("WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwE"
                "mTHWXvJwew==")


def test_known_vectors() -> None:
    assert digest_header(b"") == f"SHA-256={EMPTY_SHA256}"
    assert digest_header(HELLO) == f"SHA-256={HELLO_SHA256}"
    assert content_digest_header(HELLO) == f"sha-256=:{HELLO_SHA256}:"
    assert content_digest_header(HELLO, "sha-512") == f"sha-512=:{HELLO_SHA512}:"
    assert content_digest_header(b"", "SHA-512") == f"sha-512=:{EMPTY_SHA512}:"


def test_unknown_algorithm_cannot_be_produced() -> None:
    with pytest.raises(ValueError):
        content_digest_header(b"", "md5")


@pytest.mark.parametrize("value", [
    f"SHA-256={EMPTY_SHA256}",
    f"sha-256={EMPTY_SHA256}",                                  # token is case-insensitive
    f"SHA-512={EMPTY_SHA512}",
    f"SHA-256={EMPTY_SHA256}, SHA-512={EMPTY_SHA512}",
    f"MD5=1B2M2Y8AsgTpgAmY7PhCfg==,SHA-256={EMPTY_SHA256}",      # unknown ones are ignored
])
def test_digest_accepts(value: str) -> None:
    verify_digest_header(value, b"")


@pytest.mark.parametrize("value", [
    f"SHA-256={HELLO_SHA256}",                                  # another body's digest
    f"SHA-256={EMPTY_SHA256}, SHA-512={HELLO_SHA512}",          # one good, one forged
    f"SHA-512={HELLO_SHA512}, SHA-256={EMPTY_SHA256}",
    "MD5=1B2M2Y8AsgTpgAmY7PhCfg==",                             # nothing we support
    "",
    "SHA-256",                                                  # no value
    "SHA-256=not*base64",
    f"SHA-256={EMPTY_SHA256[:-4]}",                             # truncated
])
def test_digest_refuses(value: str) -> None:
    with pytest.raises(DigestError):
        verify_digest_header(value, b"")


def test_digest_error_is_a_401_signature_error() -> None:
    with pytest.raises(SignatureError) as caught:
        verify_digest_header(f"SHA-256={EMPTY_SHA256}", b"tampered")
    assert caught.value.status == 401


@pytest.mark.parametrize("value", [
    f"sha-256=:{HELLO_SHA256}:",
    f"sha-512=:{HELLO_SHA512}:",
    f"sha-256=:{HELLO_SHA256}:, sha-512=:{HELLO_SHA512}:",
    f"unixsum=:AAAA:, sha-256=:{HELLO_SHA256}:",
    f"sha-256=:{HELLO_SHA256}:;note=1",
])
def test_content_digest_accepts(value: str) -> None:
    verify_content_digest(value, HELLO)


@pytest.mark.parametrize("value", [
    f"sha-256=:{EMPTY_SHA256}:",
    f"sha-256=:{HELLO_SHA256}:, sha-512=:{EMPTY_SHA512}:",
    "unixsum=:AAAA:",
    f"sha-256={HELLO_SHA256}",                                  # RFC 3230 syntax, not RFC 9530
    f"SHA-256=:{HELLO_SHA256}:",                                # keys are lowercase
    "sha-256=:%%%:",
    "",
])
def test_content_digest_refuses(value: str) -> None:
    with pytest.raises(DigestError):
        verify_content_digest(value, HELLO)
