"""HTTP Message Signatures (RFC 9421) for `rsa-v1_5-sha256` and `ed25519` (verify also
`rsa-pss-sha512`).

`Signature-Input` and `Signature` are RFC 8941 dictionaries, read by the small parser
below (only this module needs the full grammar; no dependency is worth it). The signature
base is rebuilt from the parsed structure, as §2.5 says, not copied from the header text.

Policy (what a fediverse inbox needs, as Mastodon 4.5 and Fedify check it): `created`
within the window, `expires` honoured, `@method` and the target (`@target-uri`, or
`@authority` with `@path`/`@request-target`) covered, and a body covered by a matching
`content-digest` (or, leniently, `digest`).
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from federation.cavage import DEFAULT_WINDOW, check_timestamp, normalise_headers
from federation.digest import verify_content_digest, verify_digest_header
from federation.errors import SignatureError
from federation.keys import PublicKeyType, SigningKey, sign_bytes, verify_bytes

ALGORITHMS = ("rsa-v1_5-sha256", "rsa-pss-sha512", "ed25519")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]{1,15}(\.[0-9]{1,3})?")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class Token(str):
    """An RFC 8941 token, kept apart from strings so it re-serialises unquoted."""


Params = dict[str, Any]
Item = tuple[Any, Params]


class _Parser:
    """RFC 8941 §4.2 dictionary parser; any deviation raises `SignatureError`."""

    def __init__(self, text: str) -> None:
        self.text, self.pos = text.strip(" "), 0

    def fail(self, what: str) -> SignatureError:
        return SignatureError(f"malformed structured field ({what} at {self.pos})")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip(self, chars: str) -> None:
        while self.peek() and self.peek() in chars:
            self.pos += 1

    def match(self, pattern: re.Pattern[str], what: str) -> re.Match[str]:
        found = pattern.match(self.text, self.pos)
        if found is None:
            raise self.fail(what)
        self.pos = found.end()
        return found

    def dictionary(self) -> dict[str, Item | tuple[list[Item], Params]]:
        members: dict[str, Any] = {}
        while self.pos < len(self.text):
            key = self.match(_KEY, "key").group(0)
            if self.peek() == "=":
                self.pos += 1
                members[key] = self.inner_list() if self.peek() == "(" else self.item()
            else:
                members[key] = (True, self.params())
            self.skip(" \t")
            if self.pos >= len(self.text):
                break
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.pos += 1
            self.skip(" \t")
            if self.pos >= len(self.text):
                raise self.fail("trailing ','")
        return members

    def inner_list(self) -> tuple[list[Item], Params]:
        self.pos += 1
        items: list[Item] = []
        while True:
            self.skip(" ")
            if self.peek() == ")":
                self.pos += 1
                return items, self.params()
            items.append(self.item())
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')'")

    def item(self) -> Item:
        return self.bare_item(), self.params()

    def params(self) -> Params:
        params: Params = {}
        while self.peek() == ";":
            self.pos += 1
            self.skip(" ")
            key = self.match(_KEY, "parameter key").group(0)
            value: Any = True
            if self.peek() == "=":
                self.pos += 1
                value = self.bare_item()
            params[key] = value
        return params

    def bare_item(self) -> Any:
        char = self.peek()
        if char == '"':
            return self.string()
        if char == ":":
            try:
                return base64.b64decode(self.match(_BYTES, "byte sequence").group(1), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise self.fail("bad base64") from exc
        if char == "?":
            value = self.text[self.pos + 1 : self.pos + 2]
            if value not in ("0", "1"):
                raise self.fail("boolean")
            self.pos += 2
            return value == "1"
        if char == "-" or char.isdigit():
            number = self.match(_NUMBER, "number")
            return float(number.group(0)) if number.group(1) else int(number.group(0))
        return Token(self.match(_TOKEN, "item").group(0))

    def string(self) -> str:
        out, self.pos = [], self.pos + 1
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == '"':
                return "".join(out)
            if char == "\\":
                char = self.peek()
                if char not in ('"', "\\"):
                    raise self.fail("bad escape")
                self.pos += 1
            elif not " " <= char <= "~":
                raise self.fail("non-printable character")
            out.append(char)
        raise self.fail("unterminated string")


def parse_dictionary(text: str) -> dict[str, Any]:
    """An RFC 8941 dictionary: member → (value, params); inner lists as (list, params)."""
    return _Parser(text).dictionary()


def _serialize_bare(value: Any) -> str:
    if isinstance(value, bool):
        return "?1" if value else "?0"
    if isinstance(value, Token | int):
        return str(value)
    if isinstance(value, float):
        text = f"{value:.3f}".rstrip("0")
        return text + "0" if text.endswith(".") else text
    if isinstance(value, bytes):
        return ":" + base64.b64encode(value).decode("ascii") + ":"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def serialize_params(params: Params) -> str:
    return "".join(
        f";{key}" if value is True else f";{key}={_serialize_bare(value)}"
        for key, value in params.items()
    )


@dataclass(frozen=True)
class SignatureEntry:
    """One labelled signature: its covered components, parameters and signature bytes."""

    label: str
    components: tuple[tuple[str, Params], ...]
    params: Params
    signature: bytes

    @property
    def key_id(self) -> str | None:
        value = self.params.get("keyid")
        return value if isinstance(value, str) else None

    def signature_params(self) -> str:
        """The `@signature-params` value: the inner list serialised as §2.3 builds it."""
        items = " ".join(
            _serialize_bare(name) + serialize_params(p) for name, p in self.components
        )
        return f"({items}){serialize_params(self.params)}"


def parse_signatures(headers: Mapping[str, str]) -> list[SignatureEntry]:
    """Every label present in both `Signature-Input` and `Signature` (normalised headers)."""
    inputs = parse_dictionary(headers.get("signature-input", ""))
    values = parse_dictionary(headers.get("signature", ""))
    entries = []
    for label, member in inputs.items():
        value, params = member
        signature = values.get(label, (None, {}))[0]
        if not isinstance(value, list) or not isinstance(signature, bytes):
            continue
        components = []
        for name, component_params in value:
            if not isinstance(name, str) or isinstance(name, Token) or name != name.lower():
                raise SignatureError(f"signature {label}: components must be lowercase strings")
            components.append((name, component_params))
        entries.append(SignatureEntry(label, tuple(components), params, signature))
    if not entries:
        raise SignatureError("no usable signature in Signature-Input / Signature")
    return entries


@lru_cache(maxsize=4096)
def split_target(url: str) -> tuple[str, str, str, str, str]:
    """(scheme, authority, path, query, target-uri) with the authority lowercased and the
    default port dropped, so signer and verifier derive the same `@target-uri`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    authority = host if port in (None, {"https": 443, "http": 80}.get(scheme)) else f"{host}:{port}"
    path = parts.path or "/"
    target = f"{scheme}://{authority}{path}" + (f"?{parts.query}" if parts.query else "")
    return scheme, authority, path, parts.query, target


