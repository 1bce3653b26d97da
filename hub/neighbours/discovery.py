"""Discovery: walk peers of peers from the seeds, recognise commonhub hubs, pair with neighbours.

A walk starts from the seeds (the `neighbour_seeds` setting and those staff added) and the hubs
already paired with, and visits hubs breadth-first up to `discovery_depth` hops, at most
`discovery_max_hubs` of them. It reads the peers of a starting point always, and afterwards
only of hubs near us or nearer than the hub that listed them, so it heads for its own
neighbourhood instead of sweeping the whole network. Visiting a hub means, through the safe fetcher:

1. its NodeInfo (`/.well-known/nodeinfo`, then the document): `software.name` must be
   "commonhub" and `metadata.commonhub.actor` names its actor, on the same origin;
2. its actor document: the `area` and the `peers` collection;
3. its peers collection: the next hubs to visit.

A hub already recognised skips 1 and takes its stored actor document when fresh, so a re-walk
costs each known hub two requests. Visits run `discovery_concurrency` at a time, every request
waits its turn under `discovery_rate`, and each fetch is bounded by the fetcher's timeouts: a
hub that never answers holds one visit, not the walk. Pairing is decided as each hub is
visited (`hub.neighbours.service.consider`), so neighbours are followed before the walk ends.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from yarl import URL

from federation.errors import BlockedDomain, FederationError, ValidationError
from federation.fetch import same_origin
from federation.nodeinfo import fetch_nodeinfo
from hub.neighbours import service
from hub.neighbours.area import Area, distance_km, own_area, parse_area
from hub.runtime import Hub
from hub.services.follows import resolve_actor_id
from hub.settings import seed_list
from hub.store import neighbours as neighbour_store
from hub.store.neighbours import Neighbour

log = logging.getLogger(__name__)

SOFTWARE = "commonhub"
MAX_PEER_PAGES = 10  # pages of one hub's peers read per visit


class RateLimit:
    """At most `rate` requests a second, spaced evenly, shared by every visit of a walk."""

    def __init__(self, rate: float) -> None:
        self._interval = 1.0 / rate
        self._next = time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        at = max(now, self._next)
        self._next = at + self._interval
        if at > now:
            await asyncio.sleep(at - now)


@dataclass
class WalkReport:
    """What one walk did; `visited` counts hubs whose visit was attempted."""

    started_at: float
    finished_at: float = 0.0
    visited: int = 0
    recognised: int = 0
    failed: int = 0
    skipped_blocked: int = 0
    paired: list[str] = field(default_factory=list)
    unpaired: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Recognised:
    """A commonhub hub as a visit found it; `distance_km` between the two centres."""

    actor_id: str
    peers_url: str | None
    distance_km: float | None = None
    reach_km: float | None = None  # our neighbourhood radius plus its area's radius


def recognise(nodeinfo: dict[str, Any], origin_url: str) -> str:
    """The hub's actor id if this NodeInfo is a commonhub hub's; ValidationError otherwise."""
    software = nodeinfo.get("software") or {}
    if software.get("name") != SOFTWARE:
        raise ValidationError(f"{origin_url} runs {software.get('name')!r}, not commonhub")
    metadata = nodeinfo.get("metadata")
    ours = metadata.get(SOFTWARE) if isinstance(metadata, dict) else None
    actor = ours.get("actor") if isinstance(ours, dict) else None
    if not isinstance(actor, str) or not same_origin(actor, origin_url):
        raise ValidationError(f"{origin_url} names no commonhub actor of its own")
    return actor


def _origin(url: str) -> str:
    parsed = URL(url)
    return str(parsed.origin())


class Discovery:
    """The hub's walks: one request rate for all of them, and the hubs being visited now.

    The scheduler starts a walk every `discovery_interval` (`start_walk`), even while an
    older one still waits on a hub that does not answer; the newer walk skips the hubs
    being visited, so a hub that hangs holds up neither the walks nor the other hubs.
    """

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.rate = RateLimit(hub.settings.discovery_rate)
        self.visiting: set[str] = set()
        self.walks: set[asyncio.Task[WalkReport]] = set()
        self.last_report: WalkReport | None = None

    async def walk(self) -> WalkReport:
        """One walk from the starting points; pairs with neighbours as it finds them."""
        report = await Walker(self).run(await starting_points(self.hub))
        self.last_report = report
        changed = bool(report.paired or report.unpaired)
        log.log(logging.INFO if changed else logging.DEBUG,
                "discovery walk: %d hubs visited, %d recognised, %d failed, paired %d, "
                "unpaired %d", report.visited, report.recognised, report.failed,
                 len(report.paired), len(report.unpaired))
        return report

    async def start_walk(self) -> None:
        """Begin a walk in the background (the scheduler's job)."""
        task = asyncio.create_task(self.walk(), name="discovery")
        self.walks.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[WalkReport]) -> None:
        self.walks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a discovery walk failed", exc_info=task.exception())

    async def close(self) -> None:
        for task in list(self.walks):
            task.cancel()
        await asyncio.gather(*self.walks, return_exceptions=True)


