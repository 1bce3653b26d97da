"""Object Integrity Proofs (FEP-8b32): a signature that travels inside the object.

An HTTP signature proves who sent a request; an integrity proof proves who *made* a
document, wherever it is later copied. The cryptosuite is `eddsa-jcs-2022` (W3C Data
Integrity EdDSA Cryptosuites v1.0, section 3.3): the proof options and the document without
its proof are each canonicalised with JCS (RFC 8785) and hashed with SHA-256; the Ed25519
signature over the two hashes (options first) is the `proofValue`, base58btc multibase.

The verification method is a Multikey the signer publishes (for an ActivityPub actor, in its
`assertionMethod`); finding it is the caller's business, through `verification_method`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.errors import SignatureError, ValidationError
from federation.jcs import canonicalize
from federation.keys import b58decode, b58encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
ASSERTION = "assertionMethod"
DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v2"


def _hash_data(options: dict[str, Any], unsecured: dict[str, Any]) -> bytes:
    return (hashlib.sha256(canonicalize(options)).digest()
            + hashlib.sha256(canonicalize(unsecured)).digest())


def add_proof(document: dict[str, Any], key: ed25519.Ed25519PrivateKey,
              verification_method: str, *, created: str, purpose: str = ASSERTION,
              with_context: bool = False) -> dict[str, Any]:
    """A copy of `document` with an `eddsa-jcs-2022` proof made by `key`.

    `created` is an XML Schema dateTime (`2024-05-01T10:00:00Z`). The proof options are
    hashed with the document's `@context`, as the cryptosuite says; the proof sent carries
    no `@context` of its own, as Fedify sends it (the verifier puts the document's back),
    unless `with_context` (a W3C Verifiable Credential keeps it). A proof already present
    is replaced: this module makes single proofs, not proof sets or chains.
    """
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options: dict[str, Any] = {"type": PROOF_TYPE, "cryptosuite": CRYPTOSUITE,
                               "created": created, "verificationMethod": verification_method,
                               "proofPurpose": purpose}
    if "@context" in unsecured:
        options["@context"] = unsecured["@context"]
    signature = key.sign(_hash_data(options, unsecured))
    if not with_context:
        options.pop("@context", None)
    return {**unsecured, "proof": {**options, "proofValue": "z" + b58encode(signature)}}


def verification_method(document: dict[str, Any]) -> str:
    """The id of the key that a document's proof names (checked for shape first)."""
    return str(_proof(document)["verificationMethod"])


def _proof(document: dict[str, Any]) -> dict[str, Any]:
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise SignatureError("the document carries no integrity proof (one object expected)")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise SignatureError(f"unsupported proof: type {PROOF_TYPE} with cryptosuite "
                             f"{CRYPTOSUITE} expected")
    for name in ("verificationMethod", "proofValue", "proofPurpose"):
        if not isinstance(proof.get(name), str):
            raise SignatureError(f"the proof has no {name}")
    return proof


def verify_proof(document: dict[str, Any], key: ed25519.Ed25519PublicKey, *,
                 purpose: str = ASSERTION) -> dict[str, Any]:
    """The document without its proof, if the proof verifies with `key`.

    Raises `SignatureError` when the proof is missing, of another kind, for another purpose,
    read in another context than the document, or does not verify: any change to the
    document or to the proof options after signing is caught here.
    """
    proof = _proof(document)
    if proof["proofPurpose"] != purpose:
        raise SignatureError(f"the proof's purpose is {proof['proofPurpose']!r}, "
                             f"not {purpose!r}")
    unsecured = {k: v for k, v in document.items() if k != "proof"}
    options = {k: v for k, v in proof.items() if k != "proofValue"}
    if "@context" in options:
        if not _context_prefix(options["@context"], unsecured.get("@context")):
            raise SignatureError("the proof's @context does not begin the document's")
    elif "@context" in unsecured:
        options["@context"] = unsecured["@context"]
    value = proof["proofValue"]
    try:
        if not value.startswith("z"):
            raise ValidationError("proofValue is base58btc multibase ('z' prefix)")
        key.verify(b58decode(value[1:]), _hash_data(options, unsecured))
    except (InvalidSignature, ValidationError) as exc:
        raise SignatureError("the integrity proof does not verify: the document or the "
                             "proof was changed, or another key made it") from exc
    return unsecured


def _context_prefix(proof_context: Any, document_context: Any) -> bool:
    proof_list, document_list = _as_list(proof_context), _as_list(document_context)
    return document_list[:len(proof_list)] == proof_list


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
