"""The hub's signing keys, held in memory and reloaded when another process rotates them."""

from __future__ import annotations

from federation.keys import (
    SigningKey,
    generate_rsa_key,
    load_private_key_pem,
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
        return changed

    def signing_key(self, actor: str = "hub") -> SigningKey:
        return self._signing[actor]

    def public_pem(self, actor: str = "hub") -> str:
        return self._public[actor]


async def create_key(db: Database, actor: str) -> None:
    """Generate a new RSA-2048 key pair for a local actor and make it current."""
    private = generate_rsa_key()
    await key_store.replace_key(db, actor, private_key_to_pem(private),
                                public_key_to_pem(private.public_key()))
