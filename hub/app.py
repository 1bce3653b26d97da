"""`create_app(settings)`: the aiohttp application, with its store, workers and scheduler.

Nothing happens at import time; the database, HTTP sessions, workers and the scheduler open
and close in the app's cleanup context.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from federation.delivery import DeliveryWorker
from federation.http1 import DeliveryClient
from federation.inbox import InboxProcessor, InboxReceiver
from federation.verifier import VerifierPool
from hub.incoming import build_dispatcher
from hub.jobs.registry import build_runner
from hub.neighbours.area import own_area
from hub.neighbours.discovery import Discovery
from hub.runtime import Hub, open_hub, reload_policy, user_agent
from hub.settings import Settings
from hub.store.deliveries import SqliteDeliveryStore
from hub.store.hosts import SqliteHostHealth
from hub.store.inbound import SqliteInboundStore
from hub.web import (
    api,
    ask_pages,
    calendar_pages,
    console,
    event_pages,
    federation_views,
    feeds_views,
    my_data_pages,
    nearby,
    need_pages,
    pages,
    rsvp_pages,
    signup_pages,
)
from hub.web.errors import error_middleware, security_headers
from hub.web.keys import DISCOVERY, HUB, INBOX, JOBS, SETTINGS, TEMPLATES
from hub.web.ratelimit import RATE_LIMITS, RateLimits, TokenBucket
from hub.web.render import make_templates

log = logging.getLogger(__name__)

WAKE_INTERVAL = 5.0        # seconds between scheduler wake-ups of the queue workers
BACKSTOP_POLL = 60.0
INBOX_WAKE_DELAY = 0.01  # stored activities are processed in batches at most this much later
KEY_RELOAD_INTERVAL = 30.0  # a key rotated by the CLI is picked up within this
JOB_INTERVAL = 30.0  # how often due reminders and digests are looked for
JOB_STOP_GRACE = 60.0  # a stop waits this long for a job under way (an email: 30 s a step)
# Inbox verifier processes start once the inbox has checked this many deliveries in the
# event loop: a quiet hub (and most tests) never starts them.
VERIFIERS_START_AFTER = 50


def create_app(settings: Settings) -> web.Application:
    # console.no_store sits outside error_middleware so error pages are not cached either;
    # console.require_staff sits inside it so a store error there still gets a clear answer.
    app = web.Application(
        middlewares=[security_headers, console.no_store, error_middleware, api.require_token,
                     console.require_staff],
        client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[TEMPLATES] = make_templates()
    app[RATE_LIMITS] = RateLimits()
    app.cleanup_ctx.append(_hub_context)
    _add_routes(app)
    return app


def _add_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/", pages.home)
    r.add_get("/actors/{name}", federation_views.actor)
    r.add_post("/actors/{name}/inbox", federation_views.inbox)
    r.add_get("/actors/{name}/outbox", federation_views.outbox)
    r.add_get("/actors/{name}/followers", federation_views.followers)
    r.add_get("/actors/{name}/following", federation_views.following)
    r.add_get("/actors/{name}/peers", federation_views.peers)
    r.add_post("/inbox", federation_views.inbox)
    r.add_get("/actor", federation_views.server_actor)
    r.add_get("/posts/{uuid}", pages.post)
    r.add_get("/activities/{uuid}", pages.activity)
    r.add_get("/.well-known/nodeinfo", federation_views.nodeinfo_links)
    r.add_get("/nodeinfo/{version}", federation_views.nodeinfo)
    # Feeds first: `/events/{uuid}.ics` and `/tags/{tag}.ics` would also match the pages.
    feeds_views.add_routes(app)
    calendar_pages.add_routes(app)
    event_pages.add_routes(app)
    rsvp_pages.add_routes(app)
    signup_pages.add_routes(app)
    my_data_pages.add_routes(app)
    ask_pages.add_routes(app)
    nearby.add_routes(app)
    need_pages.add_routes(app)
    api.add_routes(app)
    console.add_routes(app)


async def _hub_context(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with open_hub(settings) as hub:
        app[HUB] = hub
        app.router.add_get("/.well-known/webfinger", federation_views.webfinger_handler(hub))
        async with _workers(hub) as workers:
            app[INBOX] = InboxReceiver(
                workers.inbound, hub.actors.key_lookup, base_url=settings.base_url,
                max_body=settings.max_body_bytes, window=settings.signature_window,
                is_blocked=hub.policy.is_blocked, on_stored=workers.processor.arrived,
                rate_limit=_inbox_rate_limit(app), on_verified=workers.heard_from,
                verifier=workers.verifier, cached_key=hub.actors.cached_key)
            app[JOBS] = workers.jobs
            app[DISCOVERY] = workers.discovery
            yield


def _inbox_rate_limit(app: web.Application) -> TokenBucket | None:
    """Each remote host's budget of inbox deliveries (per key host), if limited."""
    s = app[SETTINGS]
    if s.inbox_rate_limit == 0:
        return None
    return app[RATE_LIMITS].bucket("inbox", s.inbox_rate_limit, s.inbox_rate_window)