class Walker:
    """One walk over the neighbourhood (see the module docstring)."""

    def __init__(self, discovery: Discovery) -> None:
        hub = discovery.hub
        s = hub.settings
        self.hub = hub
        self.discovery = discovery
        self.rate = discovery.rate
        self.depth, self.max_hubs = s.discovery_depth, s.discovery_max_hubs
        self.concurrency = s.discovery_concurrency
        self.report = WalkReport(started_at=time.time())
        self._queued: set[str] = set()
        self._queue: asyncio.Queue[tuple[str, int, float | None]] = asyncio.Queue()

    async def run(self, starts: list[str]) -> WalkReport:
        for target in starts:
            self._enqueue(target, 0, None)
        workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]
        try:
            await self._queue.join()
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        self.report.finished_at = time.time()
        return self.report

    def _enqueue(self, target: str, depth: int, parent_km: float | None) -> None:
        if target in self._queued or target == self.hub.urls.actor:
            return
        if len(self._queued) >= self.max_hubs:
            return
        if target.startswith(("http://", "https://")):
            try:
                blocked = self.hub.policy.is_url_blocked(target)
            except ValueError:
                return  # a malformed id in someone's peers: nothing to visit
            if blocked:
                self.report.skipped_blocked += 1
                return
        self._queued.add(target)
        self._queue.put_nowait((target, depth, parent_km))

    async def _work(self) -> None:
        while True:
            target, depth, parent_km = await self._queue.get()
            if target in self.discovery.visiting:  # another walk is on it (maybe stuck)
                self._queue.task_done()
                continue
            self.discovery.visiting.add(target)
            try:
                found = await self._visit(target)
                if found is not None and depth < self.depth and _worth_expanding(
                        found, depth, parent_km):
                    for peer, hint in await self._read_peers(found):
                        if self._worth_visiting(hint, found.distance_km):
                            self._enqueue(peer, depth + 1, found.distance_km)
            except Exception:  # one hub's surprise must not end the walk; recorded below
                log.exception("visiting %s failed unexpectedly", target)
                self.report.failed += 1
            finally:
                self.discovery.visiting.discard(target)
                self._queue.task_done()

    async def _get(self, url: str, **kwargs: Any) -> dict[str, Any]:
        await self.rate.wait()
        return (await self.hub.fetcher.get_object(url, **kwargs)).data

    async def _visit(self, target: str) -> Recognised | None:
        self.report.visited += 1
        actor_hint: str | None = None
        try:
            actor_hint = await self._actor_id(target)
            found = await self._recognise(actor_hint)
        except BlockedDomain:
            self.report.skipped_blocked += 1
            return None
        except FederationError as exc:
            self.report.failed += 1
            self.report.errors[target] = exc.message
            if actor_hint is not None:
                await neighbour_store.record_failure(self.hub.db, actor_hint, exc.message)
            return None
        self.report.recognised += 1
        return found

    async def _actor_id(self, target: str) -> str:
        if target.startswith(("http://", "https://")):
            return target
        await self.rate.wait()
        return await resolve_actor_id(self.hub, target)  # a handle: WebFinger

    async def _recognise(self, target: str) -> Recognised:
        """NodeInfo (unless known), the actor and its area, and the pairing decision."""
        known = await neighbour_store.get(self.hub.db, target)
        if known is None:
            await self.rate.wait()
            nodeinfo = await fetch_nodeinfo(self.hub.fetcher, _origin(target))
            actor_id = recognise(nodeinfo, target)
        else:
            actor_id = known.actor_id
        fresh = known is not None and known.last_ok_at is not None and (
            time.time() - known.last_ok_at < self.hub.settings.discovery_interval)
        if not fresh:
            await self.rate.wait()
        actor = await self.hub.actors.get(actor_id, refresh=not fresh)
        peers_url = actor.document.get("peers")
        if not isinstance(peers_url, str) or not same_origin(peers_url, actor_id):
            peers_url = None
        area = parse_area(actor.document.get("area"))
        outcome = await service.consider(
            self.hub, actor, area, peers_url, source="seed" if known is None else known.source)
        if outcome == "paired":
            self.report.paired.append(actor_id)
        elif outcome == "unpaired":
            self.report.unpaired.append(actor_id)
        row = await neighbour_store.get(self.hub.db, actor_id)
        reach = (self.hub.settings.neighbourhood_radius_km + area.radius_km) if area else None
        return Recognised(actor_id, peers_url, row.distance_km if row else None, reach)

    def _worth_visiting(self, hint: Area | None, lister_km: float | None) -> bool:
        """A listed hub whose area (as the lister says) is neither near us nor nearer than
        the lister is not visited. The hint only ever spares a request: pairing is decided on
        the hub's own actor document."""
        own = own_area(self.hub.settings)
        if hint is None or own is None:
            return True
        km = distance_km(own.centre, hint.centre)
        reach = self.hub.settings.neighbourhood_radius_km + hint.radius_km
        return km <= reach or lister_km is None or km < lister_km

    async def _read_peers(self, found: Recognised) -> list[tuple[str, Area | None]]:
        if found.peers_url is None:
            return []
        peers: list[tuple[str, Area | None]] = []
        try:
            head = await self._get(found.peers_url)
            page: Any = head.get("first")
            for _ in range(MAX_PEER_PAGES):
                if isinstance(page, str):
                    if not same_origin(page, found.peers_url):
                        break
                    page = await self._get(page)
                if not isinstance(page, dict):
                    break
                peers += _ids(page.get("orderedItems", page.get("items")))
                page = page.get("next")
        except FederationError as exc:
            await neighbour_store.record_failure(self.hub.db, found.actor_id,
                                                 f"peers: {exc.message}")
        return peers


