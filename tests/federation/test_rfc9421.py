"""RFC 9421: structured-field parsing, the RFC's own vectors, round trips and mutations."""

from __future__ import annotations

import base64

import pytest

from federation import rfc9421
from federation.cavage import normalise_headers
from federation.digest import content_digest_header, digest_header
from federation.errors import DigestError, SignatureError
from federation.keys import (
    SigningKey,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    load_public_key_pem,
)

# RFC 9421 Appendix B.1.1 (test-key-rsa), B.1.2 (test-key-rsa-pss), B.1.4 (test-key-ed25519).
TEST_KEY_RSA_PRIVATE = """-----BEGIN RSA PRIVATE KEY-----
MIIEqAIBAAKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsP
BRrwWEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsd
JKFqMGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75
jfZgkne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKI
lE0PuKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZ
SFlQPSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQABAoIBAG/JZuSWdoVHbi56
vjgCgkjg3lkO1KrO3nrdm6nrgA9P9qaPjxuKoWaKO1cBQlE1pSWp/cKncYgD5WxE
CpAnRUXG2pG4zdkzCYzAh1i+c34L6oZoHsirK6oNcEnHveydfzJL5934egm6p8DW
+m1RQ70yUt4uRc0YSor+q1LGJvGQHReF0WmJBZHrhz5e63Pq7lE0gIwuBqL8SMaA
yRXtK+JGxZpImTq+NHvEWWCu09SCq0r838ceQI55SvzmTkwqtC+8AT2zFviMZkKR
Qo6SPsrqItxZWRty2izawTF0Bf5S2VAx7O+6t3wBsQ1sLptoSgX3QblELY5asI0J
YFz7LJECgYkAsqeUJmqXE3LP8tYoIjMIAKiTm9o6psPlc8CrLI9CH0UbuaA2JCOM
cCNq8SyYbTqgnWlB9ZfcAm/cFpA8tYci9m5vYK8HNxQr+8FS3Qo8N9RJ8d0U5Csw
DzMYfRghAfUGwmlWj5hp1pQzAuhwbOXFtxKHVsMPhz1IBtF9Y8jvgqgYHLbmyiu1
mwJ5AL0pYF0G7x81prlARURwHo0Yf52kEw1dxpx+JXER7hQRWQki5/NsUEtv+8RT
qn2m6qte5DXLyn83b1qRscSdnCCwKtKWUug5q2ZbwVOCJCtmRwmnP131lWRYfj67
B/xJ1ZA6X3GEf4sNReNAtaucPEelgR2nsN0gKQKBiGoqHWbK1qYvBxX2X3kbPDkv
9C+celgZd2PW7aGYLCHq7nPbmfDV0yHcWjOhXZ8jRMjmANVR/eLQ2EfsRLdW69bn
f3ZD7JS1fwGnO3exGmHO3HZG+6AvberKYVYNHahNFEw5TsAcQWDLRpkGybBcxqZo
81YCqlqidwfeO5YtlO7etx1xLyqa2NsCeG9A86UjG+aeNnXEIDk1PDK+EuiThIUa
/2IxKzJKWl1BKr2d4xAfR0ZnEYuRrbeDQYgTImOlfW6/GuYIxKYgEKCFHFqJATAG
IxHrq1PDOiSwXd2GmVVYyEmhZnbcp8CxaEMQoevxAta0ssMK3w6UsDtvUvYvF22m
qQKBiD5GwESzsFPy3Ga0MvZpn3D6EJQLgsnrtUPZx+z2Ep2x0xc5orneB5fGyF1P
WtP+fG5Q6Dpdz3LRfm+KwBCWFKQjg7uTxcjerhBWEYPmEMKYwTJF5PBG9/ddvHLQ
EQeNC8fHGg4UXU8mhHnSBt3EA10qQJfRDs15M38eG2cYwB1PZpDHScDnDA0=
-----END RSA PRIVATE KEY-----
"""
TEST_KEY_RSA_PUBLIC = """-----BEGIN RSA PUBLIC KEY-----
MIIBCgKCAQEAhAKYdtoeoy8zcAcR874L8cnZxKzAGwd7v36APp7Pv6Q2jdsPBRrw
WEBnez6d0UDKDwGbc6nxfEXAy5mbhgajzrw3MOEt8uA5txSKobBpKDeBLOsdJKFq
MGmXCQvEG7YemcxDTRPxAleIAgYYRjTSd/QBwVW9OwNFhekro3RtlinV0a75jfZg
kne/YiktSvLG34lw2zqXBDTC5NHROUqGTlML4PlNZS5Ri2U4aCNx2rUPRcKIlE0P
uKxI4T+HIaFpv8+rdV6eUgOrB2xeI1dSFFn/nnv5OoZJEIB+VmuKn3DCUcCZSFlQ
PSXSfBDiUGhwOw76WuSSsf1D4b/vLoJ10wIDAQAB
-----END RSA PUBLIC KEY-----
"""
TEST_KEY_RSA_PSS_PUBLIC = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr4tmm3r20Wd/PbqvP1s2
+QEtvpuRaV8Yq40gjUR8y2Rjxa6dpG2GXHbPfvMs8ct+Lh1GH45x28Rw3Ry53mm+
oAXjyQ86OnDkZ5N8lYbggD4O3w6M6pAvLkhk95AndTrifbIFPNU8PPMO7OyrFAHq
gDsznjPFmTOtCEcN2Z1FpWgchwuYLPL+Wokqltd11nqqzi+bJ9cvSKADYdUAAN5W
Utzdpiy6LbTgSxP7ociU4Tn0g5I6aDZJ7A8Lzo0KSyZYoA485mqcO0GVAdVw9lq4
aOT9v6d+nb4bnNkQVklLQ3fVAvJm+xdDOp9LCNCN48V2pnDOkFV6+U9nV5oyc6XI
2wIDAQAB
-----END PUBLIC KEY-----
"""
TEST_KEY_ED25519_PRIVATE = """-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF
-----END PRIVATE KEY-----
"""
TEST_KEY_ED25519_PUBLIC = """-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=
-----END PUBLIC KEY-----
"""
# RFC 9421 §2.5 / Appendix B: the test request.
RFC_URL = "https://example.com/foo?param=Value&Pet=dog"
RFC_BODY = b'{"hello": "world"}'
RFC_HEADERS = {
    "Host": "example.com",
    "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
    "Content-Type": "application/json",
    "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7B"
                      "NNyealdVLvRwEmTHWXvJwew==:",
    "Content-Length": "18",
}
B26_INPUT = ('sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length")'
             ';created=1618884473;keyid="test-key-ed25519"')
B26_SIGNATURE = ("sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w"
                 "6vuQv5lIp5WPpBKRCw==:")
B26_BASE = """"date": Tue, 20 Apr 2021 02:07:55 GMT
"@method": POST
"@path": /foo
"@authority": example.com
"content-type": application/json
"content-length": 18
"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length")\
;created=1618884473;keyid="test-key-ed25519\""""
# §4.3: a proxy's rsa-v1_5-sha256 signature (PKCS#1 v1.5 is deterministic).
PROXY_INPUT = ('proxy_sig=("@method" "@authority" "@path" "content-digest" "content-type" '
               '"content-length" "forwarded");created=1618884480;keyid="test-key-rsa"'
               ';alg="rsa-v1_5-sha256";expires=1618884540')
