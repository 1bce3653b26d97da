"""Object Integrity Proofs (eddsa-jcs-2022) and JCS: known vectors, round trips, tampering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.errors import SignatureError, ValidationError
from federation.integrity import add_proof, verification_method, verify_proof
from federation.jcs import canonicalize, number
from federation.keys import b58decode, find_key, generate_ed25519_key

DATA = Path(__file__).parent.parent / "data"
VECTORS = DATA / "integrity"


def _vector_keys() -> tuple[ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey]:
    pair = json.loads((VECTORS / "vc-di-eddsa-keyPair.json").read_text())
    secret = b58decode(pair["privateKeyMultibase"][1:])
    assert secret[:2] == b"\x80\x26"  # multicodec ed25519-priv (0x1300)
    private = ed25519.Ed25519PrivateKey.from_private_bytes(secret[2:])
    public = b58decode(pair["publicKeyMultibase"][1:])
    assert public[:2] == b"\xed\x01"
    return private, ed25519.Ed25519PublicKey.from_public_bytes(public[2:])


def test_jcs_matches_the_w3c_canonical_document() -> None:
    signed = json.loads((VECTORS / "vc-di-eddsa-signedJCS.json").read_text())
    document = {k: v for k, v in signed.items() if k != "proof"}
    proof = {k: v for k, v in signed["proof"].items() if k != "proofValue"}
    assert canonicalize(document) == (VECTORS / "vc-di-eddsa-canonDocJCS.txt").read_bytes()
    assert canonicalize(proof) == (VECTORS / "vc-di-eddsa-proofCanonJCS.txt").read_bytes()


@pytest.mark.parametrize(("value", "text"), [
    # RFC 8785 appendix B and section 3.2.2.3
    (0.0, "0"), (-0.0, "0"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (333333333.3333333, "333333333.3333333"), (1e-7, "1e-7"), (0.000001, "0.000001"),
    (295147905179352830000.0, "295147905179352830000"), (4.5, "4.5"), (1e23, "1e+23"),
    (-5e-324, "-5e-324"), (9007199254740992.0, "9007199254740992"),
])
def test_jcs_numbers_are_written_as_ecmascript_writes_them(value: float, text: str) -> None:
    assert number(value) == text


def test_jcs_sorts_keys_by_utf16_and_escapes_minimally() -> None:
    # RFC 8785 3.2.3: keys sort by UTF-16 code units, so the emoji (surrogates 0xD83D...)
    # comes before U+FB01, although its code point is the larger.
    value = {"\u20ac": 1, "\U0001f600": 2, "\r": 3, "1": 4, "\u00e9": 5, "\ufb01": 6}
    assert canonicalize(value) == ('{"\\r":3,"1":4,"\u00e9":5,"\u20ac":1,"\U0001f600":2,'
                                   '"\ufb01":6}'.encode())
    assert canonicalize(["\u0001/\x7f"]) == b'["\\u0001/\x7f"]'
    with pytest.raises(ValidationError):
        canonicalize({"x": float("nan")})


def test_the_w3c_eddsa_jcs_2022_vector_verifies_and_is_reproduced() -> None:
    private, public = _vector_keys()
    signed = json.loads((VECTORS / "vc-di-eddsa-signedJCS.json").read_text())
    unsecured = verify_proof(signed, public)
    assert "proof" not in unsecured
    made = add_proof(unsecured, private, signed["proof"]["verificationMethod"],
                     created=signed["proof"]["created"], with_context=True)
    assert made["proof"]["proofValue"] == signed["proof"]["proofValue"]


def test_a_fedify_shaped_activity_verifies_with_the_actor_s_assertion_key() -> None:
    # The proof in this fixture was made independently of federation/ (make_fixtures.py).
    body = json.loads((DATA / "fedify_create_note.body.json").read_text())
    actor = json.loads((DATA / "fedify_actor.json").read_text())
    key = find_key(actor, verification_method(body))
    assert isinstance(key.public_key, ed25519.Ed25519PublicKey)
    assert verify_proof(body, key.public_key)["id"] == body["id"]


def test_round_trip_and_every_kind_of_tampering_is_refused() -> None:
    key = generate_ed25519_key()
    doc = {"@context": ["https://www.w3.org/ns/activitystreams"], "type": "Note",
           "content": "checks held", "n": 1.5}
    signed = add_proof(doc, key, "https://a.example/actor#ed25519-key",
                       created="2026-01-01T00:00:00Z")
    assert verify_proof(signed, key.public_key()) == doc
    tampered = [
        {**signed, "content": "checks NOT held"},
        {**signed, "extra": True},
        {**signed, "proof": {**signed["proof"], "created": "2027-01-01T00:00:00Z"}},
        {**signed, "proof": {**signed["proof"],
                             "verificationMethod": "https://b.example/actor#k"}},
        {**signed, "@context": ["https://www.w3.org/ns/activitystreams", {"x": "y"}]},
    ]
    for document in tampered:
        with pytest.raises(SignatureError):
            verify_proof(document, key.public_key())
    with pytest.raises(SignatureError):
        verify_proof(signed, generate_ed25519_key().public_key())
    with pytest.raises(SignatureError, match="purpose"):
        verify_proof(signed, key.public_key(), purpose="authentication")
    with pytest.raises(SignatureError, match="no integrity proof"):
        verify_proof(doc, key.public_key())
    with pytest.raises(SignatureError, match="unsupported"):
        verify_proof({**signed, "proof": {**signed["proof"], "cryptosuite": "x"}},
                     key.public_key())
