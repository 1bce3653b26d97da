"""The signature façade the inbox and the delivery workers use.

`verify_request` picks the scheme (RFC 9421 when `Signature-Input` is present, else
draft-cavage), rejects on policy, time and digest before any key is fetched, then looks
the key up and retries once with a refreshed key, since the signer may have rotated it.

`sign_request` is on the fan-out hot path: it builds the signed string with f-strings from
an already-loaded key and caches the formatted Date per second and the split URL per
inbox, so almost all of its time is the RSA operation itself.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate

from federation import cavage, rfc9421
from federation.digest import content_digest_header, digest_header
from federation.errors import KeyNotFound, SignatureError
from federation.keys import KeyLookup, PublicKey, SigningKey, sign_bytes

DRAFT_CAVAGE = "draft-cavage"
RFC9421 = "rfc9421"
# Headers sign_request computes itself; caller copies of them are dropped, not duplicated.
_COMPUTED = {"host", "date", "digest", "content-digest", "signature", "signature-input"}


@dataclass(frozen=True)
class Verified:
    """Who signed a request: the key, its owning actor, and the scheme used."""

    key_id: str
    owner: str
    scheme: str  # "draft-cavage" | "rfc9421"


async def _lookup(key_lookup: KeyLookup, key_id: str, *, refresh: bool = False) -> PublicKey:
    key = await key_lookup(key_id, refresh=refresh)
    if key.key_id != key_id:
        raise KeyNotFound(f"key lookup for {key_id!r} returned {key.key_id!r}")
    return key


async def _verify_cavage(value: str, method: str, url: str, headers: dict[str, str],
                         body: bytes | None, key_lookup: KeyLookup, now: float,
                         window: int) -> Verified:
    params = cavage.parse_signature_header(value)
    names = cavage.check_request(params, method, headers, body, now=now, window=window)
    key_id = params["keyId"]
    for refresh in (False, True):
        key = await _lookup(key_lookup, key_id, refresh=refresh)
        if cavage.signature_verifies(params, names, method, url, headers, key.public_key):
            return Verified(key_id=key_id, owner=key.owner, scheme=DRAFT_CAVAGE)
    raise SignatureError(f"signature by {key_id} does not verify")


async def _verify_entry(entry: rfc9421.SignatureEntry, method: str, url: str,
                        headers: dict[str, str], key_lookup: KeyLookup,
                        refreshed: set[str]) -> Verified:
    key_id = entry.key_id or ""
    key = await _lookup(key_lookup, key_id)
    if rfc9421.entry_verifies(entry, method, url, headers, key.public_key):
        return Verified(key_id=key_id, owner=key.owner, scheme=RFC9421)
    if key_id not in refreshed:  # one refresh per key, however many labels name it
        refreshed.add(key_id)
        key = await _lookup(key_lookup, key_id, refresh=True)
        if rfc9421.entry_verifies(entry, method, url, headers, key.public_key):
            return Verified(key_id=key_id, owner=key.owner, scheme=RFC9421)
    raise SignatureError(f"signature {entry.label} by {key_id} does not verify")


async def _verify_rfc9421(method: str, url: str, headers: dict[str, str], body: bytes | None,
                          key_lookup: KeyLookup, now: float, window: int) -> Verified:
    errors: list[SignatureError] = []
    refreshed: set[str] = set()
    for entry in rfc9421.parse_signatures(headers):
        try:
            rfc9421.check_entry(entry, method, url, headers, body, now=now, window=window)
            return await _verify_entry(entry, method, url, headers, key_lookup, refreshed)
        except SignatureError as exc:  # includes DigestError and KeyNotFound
            errors.append(exc)  # another label may still verify; the first error is raised
    raise errors[0]


async def verify_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key_lookup: KeyLookup,
    *,
    now: float | None = None,
    window: int = cavage.DEFAULT_WINDOW,
) -> Verified:
    """Verify a received request's signature; raise `SignatureError` (401) otherwise.

    `url` is the full URL as received (scheme, Host, raw path and query); `headers` may be
    a multidict or a plain dict, in any case; `body` is the raw body. `window` bounds the
    signature's age in seconds (Mastodon's rule: 5 min + 1 h of clock skew = 3900).
    """
    normalised, value = _scheme(headers)
    now = time.time() if now is None else now
    if value is None:
        return await _verify_rfc9421(method, url, normalised, body, key_lookup, now, window)
    return await _verify_cavage(value, method, url, normalised, body, key_lookup, now, window)


def _scheme(headers: Mapping[str, str]) -> tuple[dict[str, str], str | None]:
    """The normalised headers, and the draft-cavage signature parameters if that is the
    scheme (None: RFC 9421, picked whenever `Signature-Input` is present)."""
    normalised = cavage.normalise_headers(headers)
    if "signature-input" in normalised:
        return normalised, None
    value = normalised.get("signature") or cavage.authorization_signature(normalised)
    if not value:
        raise SignatureError("no signature")
    return normalised, value


def verify_with_key(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: PublicKey,
    *,
    now: float | None = None,
    window: int = cavage.DEFAULT_WINDOW,
) -> Verified | None:
    """`verify_request` with a key already in hand, and no I/O: for a worker process.

    Raises `SignatureError` as `verify_request` would for a malformed, expired or
    mismatched request. Returns None where `verify_request` would look a key up: the
    signature names another key, or does not verify with this one (it may have been
    rotated); the caller then takes the full path, which can refresh the key.
    """
    normalised, value = _scheme(headers)
    now = time.time() if now is None else now
    if value is None:
        errors: list[SignatureError] = []
        for entry in rfc9421.parse_signatures(normalised):
            try:
                rfc9421.check_entry(entry, method, url, normalised, body, now=now,
                                    window=window)
            except SignatureError as exc:
                errors.append(exc)
                continue
            if entry.key_id != key.key_id:
                return None
            if rfc9421.entry_verifies(entry, method, url, normalised, key.public_key):
                return Verified(key_id=key.key_id, owner=key.owner, scheme=RFC9421)
            return None
        raise errors[0]
    params = cavage.parse_signature_header(value)
    names = cavage.check_request(params, method, normalised, body, now=now, window=window)
    if params["keyId"] != key.key_id or not cavage.signature_verifies(
            params, names, method, url, normalised, key.public_key):
        return None
    return Verified(key_id=key.key_id, owner=key.owner, scheme=DRAFT_CAVAGE)


_date_cache: tuple[int, str] = (0, "")


def _http_date(now: float) -> str:
    # Read and replace the cache as one tuple: delivery threads may sign concurrently.
    global _date_cache
    cached = _date_cache
    if cached[0] != int(now):
        cached = (int(now), formatdate(int(now), usegmt=True))
        _date_cache = cached
    return cached[1]


def _quote(value: str) -> str:
    if '"' in value or "\\" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{value}"'


def _cavage_headers(method: str, target: str, out: dict[str, str], given: dict[str, str],
                    body: bytes | None, key: SigningKey) -> None:
    lines = [f"(request-target): {method.lower()} {target}",
             f"host: {out['Host']}", f"date: {out['Date']}"]
    names = ["(request-target)", "host", "date"]
    if body is not None:
        out["Digest"] = digest_header(body)
        lines.append(f"digest: {out['Digest']}")
        names.append("digest")
    # Mastodon signs content-type on POST; on a GET, Accept says which form is wanted.
    for name in ("content-type",) if body is not None else ("accept",):
        if name in given:
            lines.append(f"{name}: {given[name]}")
            names.append(name)
    signature = base64.b64encode(sign_bytes(key.private_key, "\n".join(lines).encode()))
    algorithm = "hs2019" if key.algorithm == "ed25519" else "rsa-sha256"
    out["Signature"] = (f"keyId={_quote(key.key_id)},algorithm=\"{algorithm}\","
                        f"headers=\"{' '.join(names)}\",signature=\"{signature.decode()}\"")


def _rfc9421_headers(method: str, target_uri: str, out: dict[str, str], body: bytes | None,
                     key: SigningKey, now: float) -> None:
    lines = [f'"@method": {method}', f'"@target-uri": {target_uri}']
    components = '"@method" "@target-uri"'
    if body is not None:
        out["Content-Digest"] = content_digest_header(body)
        lines.append(f'"content-digest": {out["Content-Digest"]}')
        components += ' "content-digest"'
    params = f'({components});created={int(now)};keyid={_quote(key.key_id)};alg="{key.algorithm}"'
    lines.append(f'"@signature-params": {params}')
    signature = base64.b64encode(sign_bytes(key.private_key, "\n".join(lines).encode()))
    out["Signature-Input"] = f"sig1={params}"
    out["Signature"] = f"sig1=:{signature.decode()}:"


def sign_request(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes | None,
    key: SigningKey,
    *,
    scheme: str = DRAFT_CAVAGE,
    now: float | None = None,
) -> dict[str, str]:
    """The headers to send: `headers` plus Host, Date, a digest when there is a body, and
    the signature (draft-cavage as Mastodon signs, or RFC 9421 `sig1`).

    `url` must already be percent-encoded, as it will be sent.
    """
    now = time.time() if now is None else now
    method = method.upper()
    _, authority, path, query, target_uri = rfc9421.split_target(url)
    out = {name: value for name, value in headers.items() if name.lower() not in _COMPUTED}
    out["Host"] = authority
    out["Date"] = _http_date(now)
    if scheme == DRAFT_CAVAGE:
        given = {name.lower(): value.strip() for name, value in out.items()}
        target = f"{path}?{query}" if query else path
        _cavage_headers(method, target, out, given, body, key)
    elif scheme == RFC9421:
        _rfc9421_headers(method, target_uri, out, body, key, now)
    else:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    return out
