"""The inbox bench's load: fake remote actors and their signed `Create{Note}`s, and the
load-generator process that fires them (see `bench/inbox.py` for the whole set-up).

Everything here runs in the generator process, before and outside any timing of the server:
keys are made, and every request signed, before the first request is sent.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import orjson

from bench.common import watchdog
from bench.loadgen import Load, Pool, Request, fire
from federation.keys import (
    SigningKey,
    generate_rsa_key,
    load_private_key_pem,
    private_key_to_pem,
    public_key_to_pem,
)
from federation.signatures import sign_request

ACTIVITY_JSON = "application/activity+json"
INBOX_PATH = "/inbox"  # the shared inbox, where most fediverse traffic arrives


@dataclass(frozen=True)
class GeneratorConfig:
    hub_url: str
    hub_actor: str
    actors: int
    requests: int
    client: str
    time_limit: float


def actor_url(index: int) -> str:
    # Ten remote servers with five actors each (for 50): several origins, as in real traffic.
    return f"https://social{index % 10}.example/users/user{index}"


def activity_id(actors: int, n: int) -> str:
    return f"{actor_url(n % actors)}/statuses/{1_000_000 + n}/activity"


def mastodon_create(actors: int, n: int, hub_actor: str) -> dict[str, Any]:
    """A Create{Note} shaped as Mastodon 4 sends it (~2 KB), unique by `n`."""
    actor = actor_url(n % actors)
    note = f"{actor}/statuses/{1_000_000 + n}"
    host = actor.split("/")[2]
    to, cc = [f"{actor}/followers"], [hub_actor]
    content = (f'<p><span class="h-card"><a href="{hub_actor}" class="u-url mention">@<span>hub'
               f"</span></a></span> Could the repair café use one more volunteer on Saturday? "
               f"I can fix bikes. (message {n})</p>")
    return {
        "@context": ["https://www.w3.org/ns/activitystreams",
                     {"ostatus": "http://ostatus.org#", "atomUri": "ostatus:atomUri",
                      "conversation": "ostatus:conversation", "sensitive": "as:sensitive",
                      "toot": "http://joinmastodon.org/ns#"}],
        "id": f"{note}/activity", "type": "Create", "actor": actor,
        "published": "2026-11-20T09:29:58Z", "to": to, "cc": cc,
        "object": {
            "id": note, "type": "Note", "summary": None, "inReplyTo": None,
            "published": "2026-11-20T09:29:58Z", "url": f"https://{host}/@user/{n}",
            "attributedTo": actor, "to": to, "cc": cc, "sensitive": False, "atomUri": note,
            "conversation": f"tag:{host},2026-11-20:objectId={n}:objectType=Conversation",
            "content": content, "contentMap": {"en": content}, "attachment": [],
            "tag": [{"type": "Mention", "href": hub_actor, "name": "@hub@hub.example"}],
            "replies": {"id": f"{note}/replies", "type": "Collection",
                        "first": {"type": "CollectionPage", "items": [],
                                  "next": f"{note}/replies?page=true",
                                  "partOf": f"{note}/replies"}},
        },
    }


def _new_key_pem(_: int) -> str:
    return private_key_to_pem(generate_rsa_key(2048))


def make_keys(count: int) -> list[SigningKey]:
    """The actors' keys; RSA key generation holds the GIL, so two processes make them."""
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        pems = list(pool.map(_new_key_pem, range(count)))
    return [SigningKey(f"{actor_url(i)}#main-key", load_private_key_pem(pem))
            for i, pem in enumerate(pems)]


def sign_requests(config: GeneratorConfig, keys: list[SigningKey]) -> list[Request]:
    """Every request the run may send, signed now (signing is the sender's cost, not ours)."""
    url = config.hub_url + INBOX_PATH
    headers = {"Content-Type": ACTIVITY_JSON}

    def sign(n: int) -> Request:
        body = orjson.dumps(mastodon_create(config.actors, n, config.hub_actor))
        signed = sign_request("POST", url, headers, body, keys[n % config.actors])
        return Request(INBOX_PATH, {**headers, **signed}, body)

    with ThreadPoolExecutor(2) as pool:  # RSA signing releases the GIL
        return list(pool.map(sign, range(config.requests), chunksize=256))


def generator_main(conn: Connection, config: GeneratorConfig) -> None:
    """The load-generator process: prepare, report the actors, then fire on command."""
    watchdog(config.time_limit)
    started = time.perf_counter()
    keys = make_keys(config.actors)
    load = Load.build(sign_requests(config, keys), config.client)
    pems = [(actor_url(i), k.key_id, public_key_to_pem(k.private_key))
            for i, k in enumerate(keys)]
    conn.send(("ready", pems, len(load.requests), time.perf_counter() - started))
    unique = Pool(len(load.requests))  # for servers that store: each request once
    while (command := conn.recv())[0] == "fire":
        _, target, seconds, warmup, once, concurrency = command
        pool = unique if once else Pool(len(load.requests), cycle=True)
        conn.send(asyncio.run(fire(target, load, pool, concurrency=concurrency,
                                   seconds=seconds, warmup=warmup)))
