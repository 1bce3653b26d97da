"""The hub's signing keys, held in memory and reloaded when another process rotates them."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ed25519

from federation.keys import (
    SigningKey,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key_pem,
    multikey_encode,
    private_key_to_pem,
    public_key_to_pem,
)
from hub.store import keys as key_store
from hub.store.db import Database
from hub.urls import Urls

LOCAL_ACTORS = ("hub", "instance")


class MissingKey(Exception):
    """The database holds no key for a local actor: the home was not initialised."""


class Keyring:
    def __init__(self, db: Database, urls: Urls) -> None:
        self._db = db
        self._urls = urls
        self._signing: dict[str, SigningKey] = {}
        self._public: dict[str, str] = {}
        self._assertion: SigningKey | None = None
        self._assertion_pem = ""

    def _key_id(self, actor: str) -> str:
        return self._urls.key_id if actor == "hub" else self._urls.instance_key_id

    async def load(self) -> bool:
        """(Re)load current keys; True if any changed since the last load."""
        changed = False
        for actor in LOCAL_ACTORS:
            pair = await key_store.current_key(self._db, actor)
            if pair is None:
                raise MissingKey(f"no {actor} key in the database: run `commonhub init`")
            if self._public.get(actor) != pair[1]:
                key = load_private_key_pem(pair[0])
                self._signing[actor] = SigningKey(self._key_id(actor), key)
                self._public[actor] = pair[1]
                changed = True
        await self._load_assertion_key()
        return changed

    async def _load_assertion_key(self) -> None:
        # Hubs made before integrity proofs have no Ed25519 key: the first start makes one.
        pem = await key_store.current_assertion_key(self._db)
        if pem is None:
            private = generate_ed25519_key()
            await key_store.add_assertion_key(self._db, private_key_to_pem(private),
                                              public_key_to_pem(private.public_key()))
            pem = await key_store.current_assertion_key(self._db)
            assert pem is not None
        if pem != self._assertion_pem:
            self._assertion = SigningKey(self._urls.assertion_key_id, load_private_key_pem(pem))
            self._assertion_pem = pem

    def assertion_key(self) -> SigningKey:
        """The hub's Ed25519 key for Object Integrity Proofs (FEP-8b32)."""
        assert self._assertion is not None, "Keyring.load() first"
        return self._assertion

    def assertion_private_key(self) -> ed25519.Ed25519PrivateKey:
        key = self.assertion_key().private_key
        assert isinstance(key, ed25519.Ed25519PrivateKey)
        return key

    def assertion_multikey(self) -> str:
        """The public half as a Multikey's `publicKeyMultibase`, for the actor document."""
        return multikey_encode(self.assertion_private_key().public_key())

    def signing_key(self, actor: str = "hub") -> SigningKey:
        return self._signing[actor]

    def public_pem(self, actor: str = "hub") -> str:
        return self._public[actor]


async def create_key(db: Database, actor: str) -> None:
    """Generate a new RSA-2048 key pair for a local actor and make it current."""
    private = generate_rsa_key()
    await key_store.replace_key(db, actor, private_key_to_pem(private),
                                public_key_to_pem(private.public_key()))