PROXY_SIGNATURE = (
    "proxy_sig=:S6ZzPXSdAMOPjN/6KXfXWNO/f7V6cHm7BXYUh3YD/fRad4BCaRZxP+JH+8XY1I6+8Cy+CM5g92iHgxtRPz"
    "+MjniOaYmdkDcnL9cCpXJleXsOckpURl49GwiyUpZ10KHgOEe11sx3G2gxI8S0jnxQB+Pu68U9vVcasqOWAEObtNKKZ"
    "d8tSFu7LB5YAv0RAGhB8tmpv7sFnIm9y+7X5kXQfi8NMaZaA8i2ZHwpBdg7a6CMfwnnrtflzvZdXAsD3LH2TwevU+/"
    "PBPv0B6NMNk93wUs/vfJvye+YuI87HU38lZHowtznbLVdp770I6VHR6WfgS9ddzirrswsE1w5o0LV/g==:"
)
PROXY_URL = "https://origin.host.internal.example/foo?param=Value&Pet=dog"
PROXY_HEADERS = dict(RFC_HEADERS, Host="origin.host.internal.example",
                     Forwarded="for=192.0.2.123;host=example.com;proto=https")
# B.2.1: rsa-pss-sha512 over no components (PSS is randomised: verify only).
B21_INPUT = ('sig-b21=();created=1618884473;keyid="test-key-rsa-pss"'
             ';nonce="b3k2pp5k7z-50gnwp.yemd"')
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wg"
    "GxbtRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgF"
    "Whzx2VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPn"
    "P5TmcAnLH1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)

URL = "https://hub.example.org/inbox"
BODY = b'{"type":"Create"}'
NOW = 1_790_000_000


