"""Search without a centre: what is on, and what help is wanted, near a place.

Answered from what the hub has federated: the events of the hubs and servers it follows
(`remote_events`) and the needs of the hubs it follows (`remote_needs`) with its own open needs.
A place is a postcode district (`near=SW9`, from `hub.neighbours.postcodes`), a point
(`lat=…&lon=…`), or by default the centre of the hub's own area. Distances are great-circle
kilometres; an event without coordinates is placed at the centre of the hub it came from.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from federation.errors import ValidationError
from hub.matching.geo import GeoPoint, haversine_km
from hub.needs.summary import summary_line
from hub.neighbours.area import own_area
from hub.neighbours.postcodes import district_point
from hub.runtime import Hub
from hub.store import needs as need_store
from hub.store import neighbours as neighbour_store
from hub.store import remote_events
from hub.store.remote_events import StoredRemoteEvent

MAX_KM = 200.0
MAX_DAYS = 366
SCANNED = 2000  # upcoming events or live needs looked at per search, at most


@dataclass(frozen=True)
class Centre:
    point: GeoPoint
    label: str                      # "SW9 (Stockwell)", "51.46, -0.11", "this hub's area"
    district: str | None = None


@dataclass(frozen=True)
class Search:
    centre: Centre | None           # None: the hub has no area and none was asked for
    km: float | None                # only things this close; None: any distance
    days: int | None                # only events starting within this many days


def _number(query: Mapping[str, str], name: str, low: float, high: float) -> float | None:
    raw = query.get(name, "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and low <= value <= high):
        raise ValidationError(f"{name} must be a number from {low:g} to {high:g}")
    return value


def parse_search(query: Mapping[str, str], hub: Hub, *, default_days: int | None) -> Search:
    """The place, radius and time window a request asks for; ValidationError if bad."""
    near = query.get("near", "").strip()
    lat, lon = _number(query, "lat", -90, 90), _number(query, "lon", -180, 180)
    centre: Centre | None
    if near:
        found = district_point(near)
        if found is None:
            raise ValidationError(
                f"unknown postcode district {near[:10]!r}: give the part before the space "
                "(SW9, E8; this hub knows London's districts) or lat and lon")
        district, point, name = found
        centre = Centre(point, f"{district} ({name})", district)
    elif lat is not None or lon is not None:
        if lat is None or lon is None:
            raise ValidationError("give both lat and lon")
        centre = Centre(GeoPoint(lat, lon), f"{lat:.3f}, {lon:.3f}")
    else:
        area = own_area(hub.settings)
        centre = Centre(area.centre, area.name or "this hub's area") if area else None
    km = _number(query, "km", 0.1, MAX_KM)
    if km is None and centre is not None and (near or lat is not None):
        km = hub.settings.neighbourhood_radius_km
    days = _number(query, "days", 1, MAX_DAYS)
    if days is None and (near or lat is not None):
        days = default_days
    return Search(centre, km, int(days) if days is not None else None)


def _distance(search: Search, lat: float | None, lon: float | None) -> float | None:
    if search.centre is None or lat is None or lon is None:
        return None
    return round(haversine_km(search.centre.point, GeoPoint(lat, lon)), 1)


def _kept(search: Search, distance: float | None) -> bool:
    return search.km is None or (distance is not None and distance <= search.km)


def _order(item: tuple[Any, float | None]) -> tuple[bool, float]:
    return item[1] is None, item[1] or 0.0


async def _hub_centres(hub: Hub) -> dict[str, tuple[float, float]]:
    return {n.actor_id: (n.latitude, n.longitude)
            for n in await neighbour_store.list_neighbours(hub.db)
            if n.latitude is not None and n.longitude is not None}


async def events_near(hub: Hub, search: Search,
                      now: float | None = None) -> list[tuple[StoredRemoteEvent, float | None]]:
    """Upcoming federated events within the search, nearest first, then soonest."""
    now = time.time() if now is None else now
    stored = await remote_events.list_upcoming(hub.db, now=now, include_cancelled=True,
                                               limit=SCANNED)
    if search.days is not None:
        until = now + search.days * 86400
        stored = [s for s in stored if s.event.start.timestamp() <= until]
    centres = await _hub_centres(hub)
    found = []
    for item in stored:
        event = item.event
        lat, lon = event.latitude, event.longitude
        if lat is None or lon is None:
            lat, lon = centres.get(event.origin_actor_id, (None, None))
        distance = _distance(search, lat, lon)
        if _kept(search, distance):
            found.append((item, distance))
    if search.centre is None:
        return found  # soonest first, as stored
    return sorted(found, key=lambda pair: (*_order(pair), pair[0].event.start))


@dataclass(frozen=True)
class NeedNear:
    title: str
    summary: str
    kind: str
    district: str | None
    status: str
    url: str | None
    origin: str                      # the publishing hub's actor
    local: bool
    distance_km: float | None

    def as_json(self) -> dict[str, Any]:
        return {"title": self.title, "summary": self.summary, "kind": self.kind,
                "district": self.district, "status": self.status, "url": self.url,
                "origin": self.origin, "local": self.local, "distance_km": self.distance_km}


def _need_point(draft: Any) -> tuple[float | None, float | None]:
    if draft.latitude is not None and draft.longitude is not None:
        return draft.latitude, draft.longitude
    found = district_point(draft.district) if draft.district else None
    return (found[1].lat, found[1].lon) if found else (None, None)


async def needs_near(hub: Hub, search: Search) -> list[NeedNear]:
    """Live needs, the hub's own and its neighbours', within the search, nearest first."""
    local = await need_store.list_needs(hub.db, statuses=need_store.LIVE_STATUSES,
                                        limit=SCANNED)
    remote = await need_store.list_remote_needs(hub.db, limit=SCANNED)
    found = []
    for need in local:
        distance = _distance(search, *_need_point(need.draft))
        found.append(NeedNear(need.draft.title, summary_line(need.draft, need.status),
                              need.draft.kind, need.draft.district, need.status,
                              hub.urls.base + f"/needs/{need.uuid}", hub.urls.actor, True,
                              distance))
    for need in remote:
        distance = _distance(search, *_need_point(need.draft))
        found.append(NeedNear(need.draft.title, summary_line(need.draft, need.status),
                              need.draft.kind, need.draft.district, need.status,
                              need.url or need.object_id, need.actor, False, distance))
    kept = [n for n in found if _kept(search, n.distance_km)]
    return sorted(kept, key=lambda n: (n.distance_km is None, n.distance_km or 0.0, n.title))
