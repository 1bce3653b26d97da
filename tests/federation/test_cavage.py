"""draft-cavage signatures: parsing, a known vector, round trips and one-field mutations."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from federation import cavage
from federation.digest import digest_header
from federation.errors import DigestError, SignatureError
from federation.keys import SigningKey, generate_ed25519_key, generate_rsa_key, load_private_key_pem
from tests.federation.test_rfc9421 import TEST_KEY_RSA_PRIVATE

URL = "https://hub.example.org/inbox"
BODY = b'{"hello": "world"}'
NOW = 1618884475  # Tue, 20 Apr 2021 02:07:55 GMT
DATE = "Tue, 20 Apr 2021 02:07:55 GMT"
POST_NAMES = ["(request-target)", "host", "date", "digest", "content-type"]
# Signed with OpenSSL (`openssl dgst -sha256 -sign`) using RFC 9421's test-key-rsa over
# the signing string below, so the vector does not come from our own signer.
VECTOR_STRING = (
    "(request-target): post /inbox\nhost: hub.example.org\ndate: Tue, 20 Apr 2021 02:07:55 GMT\n"
    "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\n"
    "content-type: application/activity+json"
)
VECTOR_SIGNATURE = (
    "XWtshf+0zKMFtTHKlLKD50sNRTlTsRnXxvQmZevRwQIrcw1epcA3WKzmq4g2j8c4lr+XNtF4Y3bbpot7bK/FrnDY1Bk6"
    "4L1d4wo1/w0Cjtovgy8bz5AAoiFCOc/C97D4Vh6TbDM7AUT1UcBwshVStfKFDI60sSc6edB4Ktu22qmCJhlsrI9JGGi"
    "fN6S3Y6kHqEjCUEK5KeNDT4GUqzqRFDZQdDJ7MNWnsG6c3T83tssyRog3fuZWDX0bvO0rwIMlIMyiuy6+5JnW2rOxFU"
    "8gV//3hEUPIq2fNK1+O07Nv1iRxwrFawY3eSDs0fewcOgU4OAq7ZkV2j8bKs27+IQqfw=="
)


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return SigningKey("https://social.example/users/ana#main-key", generate_rsa_key())


@pytest.fixture(scope="module")
def ed_key() -> SigningKey:
    return SigningKey("https://social.example/users/ana#ed", generate_ed25519_key())


def base_headers(body: bytes = BODY, date: str = DATE) -> dict[str, str]:
    return {"Host": "hub.example.org", "Date": date, "Digest": digest_header(body),
            "Content-Type": "application/activity+json"}


def signed_post(key: SigningKey, names: list[str] = POST_NAMES, url: str = URL,
                **sign_args: object) -> dict[str, str]:
    headers = base_headers()
    target = url.split("hub.example.org", 1)[1]
    headers["Signature"] = cavage.sign("POST", target, headers, names, key, **sign_args)
    return headers


# --- parsing --------------------------------------------------------------------------

def test_parse_typical_header() -> None:
    value = ('keyId="https://a.example/u#main-key",algorithm="rsa-sha256",'
             'headers="(request-target) host date",signature="YWJj+/=="')
    assert cavage.parse_signature_header(value) == {
        "keyId": "https://a.example/u#main-key", "algorithm": "rsa-sha256",
        "headers": "(request-target) host date", "signature": "YWJj+/==",
    }


def test_parse_is_robust() -> None:
    value = (' keyId = "https://a.example/u?a=1,b=2#k" ,  created=1618884475,'
             'extra="say \\"hi\\", ok", signature="c2ln=" ,')
    assert cavage.parse_signature_header(value) == {
        "keyId": "https://a.example/u?a=1,b=2#k", "created": "1618884475",
        "extra": 'say "hi", ok', "signature": "c2ln=",
    }


@pytest.mark.parametrize("value", [
    'keyId="a",keyId="b",signature="x"',      # repeated parameter
    'keyId="a" signature="x"',                # missing comma
    'keyId="a,signature="x"',                 # unterminated quote
    'keyId=,signature="x"',                   # empty bare value
    'keyId',                                  # no value at all
    '="a"',                                   # no name
])
def test_parse_refuses_malformed(value: str) -> None:
    with pytest.raises(SignatureError):
        cavage.parse_signature_header(value)


# --- known vector ---------------------------------------------------------------------

def test_signing_string_vector() -> None:
    headers = base_headers()
    assert cavage.signing_string("POST", "/inbox", headers, POST_NAMES) == VECTOR_STRING


def test_signing_string_pseudo_headers_and_repeated_values() -> None:
    headers = {"Accept": "a/b, c/d", "X-Multi": " one ,  two "}
    text = cavage.signing_string("GET", "/x?y=1", headers,
                                 ["(request-target)", "(created)", "(expires)", "accept"],
                                 created=1, expires=2)
    assert text == "(request-target): get /x?y=1\n(created): 1\n(expires): 2\naccept: a/b, c/d"
    with pytest.raises(SignatureError):
        cavage.signing_string("GET", "/", {}, ["date"])
    with pytest.raises(SignatureError):
        cavage.signing_string("GET", "/", {}, ["(created)"])


def test_openssl_vector_signs_and_verifies() -> None:
    key = SigningKey("test-key-rsa", load_private_key_pem(TEST_KEY_RSA_PRIVATE))
    headers = base_headers()
    value = cavage.sign("POST", "/inbox", headers, POST_NAMES, key)
    assert value == ('keyId="test-key-rsa",algorithm="rsa-sha256",headers="(request-target) '
                     f'host date digest content-type",signature="{VECTOR_SIGNATURE}"')
    headers["Signature"] = value
    params = cavage.verify("POST", URL, headers, BODY, key.private_key.public_key(), now=NOW)
    assert params["keyId"] == "test-key-rsa"


# --- round trips ----------------------------------------------------------------------

@pytest.mark.parametrize("which", ["rsa_key", "ed_key"])
def test_round_trip(request: pytest.FixtureRequest, which: str) -> None:
    key: SigningKey = request.getfixturevalue(which)
    headers = signed_post(key)
    expected = "hs2019" if which == "ed_key" else "rsa-sha256"
    assert f'algorithm="{expected}"' in headers["Signature"]
    cavage.verify("POST", URL, headers, BODY, key.private_key.public_key(), now=NOW)


def test_authorization_header_and_multidict_style_headers(rsa_key: SigningKey) -> None:
    headers = signed_post(rsa_key)
    pairs = [(name.lower(), value) for name, value in headers.items() if name != "Signature"]
    pairs.append(("Authorization", f"Signature {headers['Signature']}"))
    normalised = cavage.normalise_headers(pairs)
    cavage.verify("POST", URL, normalised, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_get_with_query_and_legacy_path_only_target(rsa_key: SigningKey) -> None:
    names = ["(request-target)", "host", "date"]
    headers = {"Host": "hub.example.org", "Date": DATE}
    for target in ("/actors/a?page=2", "/actors/a"):  # newer and older Mastodon
        signed = dict(headers, Signature=cavage.sign("GET", target, headers, names, rsa_key))
        cavage.verify("GET", "https://hub.example.org/actors/a?page=2", signed, None,
                      rsa_key.private_key.public_key(), now=NOW)


def test_hs2019_with_created_and_expires(ed_key: SigningKey) -> None:
    names = ["(request-target)", "(created)", "(expires)", "host", "digest"]
    headers = signed_post(ed_key, names, created=NOW - 10, expires=NOW + 300)
    cavage.verify("POST", URL, headers, BODY, ed_key.private_key.public_key(), now=NOW)


def test_mastodon_time_window(rsa_key: SigningKey) -> None:
    headers, public = signed_post(rsa_key), rsa_key.private_key.public_key()
    cavage.verify("POST", URL, headers, BODY, public, now=NOW + 3900)      # 1 h 05 min old
    cavage.verify("POST", URL, headers, BODY, public, now=NOW - 3600)      # 1 h early
    with pytest.raises(SignatureError, match="too old"):
        cavage.verify("POST", URL, headers, BODY, public, now=NOW + 3901)
    with pytest.raises(SignatureError, match="future"):
        cavage.verify("POST", URL, headers, BODY, public, now=NOW - 3601)
    with pytest.raises(SignatureError, match="too old"):
        cavage.verify("POST", URL, headers, BODY, public, now=NOW + 301, window=300)


# --- one-field mutations --------------------------------------------------------------

def _set(name: str, value: str) -> Callable[[dict[str, str]], None]:
    return lambda headers: headers.__setitem__(name, value)


MUTATIONS: dict[str, tuple[str, str, str, bytes, Callable[[dict[str, str]], None]]] = {
    # name: (method, url, expected error, body, header change)
    "method": ("PUT", URL, "does not verify", BODY, lambda h: None),
    "path": ("POST", "https://hub.example.org/inbox2", "does not verify", BODY, lambda h: None),
    "host": ("POST", URL, "does not verify", BODY, _set("Host", "other.example")),
    "date": ("POST", URL, "does not verify", BODY, _set("Date", "Tue, 20 Apr 2021 02:07:56 GMT")),
    "signed header value": ("POST", URL, "does not verify", BODY,
                            _set("Content-Type", "application/json")),
    "body": ("POST", URL, "digest", BODY + b" ", lambda h: None),
    "digest and body": ("POST", URL, "does not verify", b"{}",
                        _set("Digest", digest_header(b"{}"))),
}


@pytest.mark.parametrize("case", list(MUTATIONS))
def test_mutation_fails(rsa_key: SigningKey, case: str) -> None:
    method, url, error, body, change = MUTATIONS[case]
    headers = signed_post(rsa_key)
    change(headers)
    expected = DigestError if error == "digest" else SignatureError
    with pytest.raises(expected, match=error):
        cavage.verify(method, url, headers, body, rsa_key.private_key.public_key(), now=NOW)


def test_query_mutation_fails(rsa_key: SigningKey) -> None:
    headers = signed_post(rsa_key, url=f"{URL}?x=1")
    public = rsa_key.private_key.public_key()
    cavage.verify("POST", f"{URL}?x=1", headers, BODY, public, now=NOW)
    with pytest.raises(SignatureError, match="does not verify"):
        cavage.verify("POST", f"{URL}?x=2", headers, BODY, public, now=NOW)


def test_other_key_fails(rsa_key: SigningKey) -> None:
    other = generate_rsa_key().public_key()
    with pytest.raises(SignatureError, match="does not verify"):
        cavage.verify("POST", URL, signed_post(rsa_key), BODY, other, now=NOW)


@pytest.mark.parametrize("algorithm", ["rsa-sha512", "hmac-sha256", "ecdsa-sha256", "RSA-SHA1"])
def test_unsupported_algorithm_fails(rsa_key: SigningKey, algorithm: str) -> None:
    headers = signed_post(rsa_key, algorithm=algorithm)
    with pytest.raises(SignatureError, match="unsupported"):
        cavage.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_algorithm_must_fit_the_key(ed_key: SigningKey, rsa_key: SigningKey) -> None:
    ed_public = ed_key.private_key.public_key()
    assert isinstance(ed_public, ed25519.Ed25519PublicKey)
    headers = signed_post(ed_key, algorithm="rsa-sha256")
    with pytest.raises(SignatureError, match="does not verify"):
        cavage.verify("POST", URL, headers, BODY, ed_public, now=NOW)
    rsa_public = rsa_key.private_key.public_key()
    assert isinstance(rsa_public, rsa.RSAPublicKey)
    headers = signed_post(rsa_key, algorithm="ed25519")
    with pytest.raises(SignatureError, match="does not verify"):
        cavage.verify("POST", URL, headers, BODY, rsa_public, now=NOW)


@pytest.mark.parametrize("dropped", ["(request-target)", "host", "date", "digest"])
def test_dropping_a_required_header_fails(rsa_key: SigningKey, dropped: str) -> None:
    headers = signed_post(rsa_key, [n for n in POST_NAMES if n != dropped])
    with pytest.raises(SignatureError, match="must"):
        cavage.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_absent_headers_parameter_fails(rsa_key: SigningKey) -> None:
    headers = signed_post(rsa_key, ["date"])
    headers["Signature"] = headers["Signature"].replace(',headers="date"', "")
    with pytest.raises(SignatureError, match="must be signed"):
        cavage.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_created_is_refused_with_rsa_sha256(rsa_key: SigningKey) -> None:
    names = ["(request-target)", "(created)", "host", "digest"]
    headers = signed_post(rsa_key, names, created=NOW)
    with pytest.raises(SignatureError, match="not allowed"):
        cavage.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_expired_signature_fails(ed_key: SigningKey) -> None:
    names = ["(request-target)", "(created)", "(expires)", "host", "digest"]
    headers = signed_post(ed_key, names, created=NOW - 120, expires=NOW - 60)
    with pytest.raises(SignatureError, match="expired"):
        cavage.verify("POST", URL, headers, BODY, ed_key.private_key.public_key(), now=NOW)


def test_future_date_fails(rsa_key: SigningKey) -> None:
    headers = base_headers(date="Tue, 20 Apr 2021 04:07:55 GMT")  # two hours ahead
    headers["Signature"] = cavage.sign("POST", "/inbox", headers, POST_NAMES, rsa_key)
    with pytest.raises(SignatureError, match="future"):
        cavage.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_replayed_old_signature_fails(rsa_key: SigningKey) -> None:
    headers = signed_post(rsa_key)
    with pytest.raises(SignatureError, match="too old"):
        cavage.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(),
                      now=NOW + 7200)


@pytest.mark.parametrize("change", [
    {"Date": "yesterday"},
    {"Signature": 'keyId="k",headers="(request-target) host date digest"'},
    {"Signature": 'keyId="k",headers="(request-target) host date digest",signature="***"'},
])
def test_malformed_values_fail(rsa_key: SigningKey, change: dict[str, str]) -> None:
    headers = signed_post(rsa_key)
    headers.update(change)
    with pytest.raises(SignatureError):
        cavage.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_missing_signature_fails(rsa_key: SigningKey) -> None:
    with pytest.raises(SignatureError, match="no signature"):
        cavage.verify("POST", URL, base_headers(), BODY, rsa_key.private_key.public_key(),
                      now=NOW)