@pytest.fixture(scope="module")
def rsa_key() -> SigningKey:
    return SigningKey("https://social.example/users/ana#main-key", generate_rsa_key())


@pytest.fixture(scope="module")
def ed_key() -> SigningKey:
    return SigningKey("https://social.example/users/ana#key-2", generate_ed25519_key())


# --- RFC 8941 parsing -----------------------------------------------------------------

def test_parse_dictionary_values() -> None:
    parsed = rfc9421.parse_dictionary(
        'a=1, b=-2.5;x, c="q\\"s", d=tok/en:1, e=:AQID:, f=?0, g, h=("x" "y");p="v";n=3, i=()')
    assert parsed["a"] == (1, {})
    assert parsed["b"] == (-2.5, {"x": True})
    assert parsed["c"] == ('q"s', {})
    assert parsed["d"] == ("tok/en:1", {}) and isinstance(parsed["d"][0], rfc9421.Token)
    assert parsed["e"] == (b"\x01\x02\x03", {})
    assert parsed["f"] == (False, {})
    assert parsed["g"] == (True, {})
    assert parsed["h"] == ([("x", {}), ("y", {})], {"p": "v", "n": 3})
    assert parsed["i"] == ([], {})


@pytest.mark.parametrize("text", [
    "A=1",                    # keys are lowercase
    "a=1,",                   # trailing comma
    "a=1 b=2",                # missing comma
    'a="unterminated',
    'a="bad \\x escape"',
    "a=(1 2",                 # unterminated inner list
    'a=("x""y")',             # items need a space
    "a=:not base64!:",
    "a=?2",
    "a=1234567890123456",     # integers have at most 15 digits
    "a=é",
])
def test_parse_dictionary_refuses(text: str) -> None:
    with pytest.raises(SignatureError):
        rfc9421.parse_dictionary(text)


def test_signature_params_serialisation_round_trips() -> None:
    headers = normalise_headers({"Signature-Input": PROXY_INPUT, "Signature": PROXY_SIGNATURE})
    (entry,) = rfc9421.parse_signatures(headers)
    assert f"{entry.label}={entry.signature_params()}" == PROXY_INPUT


# --- the RFC's vectors ----------------------------------------------------------------

def test_b26_ed25519_base_and_signature() -> None:
    key = SigningKey("test-key-ed25519", load_private_key_pem(TEST_KEY_ED25519_PRIVATE))
    components = ["date", "@method", "@path", "@authority", "content-type", "content-length"]
    signature_input, signature = rfc9421.sign(
        "POST", RFC_URL, RFC_HEADERS, key, components, created=1618884473, label="sig-b26",
        include_alg=False)
    assert (signature_input, signature) == (B26_INPUT, B26_SIGNATURE)
    headers = normalise_headers(dict(RFC_HEADERS, **{"Signature-Input": B26_INPUT,
                                                     "Signature": B26_SIGNATURE}))
    (entry,) = rfc9421.parse_signatures(headers)
    assert rfc9421.signature_base(entry, "POST", RFC_URL, headers) == B26_BASE
    public = load_public_key_pem(TEST_KEY_ED25519_PUBLIC)
    assert rfc9421.entry_verifies(entry, "POST", RFC_URL, headers, public)
    assert not rfc9421.entry_verifies(entry, "GET", RFC_URL, headers, public)


