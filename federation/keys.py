"""Actor keys: generation, PEM and Multikey (FEP-521a) encodings, and reading keys from actors.

Keys are loaded once into `cryptography` objects and kept in `SigningKey` / `PublicKey`
values, so signing and verifying never re-parse PEM on the hot path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from federation.errors import KeyNotFound, ValidationError

PrivateKeyType = rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
PublicKeyType = rsa.RSAPublicKey | ed25519.Ed25519PublicKey

# Multicodec varints (https://github.com/multiformats/multicodec): ed25519-pub is 0xed,
# rsa-pub is 0x1205; both as unsigned LEB128 prefixes of the key bytes.
_ED25519_PREFIX = b"\xed\x01"
_RSA_PREFIX = b"\x85\x24"
_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {c: i for i, c in enumerate(_B58_ALPHABET)}

# Built once: these objects are immutable and sign_bytes runs once per delivery.
_PKCS1 = padding.PKCS1v15()
_SHA256 = hashes.SHA256()
_PSS_SHA512 = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=64)


@dataclass(frozen=True)
class SigningKey:
    """A local actor's private key with the id peers use to fetch its public half."""

    key_id: str
    private_key: PrivateKeyType

    @property
    def algorithm(self) -> str:
        """The RFC 9421 algorithm name for this key."""
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return "ed25519"
        return "rsa-v1_5-sha256"


@dataclass(frozen=True)
class PublicKey:
    """A remote actor's public key, bound to the actor (`owner`) that published it."""

    key_id: str
    owner: str
    public_key: PublicKeyType


class KeyLookup(Protocol):
    """Finds the public key for a key id; `refresh=True` bypasses caches (key rotation).

    Raises `KeyNotFound` when the key cannot be found or fetched.
    """

    async def __call__(self, key_id: str, *, refresh: bool = False) -> PublicKey: ...


