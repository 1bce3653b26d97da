"""Remote actors: fetched through the safe fetcher, cached in the store, keys cached in memory."""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from urllib.parse import urlsplit

from federation.errors import FederationError, KeyNotFound, Unreachable, ValidationError
from federation.fetch import SafeFetcher
from federation.keys import (
    PublicKey,
    find_key,
    key_id_actor_url,
    load_public_key_pem,
    public_key_to_pem,
    public_keys_from_actor,
)
from hub.store import actors as actor_store
from hub.store.actors import RemoteActor
from hub.store.db import Database

log = logging.getLogger(__name__)

ACTOR_TYPES = {"Person", "Group", "Organization", "Application", "Service"}
STALE_AFTER = 86400.0       # refetch an actor document older than a day
RETRY_DOWN_AFTER = 300.0    # after a refetch found its server down, use our copy this long
REFRESH_INTERVAL = 60.0     # refetch one key at most once a minute (forged signatures can't DoS)
KEY_CACHE_SIZE = 10_000


def parse_actor(doc: dict, *, allow_http: bool = False) -> RemoteActor:
    """A fetched actor document as a RemoteActor; ValidationError if it is not an actor.

    Outside development mode (`allow_http` False) the actor and its inboxes must be https:
    an http inbox would send what the hub delivers (RSVPs, offers) in clear text.
    """
    schemes = ("https://", "http://") if allow_http else ("https://",)
    actor_id, inbox = doc.get("id"), doc.get("inbox")
    if not isinstance(actor_id, str) or doc.get("type") not in ACTOR_TYPES:
        raise ValidationError("not an actor document")
    if not actor_id.startswith(schemes):
        raise ValidationError(f"actor {actor_id!r} is not an https URL")
    if not isinstance(inbox, str) or not inbox.startswith(schemes):
        raise ValidationError(f"actor {actor_id} has no {'' if allow_http else 'https '}inbox")
    endpoints = doc.get("endpoints") if isinstance(doc.get("endpoints"), dict) else {}
    shared = endpoints.get("sharedInbox") if isinstance(endpoints.get("sharedInbox"), str) else None
    if shared is not None and not shared.startswith(schemes):
        raise ValidationError(f"actor {actor_id}'s shared inbox {shared!r} is not https")
    key = _first_key(doc)
    return RemoteActor(
        id=actor_id, type=doc["type"], preferred_username=_str(doc.get("preferredUsername")),
        name=_str(doc.get("name")), domain=urlsplit(actor_id).netloc.lower(), inbox=inbox,
        shared_inbox=shared, key_id=key.key_id if key else None,
        public_key_pem=public_key_to_pem(key.public_key) if key else None,
        document=doc, fetched_at=time.time(), deleted_at=None)


def _first_key(doc: dict) -> PublicKey | None:
    keys = public_keys_from_actor(doc)
    return keys[0] if keys else None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