def test_b26_is_refused_by_inbox_policy() -> None:
    # Cryptographically valid, but it does not cover the body's Content-Digest.
    headers = dict(RFC_HEADERS, **{"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE})
    with pytest.raises(SignatureError, match=r"must be covered|must cover"):
        rfc9421.verify("POST", RFC_URL, headers, RFC_BODY,
                       load_public_key_pem(TEST_KEY_ED25519_PUBLIC), now=1618884473)


def test_proxy_rsa_v1_5_vector_signs_and_verifies() -> None:
    key = SigningKey("test-key-rsa", load_private_key_pem(TEST_KEY_RSA_PRIVATE))
    components = ["@method", "@authority", "@path", "content-digest", "content-type",
                  "content-length", "forwarded"]
    signed = rfc9421.sign("POST", PROXY_URL, PROXY_HEADERS, key, components,
                          created=1618884480, expires=1618884540, label="proxy_sig")
    assert signed == (PROXY_INPUT, PROXY_SIGNATURE)
    headers = dict(PROXY_HEADERS, **{"Signature-Input": PROXY_INPUT,
                                     "Signature": PROXY_SIGNATURE})
    public = load_public_key_pem(TEST_KEY_RSA_PUBLIC)
    # The vector leaves the query uncovered, which our inbox policy refuses...
    with pytest.raises(SignatureError, match="query"):
        rfc9421.verify("POST", PROXY_URL, headers, RFC_BODY, public, now=1618884500)
    # ...so verify it against the same request without a query (@path is unchanged).
    url = PROXY_URL.split("?")[0]
    entry = rfc9421.verify("POST", url, headers, RFC_BODY, public, now=1618884500)
    assert entry.key_id == "test-key-rsa"
    with pytest.raises(SignatureError, match="expired"):
        rfc9421.verify("POST", url, headers, RFC_BODY, public, now=1618884541)


def test_b21_rsa_pss_vector_verifies() -> None:
    headers = normalise_headers(dict(RFC_HEADERS, **{"Signature-Input": B21_INPUT,
                                                     "Signature": B21_SIGNATURE}))
    (entry,) = rfc9421.parse_signatures(headers)
    public = load_public_key_pem(TEST_KEY_RSA_PSS_PUBLIC)
    assert rfc9421.entry_verifies(entry, "POST", RFC_URL, headers, public)  # alg inferred


# --- round trips ----------------------------------------------------------------------

def signed(key: SigningKey, method: str = "POST", url: str = URL, body: bytes | None = BODY,
           components: list[str] | None = None, created: int = NOW,
           **extra: object) -> dict[str, str]:
    headers = {"Host": "hub.example.org", "Content-Type": "application/activity+json"}
    if body is not None:
        headers["Content-Digest"] = content_digest_header(body)
    if components is None:
        components = ["@method", "@target-uri"] + (["content-digest"] if body is not None else [])
    signature_input, signature = rfc9421.sign(method, url, headers, key, components,
                                              created=created, **extra)  # type: ignore[arg-type]
    return dict(headers, **{"Signature-Input": signature_input, "Signature": signature})


@pytest.mark.parametrize("which", ["rsa_key", "ed_key"])
@pytest.mark.parametrize("method, body", [("POST", BODY), ("GET", None)])
def test_round_trip(request: pytest.FixtureRequest, which: str, method: str,
                    body: bytes | None) -> None:
    key: SigningKey = request.getfixturevalue(which)
    headers = signed(key, method, body=body)
    assert f'alg="{key.algorithm}"' in headers["Signature-Input"]
    rfc9421.verify(method, URL, headers, body, key.private_key.public_key(), now=NOW)


def test_alg_may_be_absent(ed_key: SigningKey) -> None:
    headers = signed(ed_key, include_alg=False)
    rfc9421.verify("POST", URL, headers, BODY, ed_key.private_key.public_key(), now=NOW)


def test_authority_and_path_instead_of_target_uri(rsa_key: SigningKey) -> None:
    components = ["@method", "@authority", "@path", "@query", "content-digest"]
    url = f"{URL}?a=1"
    headers = signed(rsa_key, url=url, components=components)
    rfc9421.verify("POST", url, headers, BODY, rsa_key.private_key.public_key(), now=NOW)
    headers = signed(rsa_key, url=url, components=["@method", "@authority", "@path",
                                                   "content-digest"])
    with pytest.raises(SignatureError, match="query"):
        rfc9421.verify("POST", url, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_legacy_digest_is_accepted(rsa_key: SigningKey) -> None:
    headers = {"Digest": digest_header(BODY)}
    signature_input, signature = rfc9421.sign("POST", URL, headers, rsa_key,
                                              ["@method", "@target-uri", "digest"], created=NOW)
    headers.update({"Signature-Input": signature_input, "Signature": signature})
    rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_first_verifying_label_wins(rsa_key: SigningKey) -> None:
    good = signed(rsa_key, label="good")
    bad = signed(SigningKey(rsa_key.key_id, generate_rsa_key()), label="bad")
    headers = dict(good, **{
        "Signature-Input": f"{bad['Signature-Input']}, {good['Signature-Input']}",
        "Signature": f"{bad['Signature']}, {good['Signature']}",
    })
    entry = rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)
    assert entry.label == "good"


def test_default_port_is_dropped_from_target_uri(rsa_key: SigningKey) -> None:
    headers = signed(rsa_key, url="https://HUB.example.org:443/inbox")
    rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)
    assert rfc9421.split_target("http://[::1]:8080/x")[1] == "[::1]:8080"


# --- one-field mutations --------------------------------------------------------------

@pytest.mark.parametrize("method, url", [
    ("PUT", URL),                                      # method
    ("POST", "https://hub.example.org/inbox2"),        # path
    ("POST", f"{URL}?x=1"),                            # query
    ("POST", "https://other.example/inbox"),           # host
    ("POST", "http://hub.example.org/inbox"),          # scheme
])
def test_request_line_mutations_fail(rsa_key: SigningKey, method: str, url: str) -> None:
    headers = signed(rsa_key)
    with pytest.raises(SignatureError, match="does not verify"):
        rfc9421.verify(method, url, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_body_mutation_fails(rsa_key: SigningKey) -> None:
    with pytest.raises(DigestError):
        rfc9421.verify("POST", URL, signed(rsa_key), BODY + b" ",
                       rsa_key.private_key.public_key(), now=NOW)


def test_covered_header_mutation_fails(rsa_key: SigningKey) -> None:
    components = ["@method", "@target-uri", "content-digest", "content-type"]
    headers = signed(rsa_key, components=components)
    headers["Content-Type"] = "text/html"
    with pytest.raises(SignatureError, match="does not verify"):
        rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)
    del headers["Content-Type"]
    with pytest.raises(SignatureError, match="missing"):
        rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


def test_other_key_fails(rsa_key: SigningKey) -> None:
    with pytest.raises(SignatureError, match="does not verify"):
        rfc9421.verify("POST", URL, signed(rsa_key), BODY, generate_rsa_key().public_key(),
                       now=NOW)


@pytest.mark.parametrize("old, new", [
    ('alg="rsa-v1_5-sha256"', 'alg="ed25519"'),
    ('alg="rsa-v1_5-sha256"', 'alg="rsa-pss-sha512"'),
    ('alg="rsa-v1_5-sha256"', 'alg="hmac-sha256"'),
    ('alg="rsa-v1_5-sha256"', 'alg="rsa-v1_5-sha512"'),
])
def test_algorithm_mutation_fails(rsa_key: SigningKey, old: str, new: str) -> None:
    headers = signed(rsa_key)
    headers["Signature-Input"] = headers["Signature-Input"].replace(old, new)
    with pytest.raises(SignatureError):
        rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


@pytest.mark.parametrize("components, error", [
    (["@target-uri", "content-digest"], "@method"),
    (["@method", "content-digest"], "@target-uri"),
    (["@method", "@path", "content-digest"], "@target-uri"),
    (["@method", "@target-uri"], "content-digest"),
])
def test_missing_required_component_fails(rsa_key: SigningKey, components: list[str],
                                          error: str) -> None:
    headers = signed(rsa_key, components=components)
    with pytest.raises(SignatureError, match=error):
        rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)


