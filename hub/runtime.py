"""The running hub: settings, store, keys, fetcher and queues, built once by `open_hub`.

The web app, the CLI and the tests all build the same object, so they behave the same.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from federation.fetch import SafeFetcher
from federation.policy import DomainPolicy
from federation.signatures import sign_request
from hub.keyring import Keyring
from hub.services.actors import RemoteActors
from hub.settings import Settings
from hub.store import neighbours as neighbour_store
from hub.store.db import Database
from hub.urls import Urls

SWITCH_INTERVAL = 0.0005  # seconds: see open_hub


@dataclass
class Hub:
    settings: Settings
    urls: Urls
    db: Database
    keyring: Keyring
    fetcher: SafeFetcher
    actors: RemoteActors
    # Blocked domains, asked before every fetch, delivery and inbound activity.
    policy: DomainPolicy = field(default_factory=DomainPolicy)
    # Called after new deliveries or inbound rows are written; the app wires these to its workers.
    wake_delivery: Callable[[], None] = field(default=lambda: None)
    wake_inbox: Callable[[], None] = field(default=lambda: None)
    wake_jobs: Callable[[], None] = field(default=lambda: None)
    # Held by a job runner's tick (hub.jobs.runner): one at a time.
    ticking: asyncio.Lock = field(default_factory=asyncio.Lock)


async def reload_policy(hub: Hub) -> None:
    """Read the blocked domains again (staff may have changed them from the CLI)."""
    hub.policy.replace(await neighbour_store.domains(hub.db, "block"))


def make_fetcher(settings: Settings, keyring: Keyring,
                 policy: DomainPolicy | None = None) -> SafeFetcher:
    """The one fetcher: signed GETs as the instance actor, loopback only in dev mode, never
    to a blocked domain."""

    def sign(method: str, url: str, headers: dict[str, str]) -> dict[str, str]:
        return sign_request(method, url, headers, None, keyring.signing_key("instance"))

    return SafeFetcher(
        signer=sign, allow_loopback=settings.dev, allow_private=settings.allow_private_addresses,
        https_only=not settings.dev, max_bytes=settings.fetch_max_bytes,
        connect_timeout=settings.fetch_connect_timeout, read_timeout=settings.fetch_read_timeout,
        total_timeout=settings.fetch_total_timeout, max_redirects=settings.fetch_max_redirects,
        user_agent=user_agent(settings),
        is_blocked=policy.is_blocked if policy is not None else None)


def user_agent(settings: Settings) -> str:
    """Who we are, on every request we send: software, version and the hub's address."""
    return f"commonhub/0.1 (+{settings.base_url}/)"


@asynccontextmanager
async def open_hub(settings: Settings, *, migrate: bool = True) -> AsyncIterator[Hub]:
    """Open the store (applying migrations), load keys, start the fetcher; close all after."""
    # Under load the event loop holds the GIL most of the time, and SQLite's and the signing
    # threads need it back after every statement or signature: with Python's default 5 ms
    # switch interval they wait up to that long each time. 0.5 ms lets them in sooner.
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL))
    db = await Database.open(settings.database_path, synchronous=settings.sqlite_synchronous)
    try:
        if migrate:
            await db.migrate()
        urls = Urls(settings.base_url, settings.name)
        keyring = Keyring(db, urls)
        await keyring.load()
        policy = DomainPolicy(await neighbour_store.domains(db, "block") if migrate else ())
        fetcher = make_fetcher(settings, keyring, policy)
        try:
            actors = RemoteActors(db, fetcher, allow_http=settings.dev)
            yield Hub(settings, urls, db, keyring, fetcher, actors, policy=policy)
        finally:
            await fetcher.close()
    finally:
        await db.close()