def _derived(name: str, method: str, url: str) -> str:
    scheme, authority, path, query, target = split_target(url)
    values = {
        "@method": method,
        "@target-uri": target,
        "@authority": authority,
        "@scheme": scheme,
        "@path": path,
        "@query": f"?{query}",
        "@request-target": f"{path}?{query}" if query else path,
    }
    if name not in values:
        raise SignatureError(f"unsupported derived component {name!r}")
    return values[name]


def signature_base(entry: SignatureEntry, method: str, url: str,
                   headers: Mapping[str, str]) -> str:
    """The §2.5 signature base; `headers` normalised. Unknown or missing components raise."""
    lines, seen = [], set()
    for name, params in entry.components:
        if params:
            raise SignatureError(f"unsupported parameters on component {name!r}")
        if name in seen:
            raise SignatureError(f"component {name!r} is covered twice")
        seen.add(name)
        if name.startswith("@"):
            value = _derived(name, method, url)
        elif name in headers:
            value = headers[name]
        else:
            raise SignatureError(f"covered header {name!r} is missing from the request")
        lines.append(f'"{name}": {value}')
    lines.append(f'"@signature-params": {entry.signature_params()}')
    return "\n".join(lines)


def _check_target(names: set[str], url: str) -> None:
    if "@method" not in names:
        raise SignatureError("@method must be covered")
    if "@target-uri" in names:
        return
    if "@authority" not in names or not names & {"@path", "@request-target"}:
        raise SignatureError("@target-uri (or @authority and @path) must be covered")
    if split_target(url)[3] and not names & {"@query", "@request-target"}:
        raise SignatureError("the query must be covered")


