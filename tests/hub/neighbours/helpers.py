"""Hubs placed on a map, for the neighbourhood tests and the network bench."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from hub.matching.geo import GeoPoint, haversine_km
from hub.settings import Settings
from hub.store import follows as follow_store
from tests.support.hubs import RunningHub, free_socket, start_hub

ORIGIN = GeoPoint(51.5, -0.1)
KM_PER_DEGREE_LAT = 111.2


def place(x_km: float, y_km: float) -> GeoPoint:
    """The point `x_km` east and `y_km` north of ORIGIN."""
    lat = ORIGIN.lat + y_km / KM_PER_DEGREE_LAT
    lon = ORIGIN.lon + x_km / (KM_PER_DEGREE_LAT * math.cos(math.radians(ORIGIN.lat)))
    return GeoPoint(round(lat, 6), round(lon, 6))


@dataclass(frozen=True)
class Spot:
    """Where a hub sits and how far it reaches."""

    point: GeoPoint
    area_km: float = 2.0
    neighbourhood_km: float = 5.0


def expected_following(spots: list[Spot], i: int) -> set[int]:
    """The documented rule, computed here independently: j's area reaches i's
    neighbourhood."""
    me = spots[i]
    return {j for j, other in enumerate(spots) if j != i and
            haversine_km(me.point, other.point) <= me.neighbourhood_km + other.area_km}


def area_settings(spot: Spot, **extra: Any) -> dict[str, Any]:
    return {"area_latitude": spot.point.lat, "area_longitude": spot.point.lon,
            "area_radius_km": spot.area_km, "neighbourhood_radius_km": spot.neighbourhood_km,
            **extra}


async def start_placed(home: Path, name: str, spot: Spot,
                       prepare: Callable[[Settings], Awaitable[None]] | None = None,
                       **extra: Any) -> RunningHub:
    return await start_hub(home / name, name=name, prepare=prepare,
                           **area_settings(spot, area_name=f"{name} area", **extra))


async def accepted_following(running: RunningHub) -> set[str]:
    rows = await follow_store.list_following(running.hub.db, limit=10_000)
    return {r["actor_id"] for r in rows}


class Blackhole:
    """A TCP server that accepts connections and never answers (a hung peer)."""

    def __init__(self) -> None:
        self._sock = free_socket()
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}/"
        self.connections = 0
        self.open = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self._writers.append(writer)
        try:
            await reader.read(-1)  # until the client gives up
        finally:
            self.open -= 1

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._hold, sock=self._sock)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            for writer in self._writers:
                writer.close()
            await self._server.wait_closed()


class Recorder:
    """An HTTP server that records every request it gets and answers 404."""

    def __init__(self) -> None:
        self._sock = free_socket()
        self.authority = f"127.0.0.1:{self._sock.getsockname()[1]}"
        self.url = f"http://{self.authority}/"
        self.requests: list[tuple[str, str]] = []
        self._runner: aiohttp.web.AppRunner | None = None

    async def _any(self, request: aiohttp.web.Request) -> aiohttp.web.Response:
        self.requests.append((request.method, request.path_qs))
        return aiohttp.web.Response(status=404)

    async def start(self) -> None:
        app = aiohttp.web.Application()
        app.router.add_route("*", "/{tail:.*}", self._any)
        self._runner = aiohttp.web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await aiohttp.web.SockSite(self._runner, self._sock).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
