"""The façade: scheme choice, key lookup with one refresh, and what sign_request sends."""

from __future__ import annotations

import time

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from federation import cavage, signatures
from federation.errors import DigestError, KeyNotFound, SignatureError
from federation.keys import PublicKey, SigningKey, generate_ed25519_key, generate_rsa_key
from federation.signatures import Verified, sign_request, verify_request

OWNER = "https://social.example/users/ana"
KEY_ID = f"{OWNER}#main-key"
URL = "https://hub.example.org/inbox"
BODY = b'{"type":"Follow"}'
NOW = 1_790_000_000.0
HEADERS = {"Content-Type": "application/activity+json"}


class Lookup:
    """A KeyLookup that serves `keys` in turn (the last one again once exhausted)."""

    def __init__(self, *keys: PublicKey) -> None:
        self.keys, self.calls = list(keys), []

    async def __call__(self, key_id: str, *, refresh: bool = False) -> PublicKey:
        self.calls.append((key_id, refresh))
        if not self.keys:
            raise KeyNotFound(f"no key {key_id}")
        return self.keys.pop(0) if len(self.keys) > 1 else self.keys[0]


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return SigningKey(KEY_ID, generate_rsa_key())


@pytest.fixture(scope="module")
def ed_key() -> SigningKey:
    return SigningKey(KEY_ID, generate_ed25519_key())


def public(key: SigningKey, key_id: str = KEY_ID) -> PublicKey:
    return PublicKey(key_id=key_id, owner=OWNER, public_key=key.private_key.public_key())


@pytest.mark.parametrize("which", ["rsa_key", "ed_key"])
@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
@pytest.mark.parametrize("method, body", [("POST", BODY), ("GET", None)])
async def test_round_trip(request: pytest.FixtureRequest, which: str, scheme: str, method: str,
                          body: bytes | None) -> None:
    key: SigningKey = request.getfixturevalue(which)
    headers = sign_request(method, URL, HEADERS, body, key, scheme=scheme, now=NOW)
    verified = await verify_request(method, URL, headers, body, Lookup(public(key)), now=NOW)
    assert verified == Verified(key_id=KEY_ID, owner=OWNER, scheme=scheme)


async def test_multidict_headers_in_any_case(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", URL, HEADERS, BODY, rsa_key, now=NOW)
    received = CIMultiDictProxy(CIMultiDict((name.upper(), value)
                                            for name, value in headers.items()))
    verified = await verify_request("POST", URL, received, BODY, Lookup(public(rsa_key)),
                                    now=NOW)
    assert verified.scheme == "draft-cavage"


async def test_authorization_signature(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", URL, HEADERS, BODY, rsa_key, now=NOW)
    headers["Authorization"] = "Signature " + headers.pop("Signature")
    verified = await verify_request("POST", URL, headers, BODY, Lookup(public(rsa_key)), now=NOW)
    assert verified.scheme == "draft-cavage"


async def test_signature_input_selects_rfc9421(rsa_key: SigningKey) -> None:
    # A draft-cavage Signature beside a Signature-Input is read as RFC 9421 (and fails).
    headers = sign_request("POST", URL, HEADERS, BODY, rsa_key, now=NOW)
    headers["Signature-Input"] = 'sig1=("@method");created=1;keyid="k"'
    with pytest.raises(SignatureError):
        await verify_request("POST", URL, headers, BODY, Lookup(public(rsa_key)), now=NOW)


async def test_unsigned_request_fails() -> None:
    with pytest.raises(SignatureError, match="no signature"):
        await verify_request("POST", URL, HEADERS, BODY, Lookup(), now=NOW)
    with pytest.raises(SignatureError, match="no signature"):
        await verify_request("POST", URL, {"Authorization": "Bearer x"}, BODY, Lookup(), now=NOW)


@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
async def test_rotated_key_is_refreshed_once(rsa_key: SigningKey, scheme: str) -> None:
    new_key = SigningKey(KEY_ID, generate_rsa_key())
    headers = sign_request("POST", URL, HEADERS, BODY, new_key, scheme=scheme, now=NOW)
    lookup = Lookup(public(rsa_key), public(new_key))  # cache holds the old key
    verified = await verify_request("POST", URL, headers, BODY, lookup, now=NOW)
    assert verified.key_id == KEY_ID
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
async def test_forged_signature_refreshes_once_then_fails(rsa_key: SigningKey,
                                                          scheme: str) -> None:
    forger = SigningKey(KEY_ID, generate_rsa_key())
    headers = sign_request("POST", URL, HEADERS, BODY, forger, scheme=scheme, now=NOW)
    lookup = Lookup(public(rsa_key))
    with pytest.raises(SignatureError, match="does not verify"):
        await verify_request("POST", URL, headers, BODY, lookup, now=NOW)
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True)]


