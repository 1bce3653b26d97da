"""Body digests: `Digest` (RFC 3230, draft-cavage peers) and `Content-Digest` (RFC 9530).

Both checks follow one rule: at least one algorithm we support must be offered, and every
supported one offered must match the raw body (an attacker must not pass a good SHA-256
beside a forged SHA-512, or the reverse). Unknown algorithms are ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re

from federation.errors import DigestError

# RFC 3230 tokens are case-insensitive; RFC 9530 keys are lowercase.
_HASHES = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}

# One RFC 9530 dictionary member whose value is a byte sequence, parameters ignored.
_CONTENT_DIGEST_MEMBER = re.compile(
    r"\s*([a-z*][a-z0-9_\-.*]*)\s*=\s*:([A-Za-z0-9+/]*={0,2}):\s*(?:;[^,]*)?\s*"
)


def digest_header(body: bytes) -> str:
    """The `Digest` header value Mastodon expects: `SHA-256=<base64>`."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes, algorithm: str = "sha-256") -> str:
    """The RFC 9530 `Content-Digest` value, e.g. `sha-256=:<base64>:`."""
    algorithm = algorithm.lower()
    if algorithm not in _HASHES:
        raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    encoded = base64.b64encode(_HASHES[algorithm](body).digest()).decode("ascii")
    return f"{algorithm}=:{encoded}:"


def _decode(value: str) -> bytes:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise DigestError(f"digest is not valid base64: {value!r}") from exc


def _check_all(offered: list[tuple[str, str]], body: bytes) -> None:
    supported = [(alg, value) for alg, value in offered if alg in _HASHES]
    if not supported:
        names = ", ".join(alg for alg, _ in offered) or "none"
        raise DigestError(f"no supported digest algorithm (offered: {names})")
    for alg, value in supported:
        expected = _HASHES[alg](body).digest()
        if not hmac.compare_digest(_decode(value), expected):
            raise DigestError(f"{alg} digest does not match the body")


def verify_digest_header(value: str, body: bytes) -> None:
    """Check an RFC 3230 `Digest` header (`SHA-256=…, SHA-512=…`) against the raw body."""
    offered = []
    for member in value.split(","):
        if not member.strip():
            continue
        alg, sep, encoded = member.partition("=")
        if not sep:
            raise DigestError(f"malformed Digest member {member.strip()!r}")
        offered.append((alg.strip().lower(), encoded))
    _check_all(offered, body)


def verify_content_digest(value: str, body: bytes) -> None:
    """Check an RFC 9530 `Content-Digest` header (`sha-256=:…:`) against the raw body."""
    offered = []
    # Byte sequences are base64 and never hold a comma, so members split cleanly on commas.
    for member in value.split(","):
        if not member.strip():
            continue
        match = _CONTENT_DIGEST_MEMBER.fullmatch(member)
        if match is None:
            raise DigestError(f"malformed Content-Digest member {member.strip()!r}")
        offered.append((match.group(1), match.group(2)))
    _check_all(offered, body)
