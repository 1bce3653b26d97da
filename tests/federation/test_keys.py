"""Keys: PEM and Multikey encodings (known vectors), and reading keys from actor documents."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from federation.errors import KeyNotFound, ValidationError
from federation.keys import (
    SigningKey,
    find_key,
    generate_ed25519_key,
    generate_rsa_key,
    key_id_actor_url,
    load_private_key_pem,
    load_public_key_pem,
    multikey_decode,
    multikey_encode,
    private_key_to_pem,
    public_key_to_pem,
    public_keys_from_actor,
    sign_bytes,
    verify_bytes,
)

# did:key test vectors (w3c-ccg did-method-key): the Ed25519 key of the all-zero seed,
# whose JWK x is O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik, and an RSA-2048 key.
ZERO_SEED_MULTIKEY = "z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
RSA_DID_KEY = (
    "z4MXj1wBzi9jUstyPMS4jQqB6KdJaiatPkAtVtGc6bQEQEEsKTic4G7Rou3iBf9vPmT5dbkm9qsZsuVNjq8HCuW1w"
    "24nhBFGkRE4cd2Uf2tfrB3N7h4mnyPp1BF3ZttHTYv3DLUPi1zMdkULiow3M1GfXkoC6DoxDUm1jmN6GBj22SjVsr"
    "6dxezRVQc7aj9TxE7JLbMH1wh5X3kA58H3DFW8rnYMakFGbca5CB2Jf6CnGQZmL7o5uJAdTwXfy2iiiyPxXEGerMh"
    "HwhjTA1mKYobyk2CpeEcmvynADfNZ5MBvcCS7m3XkFCMNUYBS9NQ3fze6vMSUPsNa6GVYmKx2x6JrdEjCk3qRMMmy"
    "jnjCMfR4pXbRMZa3i"
)
ACTOR = "https://social.example/users/ana"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return generate_rsa_key()


@pytest.fixture(scope="module")
def ed_key() -> ed25519.Ed25519PrivateKey:
    return generate_ed25519_key()


def test_pem_round_trip(rsa_key: rsa.RSAPrivateKey, ed_key: ed25519.Ed25519PrivateKey) -> None:
    for private in (rsa_key, ed_key):
        loaded = load_private_key_pem(private_key_to_pem(private))
        assert private_key_to_pem(loaded) == private_key_to_pem(private)
        public_pem = public_key_to_pem(private.public_key())
        assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
        assert public_key_to_pem(load_public_key_pem(public_pem)) == public_pem
        assert public_key_to_pem(private) == public_pem  # a private key publishes its half


def test_generated_rsa_key_size() -> None:
    assert generate_rsa_key(3072).key_size == 3072


def test_unreadable_or_unsupported_pem_is_refused() -> None:
    with pytest.raises(ValidationError):
        load_private_key_pem("not a key")
    with pytest.raises(ValidationError):
        load_public_key_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    with pytest.raises(ValidationError):
        load_public_key_pem(public_key_to_pem(ec_public))  # type: ignore[arg-type]


def test_signing_key_algorithm(rsa_key: rsa.RSAPrivateKey,
                               ed_key: ed25519.Ed25519PrivateKey) -> None:
    assert SigningKey("k", rsa_key).algorithm == "rsa-v1_5-sha256"
    assert SigningKey("k", ed_key).algorithm == "ed25519"


def test_sign_and_verify_bytes(rsa_key: rsa.RSAPrivateKey,
                               ed_key: ed25519.Ed25519PrivateKey) -> None:
    for private, algorithm in ((rsa_key, "rsa-v1_5-sha256"), (ed_key, "ed25519")):
        signature = sign_bytes(private, b"data")
        assert verify_bytes(private.public_key(), signature, b"data", algorithm)
        assert not verify_bytes(private.public_key(), signature, b"datA", algorithm)
    # A key that does not fit the algorithm never verifies.
    rsa_signature = sign_bytes(rsa_key, b"data")
    assert not verify_bytes(rsa_key.public_key(), rsa_signature, b"data", "ed25519")
    assert not verify_bytes(rsa_key.public_key(), rsa_signature, b"data", "rsa-pss-sha512")


def test_multikey_known_ed25519_vector() -> None:
    public = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(32)).public_key()
    assert multikey_encode(public) == ZERO_SEED_MULTIKEY
    decoded = multikey_decode(ZERO_SEED_MULTIKEY)
    assert isinstance(decoded, ed25519.Ed25519PublicKey)
    assert public_key_to_pem(decoded) == public_key_to_pem(public)


def test_multikey_known_rsa_vector() -> None:
    decoded = multikey_decode(RSA_DID_KEY)
    assert isinstance(decoded, rsa.RSAPublicKey)
    assert decoded.key_size == 2048
    assert multikey_encode(decoded) == RSA_DID_KEY


def test_multikey_round_trip(rsa_key: rsa.RSAPrivateKey,
                             ed_key: ed25519.Ed25519PrivateKey) -> None:
    for private, prefix in ((ed_key, "z6Mk"), (rsa_key, "z4MX")):
        encoded = multikey_encode(private.public_key())
        assert encoded.startswith(prefix)
        assert public_key_to_pem(multikey_decode(encoded)) == public_key_to_pem(private)


@pytest.mark.parametrize("value", [
    "f" + ZERO_SEED_MULTIKEY[1:],          # not base58btc
    "z0OIl",                               # characters outside the base58 alphabet
    "zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1, unsupported
    ZERO_SEED_MULTIKEY[:-3],               # truncated
])
def test_multikey_decode_refuses(value: str) -> None:
    with pytest.raises(ValidationError):
        multikey_decode(value)


def test_key_id_actor_url() -> None:
    assert key_id_actor_url(f"{ACTOR}#main-key") == ACTOR
    assert key_id_actor_url("https://gts.example/users/bob/main-key") == (
        "https://gts.example/users/bob/main-key")


def _actor(**fields: object) -> dict:
    return {"id": ACTOR, "type": "Person", **fields}


def test_reads_mastodon_public_key(rsa_key: rsa.RSAPrivateKey) -> None:
    actor = _actor(publicKey={"id": f"{ACTOR}#main-key", "owner": ACTOR,
                              "publicKeyPem": public_key_to_pem(rsa_key)})
    (key,) = public_keys_from_actor(actor)
    assert (key.key_id, key.owner) == (f"{ACTOR}#main-key", ACTOR)
    assert find_key(actor, f"{ACTOR}#main-key") == key


def test_reads_key_lists_and_fedify_multikeys(rsa_key: rsa.RSAPrivateKey,
                                              ed_key: ed25519.Ed25519PrivateKey) -> None:
    actor = _actor(
        publicKey=[{"id": f"{ACTOR}#main-key", "owner": ACTOR,
                    "publicKeyPem": public_key_to_pem(rsa_key)}],
        assertionMethod=[
            {"id": f"{ACTOR}#main-key", "type": "Multikey", "controller": ACTOR,
             "publicKeyMultibase": multikey_encode(rsa_key.public_key())},
            {"id": f"{ACTOR}#key-2", "type": "Multikey", "controller": ACTOR,
             "publicKeyMultibase": multikey_encode(ed_key.public_key())},
        ],
    )
    keys = {key.key_id: key for key in public_keys_from_actor(actor)}
    assert set(keys) == {f"{ACTOR}#main-key", f"{ACTOR}#key-2"}
    assert isinstance(keys[f"{ACTOR}#key-2"].public_key, ed25519.Ed25519PublicKey)


@pytest.mark.parametrize("key_id, owner", [
    (f"{ACTOR}#main-key", "https://social.example/users/eve"),   # another actor's key
    ("https://evil.example/users/ana#main-key", ACTOR),          # another host
    ("http://social.example/users/ana#main-key", ACTOR),         # another scheme
    ("https://social.example:8443/users/ana#main-key", ACTOR),   # another port
])
def test_foreign_keys_are_skipped(rsa_key: rsa.RSAPrivateKey, key_id: str, owner: str) -> None:
    actor = _actor(publicKey={"id": key_id, "owner": owner,
                              "publicKeyPem": public_key_to_pem(rsa_key)},
                   assertionMethod=[{"id": key_id, "controller": owner,
                                     "publicKeyMultibase": multikey_encode(rsa_key.public_key())}])
    assert public_keys_from_actor(actor) == []
    with pytest.raises(KeyNotFound):
        find_key(actor, key_id)


def test_unreadable_keys_are_skipped(ed_key: ed25519.Ed25519PrivateKey) -> None:
    actor = _actor(
        publicKey=[{"id": f"{ACTOR}#broken", "owner": ACTOR, "publicKeyPem": "garbage"},
                   "https://social.example/users/ana#just-a-link"],
        assertionMethod=[{"id": f"{ACTOR}#ed", "controller": ACTOR,
                          "publicKeyMultibase": multikey_encode(ed_key.public_key())}],
    )
    assert [key.key_id for key in public_keys_from_actor(actor)] == [f"{ACTOR}#ed"]


def test_actor_without_usable_id_has_no_keys(rsa_key: rsa.RSAPrivateKey) -> None:
    entry = {"id": "urn:x#k", "owner": "urn:x", "publicKeyPem": public_key_to_pem(rsa_key)}
    assert public_keys_from_actor({"id": "urn:x", "publicKey": entry}) == []
    assert public_keys_from_actor({"publicKey": entry}) == []
    with pytest.raises(KeyNotFound):
        find_key(_actor(), f"{ACTOR}#main-key")
