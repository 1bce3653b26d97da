"""A hub's area (a centre and a radius) and the rule that makes two hubs neighbours.

The rule (docs/neighbours.md): a hub pairs with, that is follows, every commonhub hub whose
area reaches into its neighbourhood, the circle of `neighbourhood_radius_km` around its own
centre: distance between the centres <= own neighbourhood radius + their area's radius.
A hub that publishes no area pairs with no one and no one pairs with it by distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from hub.matching.geo import GeoPoint, haversine_km
from hub.settings import Settings


@dataclass(frozen=True)
class Area:
    latitude: float
    longitude: float
    radius_km: float
    name: str = ""

    @property
    def centre(self) -> GeoPoint:
        return GeoPoint(self.latitude, self.longitude)


def own_area(settings: Settings) -> Area | None:
    """The hub's area from its settings; None when it publishes none (radius 0)."""
    if settings.area_radius_km <= 0:
        return None
    return Area(settings.area_latitude, settings.area_longitude, settings.area_radius_km,
                settings.area_name)


def area_document(area: Area) -> dict[str, Any]:
    """The `area` of the hub's actor: an ActivityStreams Place, radius in km (`ch:radius`)."""
    place: dict[str, Any] = {"type": "Place", "latitude": area.latitude,
                             "longitude": area.longitude, "radius": area.radius_km}
    if area.name:
        place["name"] = area.name
    return place


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def parse_area(value: Any) -> Area | None:
    """An `area` as another hub published it; None if absent or not a sensible Place."""
    if not isinstance(value, dict):
        return None
    lat, lon = _number(value.get("latitude")), _number(value.get("longitude"))
    radius = _number(value.get("radius"))
    if lat is None or lon is None or radius is None:
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180 and 0 < radius <= 500):
        return None
    name = value.get("name")
    return Area(lat, lon, radius, name[:200] if isinstance(name, str) else "")


def distance_km(a: GeoPoint, b: GeoPoint) -> float:
    return haversine_km(a, b)


def within_neighbourhood(own: Area | None, neighbourhood_km: float,
                         their: Area | None) -> bool:
    """The pairing rule: their area reaches into our neighbourhood circle."""
    if own is None or their is None:
        return False
    return distance_km(own.centre, their.centre) <= neighbourhood_km + their.radius_km
