"""Distances between coarse points, cheap enough to run over a whole volunteer pool.

Hubs cover a town or a city, so an equirectangular projection around one reference latitude
is within 0.1% of the great-circle distance at these scales (under 50 km), and it turns each
distance into two subtractions and a square root over coordinates projected once.
"""

from __future__ import annotations

import math
from typing import NamedTuple

EARTH_RADIUS_KM = 6371.0088


class GeoPoint(NamedTuple):
    """A coarse point (degrees), already rounded by the hub before it reaches the matcher."""

    lat: float
    lon: float


def project(point: GeoPoint, ref_lat_rad: float) -> tuple[float, float]:
    """The point in kilometres on a plane tangent at `ref_lat_rad` (x east, y north)."""
    x = EARTH_RADIUS_KM * math.radians(point.lon) * math.cos(ref_lat_rad)
    return x, EARTH_RADIUS_KM * math.radians(point.lat)


def equirectangular_km(a: GeoPoint, b: GeoPoint) -> float:
    """The approximate distance in kilometres, projected around the two points' mid-latitude."""
    ref = math.radians((a.lat + b.lat) / 2)
    ax, ay = project(a, ref)
    bx, by = project(b, ref)
    return math.hypot(ax - bx, ay - by)


def haversine_km(a: GeoPoint, b: GeoPoint) -> float:
    """The great-circle distance in km: the reference the approximation is tested against."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat, dlon = lat2 - lat1, math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))