@pytest.mark.parametrize("created, now, error", [
    (NOW, NOW + 3901, "too old"),        # replayed old signature
    (NOW, NOW + 7200, "too old"),
    (NOW + 7200, NOW, "future"),
])
def test_time_window(rsa_key: SigningKey, created: int, now: int, error: str) -> None:
    headers = signed(rsa_key, created=created)
    with pytest.raises(SignatureError, match=error):
        rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=now)


def test_expired_signature_fails(rsa_key: SigningKey) -> None:
    headers = signed(rsa_key, expires=NOW + 60)
    rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW + 60)
    with pytest.raises(SignatureError, match="expired"):
        rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(),
                       now=NOW + 61)


@pytest.mark.parametrize("signature_input", [
    'sig1=("@method" "@target-uri" "content-digest");keyid="k"',             # no created
    'sig1=("@method" "@target-uri" "content-digest");created=1790000000',    # no keyid
    'sig1=("@method" "@method" "@target-uri" "content-digest");created=1790000000;keyid="k"',
    'sig1=("@method" "@target-uri" "content-digest" "@status");created=1790000000;keyid="k"',
    'sig1=("@method" "@target-uri";sf "content-digest");created=1790000000;keyid="k"',
    'sig1=("@method" "@target-uri" "Content-Digest");created=1790000000;keyid="k"',
    'sig1=(@method);created=1790000000;keyid="k"',
    'other=("@method" "@target-uri" "content-digest");created=1790000000;keyid="k"',
    "sig1=:AAAA:",
])
def test_malformed_inputs_fail(rsa_key: SigningKey, signature_input: str) -> None:
    headers = signed(rsa_key)
    headers["Signature-Input"] = signature_input
    headers["Signature"] = "sig1=:" + base64.b64encode(b"x" * 256).decode() + ":"
    with pytest.raises(SignatureError):
        rfc9421.verify("POST", URL, headers, BODY, rsa_key.private_key.public_key(), now=NOW)
