"""Known hubs with their health: our own visits, and delivery health from `hosts`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

from hub.runtime import Hub
from hub.store import follows as follow_store
from hub.store import neighbours as neighbour_store
from hub.store.hosts import host_row
from hub.store.neighbours import Neighbour


@dataclass(frozen=True)
class PeerHealth:
    neighbour: Neighbour
    following: str | None          # our Follow's state: pending, accepted, rejected
    follows_us: bool
    last_success_at: float | None  # the later of a full visit and a delivery that cleared failures
    failures: int                  # visits failed in a row
    delivery_failure_days: int     # distinct days deliveries failed, since the last success
    unreachable_since: float | None
    last_error: str | None


async def peer_health(hub: Hub) -> list[PeerHealth]:
    found = []
    for row in await neighbour_store.list_neighbours(hub.db):
        host = await host_row(hub.db, row.authority) or {}
        following = await follow_store.get_following(hub.db, row.actor_id)
        follower = await follow_store.get_follower(hub.db, row.actor_id)
        successes = [t for t in (row.last_ok_at, host.get("last_success_at")) if t]
        days = orjson.loads(str(host["failure_days"])) if host.get("failure_days") else []
        found.append(PeerHealth(
            row, following["state"] if following else None,
            bool(follower and follower["state"] == "accepted"),
            max(successes) if successes else None, row.failures, len(days),
            host.get("unreachable_since"), row.last_error))  # type: ignore[arg-type]
    return found


def when(ts: float | None) -> str:
    return "never" if ts is None else datetime.fromtimestamp(ts, UTC).strftime(
        "%Y-%m-%d %H:%M UTC")


def describe(peer: PeerHealth) -> str:
    """One line for the command line."""
    n = peer.neighbour
    distance = "?" if n.distance_km is None else f"{n.distance_km:.1f} km"
    follow = peer.following or "not followed"
    back = ", follows us" if peer.follows_us else ""
    relay = ", relays its events" if n.announce_events else ""
    down = f", unreachable since {when(peer.unreachable_since)}" if peer.unreachable_since else ""
    error = f", last error: {peer.last_error}" if peer.failures and peer.last_error else ""
    return (f"{n.actor_id}\t{n.state}\t{distance}\t{n.area_name or '-'}\t{follow}{back}{relay}"
            f"\tlast success {when(peer.last_success_at)}, {peer.failures} failed visit(s)"
            f"{down}{error}")