def inbox_verifiers(s: Settings) -> int:
    """How many verifier processes the inbox uses (the `inbox_verifiers` setting)."""
    if s.inbox_verifiers >= 0:
        return s.inbox_verifiers
    return min(4, (os.cpu_count() or 1) - 1)


class _Workers:
    """The delivery and inbox workers and the scheduler that wakes them."""

    def __init__(self, hub: Hub) -> None:
        s = hub.settings
        self.stop = asyncio.Event()
        self.inbound = SqliteInboundStore(hub.db)
        # The scheduler wakes both workers every WAKE_INTERVAL; their own poll is a backstop.
        self.processor = InboxProcessor(self.inbound, build_dispatcher(hub),
                                        poll_interval=BACKSTOP_POLL,
                                        wake_delay=INBOX_WAKE_DELAY, give_way=s.inbox_give_way)
        # Inbox URLs come from remote documents: deliveries get the same SSRF guard as fetches.
        self.client = DeliveryClient(allow_loopback=s.dev,
                                     allow_private=s.allow_private_addresses)
        verifiers = inbox_verifiers(s)
        self.verifier = (VerifierPool(verifiers, start_after=VERIFIERS_START_AFTER)
                         if verifiers else None)
        self.deliveries = SqliteDeliveryStore(hub.db)
        self.health = SqliteHostHealth(hub.db)
        self.delivery = DeliveryWorker(
            self.deliveries, self.client, hub.keyring.signing_key,
            max_attempts=s.delivery_max_attempts, backoff_cap=s.delivery_backoff_cap,
            concurrency=s.delivery_concurrency, per_host=s.delivery_per_host,
            timeout=s.delivery_timeout, user_agent=user_agent(s),
            scheme=s.delivery_signature, host_health=self.health,
            is_blocked=hub.policy.is_blocked, poll_interval=BACKSTOP_POLL)
        hub.wake_delivery, hub.wake_inbox = self.delivery.wake, self.processor.wake
        self._health_writes: set[asyncio.Task[None]] = set()
        self.scheduler = AsyncIOScheduler()
        self.scheduler.add_job(self.delivery.wake, "interval", seconds=WAKE_INTERVAL)
        self.scheduler.add_job(self.processor.wake, "interval", seconds=WAKE_INTERVAL)
        self.scheduler.add_job(hub.keyring.load, "interval", seconds=KEY_RELOAD_INTERVAL)
        # Blocks made from the CLI reach a running hub within this.
        self.scheduler.add_job(reload_policy, "interval", args=[hub], seconds=WAKE_INTERVAL)
        self.jobs = build_runner(hub)
        hub.wake_jobs = self.jobs.wake
        # The first walk starts with the hub; a hub with no area has no one to pair with.
        self.discovery = Discovery(hub)
        if own_area(s) is not None:
            self.scheduler.add_job(self.discovery.start_walk, "interval",
                                   seconds=s.discovery_interval, next_run_time=datetime.now(UTC))


    def heard_from(self, host: str) -> None:
        """A verified activity came from `host`: it is alive, so clear any failure record.

        Costs nothing for healthy hosts (decided from memory); the write for a failing one
        runs beside the request."""
        if self.health.failure_days(host) or self.health.is_unreachable(host):
            task = asyncio.create_task(self.health.record_success(host))
            self._health_writes.add(task)
            task.add_done_callback(self._health_writes.discard)


@asynccontextmanager
async def _workers(hub: Hub) -> AsyncIterator[_Workers]:
    w = _Workers(hub)
    await w.health.load()  # unreachable hosts are judged from memory on the delivery path
    tasks = [asyncio.create_task(w.processor.run_forever(w.stop), name="inbox"),
             asyncio.create_task(w.delivery.run_forever(w.stop), name="delivery")]
    jobs = asyncio.create_task(w.jobs.run_forever(w.stop, JOB_INTERVAL), name="jobs")
    w.scheduler.start()
    try:
        yield w
    finally:
        w.scheduler.shutdown(wait=False)
        await w.discovery.close()
        if w.verifier is not None:
            await w.verifier.close()
        w.stop.set()
        w.processor.wake()
        w.delivery.wake()
        w.jobs.wake()
        await asyncio.gather(*tasks, return_exceptions=True)
        # A job under way is let finish (an email's thread would run on if it were cancelled,
        # and the email go again after the restart), for so long; the runner starts no other.
        if not (await asyncio.wait([jobs], timeout=JOB_STOP_GRACE))[0]:
            log.warning("stopping: a scheduled job still running was cut short")
            jobs.cancel()
            await asyncio.gather(jobs, return_exceptions=True)
        await w.delivery.close()
        # Outcomes and inbound rows still queued for a group commit are written before the
        # database closes.
        await w.deliveries.flush()
        await w.inbound.flush()
        await w.client.close()