def sign_bytes(key: PrivateKeyType, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 for RSA keys, Ed25519 for Ed25519 keys."""
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    return key.sign(data, _PKCS1, _SHA256)


def verify_bytes(key: PublicKeyType, signature: bytes, data: bytes, algorithm: str) -> bool:
    """True if `signature` over `data` verifies; False for a bad signature or a key that
    does not fit `algorithm` ("rsa-v1_5-sha256", "rsa-pss-sha512" or "ed25519")."""
    try:
        if algorithm == "ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
            return True
        if isinstance(key, rsa.RSAPublicKey) and algorithm == "rsa-v1_5-sha256":
            key.verify(signature, data, _PKCS1, _SHA256)
            return True
        if isinstance(key, rsa.RSAPublicKey) and algorithm == "rsa-pss-sha512":
            key.verify(signature, data, _PSS_SHA512, hashes.SHA512())
            return True
    except InvalidSignature:
        return False
    return False


def generate_rsa_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def generate_ed25519_key() -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


def private_key_to_pem(key: PrivateKeyType) -> str:
    """PKCS#8 PEM, unencrypted (the store protects it at rest)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")


def public_key_to_pem(key: PublicKeyType | PrivateKeyType) -> str:
    """SubjectPublicKeyInfo PEM, the form Mastodon publishes as `publicKeyPem`.

    A private key is accepted too, for the common "publish my key" case.
    """
    if isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        key = key.public_key()
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_private_key_pem(pem: str) -> PrivateKeyType:
    """Load a PKCS#8 or PKCS#1 PEM private key; only RSA and Ed25519 are accepted."""
    try:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValidationError(f"unreadable private key: {exc}") from exc
    if not isinstance(key, rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey):
        raise ValidationError("unsupported private key type (RSA or Ed25519 only)")
    return key


def load_public_key_pem(pem: str) -> PublicKeyType:
    """Load an SPKI (or PKCS#1 `RSA PUBLIC KEY`) PEM; only RSA and Ed25519 are accepted."""
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (ValueError, TypeError, UnicodeEncodeError) as exc:
        raise ValidationError(f"unreadable public key: {exc}") from exc
    if not isinstance(key, rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ValidationError("unsupported public key type (RSA or Ed25519 only)")
    return key


def b58encode(data: bytes) -> str:
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, rem = divmod(number, 58)
        digits.append(_B58_ALPHABET[rem])
    return "1" * zeros + "".join(reversed(digits))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _B58_INDEX:
            raise ValidationError(f"invalid base58 character {char!r}")
        number = number * 58 + _B58_INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def multikey_encode(public_key: PublicKeyType) -> str:
    """`publicKeyMultibase` of a Multikey: `z` + base58btc(multicodec prefix + key bytes)."""
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return "z" + b58encode(_ED25519_PREFIX + raw)
    if isinstance(public_key, rsa.RSAPublicKey):
        # rsa-pub carries the PKCS#1 RSAPublicKey DER, as Fedify publishes it.
        der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
        return "z" + b58encode(_RSA_PREFIX + der)
    raise ValidationError("unsupported public key type (RSA or Ed25519 only)")


def multikey_decode(value: str) -> PublicKeyType:
    """Inverse of `multikey_encode`; `ValidationError` for any other encoding or key type."""
    if not value.startswith("z"):
        raise ValidationError("Multikey must be base58btc multibase ('z' prefix)")
    data = b58decode(value[1:])
    try:
        if data.startswith(_ED25519_PREFIX) and len(data) == 34:
            return ed25519.Ed25519PublicKey.from_public_bytes(data[2:])
        if data.startswith(_RSA_PREFIX):
            key = serialization.load_der_public_key(_pkcs1_to_spki(data[2:]))
            if isinstance(key, rsa.RSAPublicKey):
                return key
    except ValueError as exc:
        raise ValidationError(f"invalid Multikey: {exc}") from exc
    raise ValidationError("unsupported Multikey (Ed25519 or RSA only)")


def _pkcs1_to_spki(pkcs1_der: bytes) -> bytes:
    """Wrap PKCS#1 RSAPublicKey DER in SubjectPublicKeyInfo, which `cryptography` loads."""
    algorithm = bytes.fromhex("300d06092a864886f70d0101010500")  # rsaEncryption, NULL
    bit_string = b"\x03" + _der_length(len(pkcs1_der) + 1) + b"\x00" + pkcs1_der
    body = algorithm + bit_string
    return b"\x30" + _der_length(len(body)) + body


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def key_id_actor_url(key_id: str) -> str:
    """The document to fetch for a key id: the id without its fragment.

    Mastodon's `…/users/a#main-key` gives the actor; GoToSocial's `…/users/a/main-key`
    gives a stub whose `publicKey` names the key and its owner.
    """
    return key_id.split("#", 1)[0]


def _origin(url: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(url)
        port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _owned_key(entry: Any, actor_id: str, owner_field: str) -> tuple[str, dict] | None:
    """The entry's key id when it belongs to the actor and shares its origin, else None."""
    if not isinstance(entry, dict):
        return None
    key_id, owner = entry.get("id"), entry.get(owner_field)
    if not isinstance(key_id, str) or owner != actor_id:
        return None
    if _origin(key_id) is None or _origin(key_id) != _origin(actor_id):
        return None
    return key_id, entry


def public_keys_from_actor(actor: dict) -> list[PublicKey]:
    """Every usable key an actor document publishes.

    Reads `publicKey` (object or list, `publicKeyPem`) and `assertionMethod` Multikeys
    (`publicKeyMultibase`, as Fedify publishes). A key whose owner/controller is not the
    actor, or whose id is on another origin, is skipped: otherwise one actor could claim
    another's key. Unreadable keys are skipped too.
    """
    actor_id = actor.get("id")
    if not isinstance(actor_id, str) or _origin(actor_id) is None:
        return []
    found: dict[str, PublicKey] = {}
    for entry in _as_list(actor.get("publicKey")):
        owned = _owned_key(entry, actor_id, "owner")
        if owned and isinstance(owned[1].get("publicKeyPem"), str):
            _add_key(found, owned[0], actor_id, load_public_key_pem, owned[1]["publicKeyPem"])
    for entry in _as_list(actor.get("assertionMethod")):
        owned = _owned_key(entry, actor_id, "controller")
        if owned and isinstance(owned[1].get("publicKeyMultibase"), str):
            _add_key(found, owned[0], actor_id, multikey_decode, owned[1]["publicKeyMultibase"])
    return list(found.values())


def _add_key(found: dict[str, PublicKey], key_id: str, owner: str, load: Any, text: str) -> None:
    # The first readable key for an id wins: Fedify lists the same id under both fields.
    if key_id in found:
        return
    try:
        found[key_id] = PublicKey(key_id=key_id, owner=owner, public_key=load(text))
    except ValidationError:
        return


def find_key(actor: dict, key_id: str) -> PublicKey:
    """The actor's key with this id, or `KeyNotFound`."""
    for key in public_keys_from_actor(actor):
        if key.key_id == key_id:
            return key
    raise KeyNotFound(f"actor {actor.get('id')!r} publishes no usable key {key_id!r}")