def _check_body(names: set[str], method: str, headers: Mapping[str, str],
                body: bytes | None) -> None:
    checks = (("content-digest", verify_content_digest), ("digest", verify_digest_header))
    for name, check in checks:
        if name in names:
            # A covered digest header's presence is checked when the base is built.
            check(headers.get(name, ""), body or b"")
            return
    if method.upper() in _BODY_METHODS or body:
        raise SignatureError("a request with a body must cover content-digest")


def check_entry(entry: SignatureEntry, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None, *, now: float | None = None,
                window: int = DEFAULT_WINDOW) -> None:
    """Everything but the cryptography: parameters, time, covered components, digest."""
    now = time.time() if now is None else now
    if entry.key_id is None:
        raise SignatureError(f"signature {entry.label} has no keyid")
    created, expires = entry.params.get("created"), entry.params.get("expires")
    if not isinstance(created, int) or isinstance(created, bool):
        raise SignatureError(f"signature {entry.label} has no integer created")
    check_timestamp(created, now, window, "created")
    if expires is not None and (not isinstance(expires, int | float) or now > expires):
        raise SignatureError(f"signature {entry.label} has expired")
    alg = entry.params.get("alg")
    if alg is not None and alg not in ALGORITHMS:
        raise SignatureError(f"unsupported alg {alg!r}")
    names = {name for name, _ in entry.components}
    _check_target(names, url)
    _check_body(names, method, headers, body)


def entry_verifies(entry: SignatureEntry, method: str, url: str, headers: Mapping[str, str],
                   public_key: PublicKeyType) -> bool:
    """True if the signature verifies with `public_key`; `alg` absent → from the key type."""
    base = signature_base(entry, method, url, headers).encode("utf-8")
    alg = entry.params.get("alg")
    candidates = [alg] if alg else ["rsa-v1_5-sha256", "ed25519", "rsa-pss-sha512"]
    return any(verify_bytes(public_key, entry.signature, base, name) for name in candidates)


def sign(method: str, url: str, headers: Mapping[str, str], key: SigningKey,
         components: list[str], *, created: int, expires: int | None = None,
         label: str = "sig1", include_alg: bool = True) -> tuple[str, str]:
    """(`Signature-Input`, `Signature`) values for a request, params `created;keyid;alg`."""
    params: Params = {"created": created, "keyid": key.key_id}
    if include_alg:
        params["alg"] = key.algorithm
    if expires is not None:
        params["expires"] = expires
    entry = SignatureEntry(label, tuple((c, {}) for c in components), params, b"")
    base = signature_base(entry, method, url, normalise_headers(headers))
    signature = base64.b64encode(sign_bytes(key.private_key, base.encode("utf-8"))).decode()
    return f"{label}={entry.signature_params()}", f"{label}=:{signature}:"


def verify(method: str, url: str, headers: Mapping[str, str], body: bytes | None,
           public_key: PublicKeyType, *, now: float | None = None,
           window: int = DEFAULT_WINDOW) -> SignatureEntry:
    """Verify with a known key; the first label that passes wins. Raises the first error."""
    normalised = normalise_headers(headers)
    errors: list[SignatureError] = []
    for entry in parse_signatures(normalised):
        try:
            check_entry(entry, method, url, normalised, body, now=now, window=window)
            if entry_verifies(entry, method, url, normalised, public_key):
                return entry
            raise SignatureError(f"signature {entry.label} does not verify")
        except SignatureError as exc:
            errors.append(exc)
    raise errors[0]