class RemoteActors:
    def __init__(self, db: Database, fetcher: SafeFetcher, *, allow_http: bool = False) -> None:
        self._db = db
        self._fetcher = fetcher
        self._allow_http = allow_http  # development mode: peers on http://127.0.0.1
        self._keys: OrderedDict[str, PublicKey] = OrderedDict()
        self._refreshed: dict[str, float] = {}
        self._down_until: dict[str, float] = {}  # actor -> when to try its server again

    async def get(self, actor_id: str, *, refresh: bool = False) -> RemoteActor:
        """The actor: our copy if under a day old, else fetched. A copy over a day old still
        serves while its server cannot be reached (`Unreachable`): a message to an inbox
        we know waits in the delivery queue for that server to come back, where failing
        would lose the staff's or the volunteer's action instead."""
        if refresh:
            return await self.fetch(actor_id)
        known = await actor_store.get_actor(self._db, actor_id)
        if known is None or known.deleted_at is not None:
            return await self.fetch(actor_id)
        now = time.time()
        if now - known.fetched_at < STALE_AFTER or now < self._down_until.get(actor_id, 0.0):
            return known
        try:
            return await self.fetch(actor_id)
        except Unreachable as exc:
            log.info("using our copy of %s from %.0f hours ago: %s", actor_id,
                     (now - known.fetched_at) / 3600, exc.message)
            if len(self._down_until) >= KEY_CACHE_SIZE:
                self._down_until = {k: t for k, t in self._down_until.items() if t > now}
            while len(self._down_until) >= KEY_CACHE_SIZE:  # a bound, even if all are down
                del self._down_until[next(iter(self._down_until))]  # the oldest: soonest due
            self._down_until.pop(actor_id, None)  # re-inserted last: insertion order is age
            self._down_until[actor_id] = now + RETRY_DOWN_AFTER  # no wait on every call
            return known

    async def fetch(self, actor_id: str) -> RemoteActor:
        fetched = await self._fetcher.get_object(actor_id)
        actor = parse_actor(fetched.data, allow_http=self._allow_http)
        if actor.id != actor_id:
            raise ValidationError(f"{actor_id} answered with another actor, {actor.id}")
        await actor_store.upsert_actor(self._db, actor)
        self._forget_keys(actor.id)
        return actor

    def cached_key(self, key_id: str) -> PublicKey | None:
        """The signer's public key if it is in memory; never reads or fetches."""
        return self._keys.get(key_id)

    async def key_lookup(self, key_id: str, *, refresh: bool = False) -> PublicKey:
        """The signer's public key: memory, then the store, then the network."""
        if not refresh:
            cached = self._keys.get(key_id)
            if cached is not None:
                return cached
            stored = await actor_store.get_actor_by_key(self._db, key_id)
            if stored is not None and stored.public_key_pem and stored.deleted_at is None:
                return self._remember(PublicKey(key_id, stored.id,
                                                load_public_key_pem(stored.public_key_pem)))
        else:
            # Only refreshes count: a first fetch followed at once by a rotation is allowed.
            now = time.time()
            if now - self._refreshed.get(key_id, 0.0) < REFRESH_INTERVAL:
                raise KeyNotFound(f"key {key_id} was refreshed moments ago")
            self._refreshed[key_id] = now
            if len(self._refreshed) > KEY_CACHE_SIZE:  # only recent refreshes matter
                self._refreshed = {k: t for k, t in self._refreshed.items()
                                   if now - t < REFRESH_INTERVAL}
        return self._remember(await self._fetch_key(key_id))

    async def _fetch_key(self, key_id: str) -> PublicKey:
        try:
            doc = (await self._fetcher.get_object(key_id_actor_url(key_id))).data
            if doc.get("type") not in ACTOR_TYPES and isinstance(doc.get("owner"), str):
                doc = (await self._fetcher.get_object(doc["owner"])).data  # a bare key document
            actor = parse_actor(doc, allow_http=self._allow_http)
        except FederationError as exc:
            raise KeyNotFound(f"cannot fetch key {key_id}: {exc}") from exc
        key = find_key(actor.document, key_id)
        await actor_store.upsert_actor(self._db, actor)
        return key

    def _remember(self, key: PublicKey) -> PublicKey:
        self._keys[key.key_id] = key
        self._keys.move_to_end(key.key_id)
        while len(self._keys) > KEY_CACHE_SIZE:
            self._keys.popitem(last=False)
        return key

    def _forget_keys(self, actor_id: str) -> None:
        for key_id in [k for k, v in self._keys.items() if v.owner == actor_id]:
            del self._keys[key_id]

    async def forget(self, actor_id: str) -> None:
        """The actor deleted itself: drop its keys and follows."""
        self._forget_keys(actor_id)
        await actor_store.mark_actor_deleted(self._db, actor_id)

    async def update_from(self, doc: dict) -> RemoteActor:
        """An actor's own `Update` carried its new document (e.g. a rotated key)."""
        actor = parse_actor(doc, allow_http=self._allow_http)
        await actor_store.upsert_actor(self._db, actor)
        self._forget_keys(actor.id)
        return actor