def _worth_expanding(found: Recognised, depth: int, parent_km: float | None) -> bool:
    """Whether to read a visited hub's peers: always for a starting point, then only for hubs
    within pairing reach or nearer than the hub that listed them, so a walk heads towards its
    own neighbourhood instead of across the whole network."""
    if depth == 0 or found.distance_km is None or found.reach_km is None:
        return True
    if found.distance_km <= found.reach_km:
        return True
    return parent_km is None or found.distance_km < parent_km


def _ids(items: Any) -> list[tuple[str, Area | None]]:
    """Peer ids, each with the area listed beside it (if any)."""
    found = []
    for item in items if isinstance(items, list) else []:
        value = item.get("id") if isinstance(item, dict) else item
        hint = parse_area(item.get("area")) if isinstance(item, dict) else None
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            found.append((value, hint))
    return found


async def starting_points(hub: Hub) -> list[str]:
    """The seeds, then the hubs paired with: their peers are where new neighbours appear."""
    seeds = [*seed_list(hub.settings), *await neighbour_store.list_seeds(hub.db)]
    known = await neighbour_store.list_neighbours(hub.db, states=("paired",))
    return list(dict.fromkeys([*seeds, *(n.actor_id for n in known)]))


async def add(hub: Hub, target: str) -> Neighbour:
    """Staff add a hub by handle or URL: it is visited now and, if it is a commonhub hub,
    kept as a seed that every walk starts from. Paused or unpaired, it is considered afresh.
    """
    target = target.strip()
    domain = service.domain_of(target)
    if hub.policy.is_blocked(domain):
        raise ValidationError(f"{domain} is blocked on this hub: unblock it first")
    for row in await neighbour_store.list_neighbours(hub.db, states=("paused", "unpaired")):
        if row.authority == domain:
            await neighbour_store.set_state(hub.db, row.actor_id, "known")
    walker = Walker(Discovery(hub))
    walker.depth = 0
    report = await walker.run([target])
    if report.errors:
        raise ValidationError(f"{target}: {next(iter(report.errors.values()))}")
    for row in await neighbour_store.list_neighbours(hub.db):
        if row.actor_id == target or row.authority == domain:
            await neighbour_store.add_seed(hub.db, target)
            return row
    raise ValidationError(f"{target} could not be recognised as a commonhub hub")