@pytest.mark.parametrize("scheme", ["draft-cavage", "rfc9421"])
async def test_policy_failures_fetch_no_key(rsa_key: SigningKey, scheme: str) -> None:
    headers = sign_request("POST", URL, HEADERS, BODY, rsa_key, scheme=scheme, now=NOW)
    lookup = Lookup(public(rsa_key))
    with pytest.raises(SignatureError, match="too old"):
        await verify_request("POST", URL, headers, BODY, lookup, now=NOW + 7200)
    with pytest.raises(DigestError):
        await verify_request("POST", URL, headers, BODY + b"!", lookup, now=NOW)
    assert lookup.calls == []


async def test_unknown_key_and_mismatched_key_id(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", URL, HEADERS, BODY, rsa_key, now=NOW)
    with pytest.raises(KeyNotFound):
        await verify_request("POST", URL, headers, BODY, Lookup(), now=NOW)
    other = public(rsa_key, key_id=f"{OWNER}#other-key")
    with pytest.raises(KeyNotFound, match="returned"):
        await verify_request("POST", URL, headers, BODY, Lookup(other), now=NOW)


async def test_rfc9421_second_label_may_verify(rsa_key: SigningKey) -> None:
    forged = sign_request("POST", URL, HEADERS, BODY, SigningKey(KEY_ID, generate_rsa_key()),
                          scheme="rfc9421", now=NOW)
    good = sign_request("POST", URL, HEADERS, BODY, rsa_key, scheme="rfc9421", now=NOW)
    headers = dict(good)
    headers["Signature-Input"] = (forged["Signature-Input"].replace("sig1=", "a=") + ", "
                                  + good["Signature-Input"])
    headers["Signature"] = forged["Signature"].replace("sig1=", "a=") + ", " + good["Signature"]
    lookup = Lookup(public(rsa_key))
    verified = await verify_request("POST", URL, headers, BODY, lookup, now=NOW)
    assert verified.scheme == "rfc9421"
    assert lookup.calls == [(KEY_ID, False), (KEY_ID, True), (KEY_ID, False)]


# --- what sign_request sends ----------------------------------------------------------

def test_draft_cavage_post_is_signed_like_mastodon(rsa_key: SigningKey) -> None:
    given = {"content-type": "application/activity+json", "User-Agent": "commonhub",
             "host": "stale.example", "Date": "stale"}
    headers = sign_request("post", "https://peer.example/users/b/inbox", given, BODY, rsa_key,
                           now=NOW)
    assert set(headers) == {"content-type", "User-Agent", "Host", "Date", "Digest", "Signature"}
    assert headers["Host"] == "peer.example"
    assert headers["Date"] == "Mon, 21 Sep 2026 14:13:20 GMT"
    params = cavage.parse_signature_header(headers["Signature"])
    assert params["keyId"] == KEY_ID
    assert params["algorithm"] == "rsa-sha256"
    assert params["headers"] == "(request-target) host date digest content-type"


def test_draft_cavage_get_and_ed25519(ed_key: SigningKey) -> None:
    headers = sign_request("GET", "http://peer.example:8080/users/b?page=1",
                           {"Accept": "application/activity+json"}, None, ed_key, now=NOW)
    assert "Digest" not in headers
    assert headers["Host"] == "peer.example:8080"
    params = cavage.parse_signature_header(headers["Signature"])
    assert params["algorithm"] == "hs2019"
    assert params["headers"] == "(request-target) host date accept"
    without_accept = sign_request("GET", "https://peer.example/x", {}, None, ed_key, now=NOW)
    assert cavage.parse_signature_header(without_accept["Signature"])["headers"] == (
        "(request-target) host date")


def test_rfc9421_headers(rsa_key: SigningKey) -> None:
    headers = sign_request("POST", "https://peer.example:443/inbox", HEADERS, BODY, rsa_key,
                           scheme="rfc9421", now=NOW)
    assert headers["Host"] == "peer.example"
    assert headers["Content-Digest"].startswith("sha-256=:")
    assert headers["Signature-Input"] == (
        f'sig1=("@method" "@target-uri" "content-digest");created=1790000000;'
        f'keyid="{KEY_ID}";alg="rsa-v1_5-sha256"')
    assert headers["Signature"].startswith("sig1=:")
    get = sign_request("GET", URL, {}, None, rsa_key, scheme="rfc9421", now=NOW)
    assert "Content-Digest" not in get
    assert get["Signature-Input"].startswith('sig1=("@method" "@target-uri");')


def test_unknown_scheme_is_a_programming_error(rsa_key: SigningKey) -> None:
    with pytest.raises(ValueError):
        sign_request("GET", URL, {}, None, rsa_key, scheme="cavage")


def test_sign_request_adds_little_to_the_signature(rsa_key: SigningKey,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the RSA operation, sign_request must be cheap: no key or JSON work per call.

    RSA-2048 signing costs ~300 µs here; the rest should stay well under a tenth of it.
    The bound is loose so that only a real regression (re-loading keys, say) trips it.
    """
    monkeypatch.setattr(signatures, "sign_bytes", lambda key, data: b"\0" * 256)
    start, calls = time.perf_counter(), 2000
    for _ in range(calls):
        sign_request("POST", URL, HEADERS, BODY, rsa_key)
    assert (time.perf_counter() - start) / calls < 100e-6
