"""A network of hubs in one process on loopback: how fast discovery converges, and how fast a
need reaches the neighbours and draws offers.

    .venv/bin/python bench/network.py                 # 100 hubs on a 10 x 10 grid, ~10 min
    .venv/bin/python bench/network.py --hubs 16 --interval 3 --limit 120   # ~1 min

The hubs sit on a square grid `--spacing` km apart, each with a 1.5 km area and a 3 km
neighbourhood, so a hub pairs with the (up to 8) hubs around it. Every hub is seeded with the
hub in the middle of the grid and walks every `--interval` seconds. The bench samples, once a
second, how many of the follows the pairing rule calls for are accepted (and any it does not),
until every hub follows exactly its neighbours. Then the middle hub posts a need; the bench
times its arrival at every hub following it, then asks one volunteer at each neighbouring hub,
answers yes for them, and times the offers' arrival back at the middle hub.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import secrets
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import bound_socket, machine, port_of, print_pairs, print_table, watchdog
from hub.app import create_app
from hub.exchange import asking
from hub.mailsink import MailSink
from hub.neighbours.area import own_area, within_neighbourhood
from hub.runtime import Hub
from hub.setup import init_hub
from hub.store import asks as ask_store
from hub.store import follows as follow_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import tokens
from hub.web.keys import HUB

ORIGIN = (51.45, -0.15)
KM_PER_DEGREE = 111.2


@dataclass
class BenchHub:
    runner: web.AppRunner
    token: str

    @property
    def hub(self) -> Hub:
        return self.runner.app[HUB]

    async def api(self, session: aiohttp.ClientSession, method: str, path: str,
                  body: Any = None) -> Any:
        async with session.request(method, self.hub.settings.base_url + path, json=body,
                                   headers={"Authorization": f"Bearer {self.token}"}) as r:
            data = await r.json(content_type=None)
            if r.status >= 300:
                raise RuntimeError(f"{method} {path}: {r.status} {data}")
            return data


def point(i: int, side: int, spacing: float) -> tuple[float, float]:
    x, y = (i % side) * spacing, (i // side) * spacing
    lat = ORIGIN[0] + y / KM_PER_DEGREE
    lon = ORIGIN[1] + x / (KM_PER_DEGREE * math.cos(math.radians(ORIGIN[0])))
    return round(lat, 6), round(lon, 6)


async def start(count: int, spacing: float, interval: float, root: Path,
                initialised: list[float], mail_port: int) -> list[BenchHub]:
    side = math.ceil(math.sqrt(count))
    centre = (side // 2) * side + side // 2 if count == side * side else count // 2
    sockets = [bound_socket() for _ in range(count)]
    seed = f"http://127.0.0.1:{port_of(sockets[centre])}/"
    settings = []
    for i, sock in enumerate(sockets):
        lat, lon = point(i, side, spacing)
        settings.append(await init_hub(
            root / f"h{i}", domain=f"127.0.0.1:{port_of(sock)}", name=f"h{i}", dev=True,
            area_latitude=lat, area_longitude=lon, area_radius_km=1.5,
            neighbourhood_radius_km=3.0, neighbour_seeds="" if i == centre else seed,
            discovery_interval=interval, discovery_rate=50.0, discovery_depth=12,
            discovery_concurrency=4, sqlite_synchronous="NORMAL",
            # Volunteers are asked by email (a hub asks only those it can reach): to a sink.
            smtp_host="127.0.0.1", smtp_port=mail_port, smtp_security="none"))
    initialised.append(time.monotonic())
    hubs = []
    for s, sock in zip(settings, sockets, strict=True):
        app = create_app(s)
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        await web.SockSite(runner, sock, backlog=1024).start()
        token = secrets.token_urlsafe(16)
        await tokens.add_token(app[HUB].db, token, "bench")
        hubs.append(BenchHub(runner, token))
    hubs.insert(0, hubs.pop(centre))  # the middle hub first
    return hubs


def expected(hubs: list[BenchHub]) -> list[set[str]]:
    areas = [own_area(h.hub.settings) for h in hubs]
    return [{h.hub.urls.actor for j, h in enumerate(hubs) if j != i and within_neighbourhood(
        areas[i], hubs[i].hub.settings.neighbourhood_radius_km, areas[j])}
        for i in range(len(hubs))]


async def follow_counts(hubs: list[BenchHub], want: list[set[str]]) -> tuple[int, int]:
    """(follows the rule calls for that are accepted, follows it does not call for)."""
    good = extra = 0
    for h, wanted in zip(hubs, want, strict=True):
        rows = await follow_store.list_following(h.hub.db, limit=10_000)
        have = {r["actor_id"] for r in rows}
        good += len(have & wanted)
        extra += len(have - wanted)
    return good, extra


async def converge(hubs: list[BenchHub], limit: float,
                   t0: float) -> tuple[list[tuple[float, float]], float | None]:
    want = expected(hubs)
    total = sum(len(w) for w in want)
    curve: list[tuple[float, float]] = []
    while time.monotonic() - t0 < limit:
        good, extra = await follow_counts(hubs, want)
        now = time.monotonic() - t0
        curve.append((now, good / total))
        if len(curve) % 10 == 1:
            print(f"  {now:6.1f} s: {good}/{total} follows accepted, {extra} not called for",
                  flush=True)
        if good == total and extra == 0:
            return curve, now
        await asyncio.sleep(1.0)
    return curve, None


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


async def need_and_offers(hubs: list[BenchHub], limit: float) -> list[tuple[str, str]]:
    want = expected(hubs)
    home = hubs[0]
    followers = [h for h, w in zip(hubs, want, strict=True) if home.hub.urls.actor in w]
    mutual = [h for h in followers if h.hub.urls.actor in want[0]]
    async with aiohttp.ClientSession() as session:
        for h in mutual:
            s = h.hub.settings
            await h.api(session, "POST", "/api/v1/volunteers", {
                "name": "Sam Gardener", "email": f"sam@{s.name}.example", "district": "SW9",
                "latitude": s.area_latitude, "longitude": s.area_longitude,
                "skills": ["gardening"], "languages": ["en"],
                "availability": {"sat": ["morning"]},
                "consents": {"match_here": True, "match_neighbours": True}})
        s = home.hub.settings
        posted = time.monotonic()
        need = await home.api(session, "POST", "/api/v1/needs", {
            "kind": "one_off", "title": "Help at the community garden", "on_date": _day(12),
            "start_time": "10:00", "end_time": "12:00", "skills": ["gardening"],
            "volunteers_wanted": len(mutual) or 1, "district": "SW9",
            "latitude": round(s.area_latitude, 2), "longitude": round(s.area_longitude, 2)})
        reached = None
        while time.monotonic() - posted < limit:
            held = [await need_store.get_remote_need(h.hub.db, need["url"]) for h in followers]
            if all(held):
                reached = time.monotonic() - posted
                break
            await asyncio.sleep(0.05)
        if reached is None:
            return [("need reached its followers", f"not within {limit:.0f} s")]
        for h in mutual:
            asked = await h.api(session, "POST", "/api/v1/neighbour-needs/asks",
                                {"need": need["url"], "count": 1})
            for item in asked["items"]:
                stored = await ask_store.ask_by_uuid(h.hub.db, item["id"])
                if stored is not None:
                    await asking.answer(h.hub, stored, True, via="web")
        row = await need_store.get_need(home.hub.db, need["id"])
        offered = None
        while time.monotonic() - posted < limit:
            if len(await offer_store.offers_for_need(home.hub.db, row.id)) >= len(mutual):
                offered = time.monotonic() - posted
                break
            await asyncio.sleep(0.05)
    return [("hubs following the need's hub", str(len(followers))),
            ("need at every one of them after", f"{reached * 1000:.0f} ms"),
            ("neighbouring hubs asked (mutual follows)", str(len(mutual))),
            ("all their offers back after (from posting)",
             "not in time" if offered is None else f"{offered * 1000:.0f} ms")]


def svg(curve: list[tuple[float, float]], count: int, converged: float | None) -> str:
    """A hand-written SVG line chart of the share of the rule's follows accepted over time."""
    w, h, left, bottom, top, right = 640, 360, 60, 40, 30, 20
    tmax = max(t for t, _ in curve) or 1.0
    step = 10 ** math.floor(math.log10(tmax)) if tmax >= 1 else 1
    xs = lambda t: left + (w - left - right) * t / tmax  # noqa: E731
    ys = lambda f: top + (h - top - bottom) * (1 - f)  # noqa: E731
    path = " ".join(f"{'M' if n == 0 else 'L'}{xs(t):.1f},{ys(f):.1f}"
                    for n, (t, f) in enumerate(curve))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
             f'font-family="sans-serif" font-size="12">',
             f'<rect width="{w}" height="{h}" fill="white"/>',
             f'<text x="{left}" y="18">Discovery: share of the pairing rule\'s follows '
             f'accepted, {count} hubs</text>']
    for f in (0, 0.25, 0.5, 0.75, 1.0):
        parts.append(f'<line x1="{left}" x2="{w - right}" y1="{ys(f):.1f}" y2="{ys(f):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{left - 8}" y="{ys(f) + 4:.1f}" text-anchor="end">'
                     f'{int(f * 100)}%</text>')
    t = 0.0
    while t <= tmax + 1e-9:
        parts.append(f'<text x="{xs(t):.1f}" y="{h - bottom + 16}" text-anchor="middle">'
                     f'{t:g}</text>')
        t += step
    parts.append(f'<text x="{(w + left) / 2:.0f}" y="{h - 6}" text-anchor="middle">'
                 'seconds since the first hub started</text>')
    parts.append(f'<path d="{path}" fill="none" stroke="#1f5fbf" stroke-width="2"/>')
    if converged is not None:
        parts.append(f'<line x1="{xs(converged):.1f}" x2="{xs(converged):.1f}" y1="{top}" '
                     f'y2="{h - bottom}" stroke="#2e7d32" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{xs(converged) - 4:.1f}" y="{top + 14}" text-anchor="end" '
                     f'fill="#2e7d32">converged at {converged:.0f} s</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


async def main(args: argparse.Namespace) -> str | None:
    """Run the bench; returns the convergence plot (SVG) when `--svg` asks for it."""
    logging.basicConfig(level=logging.ERROR)
    print_pairs("machine", machine())
    with tempfile.TemporaryDirectory(prefix="bench-network-") as folder:
        began, initialised = time.monotonic(), []
        mailbox = MailSink()
        await mailbox.start()
        hubs = await start(args.hubs, args.spacing, args.interval, Path(folder), initialised,
                           mailbox.port)
        began = initialised[0]  # the clock starts as the first hub starts serving
        started = time.monotonic() - began
        try:
            curve, converged = await converge(hubs, args.limit, began)
            want = expected(hubs)
            rows = [("hubs", args.hubs), ("follows the rule calls for",
                                          sum(len(w) for w in want)),
                    ("seconds to start serving them all (after init)", f"{started:.1f}"),
                    ("walk interval (s)", args.interval),
                    ("discovery converged after (s, from the first start)",
                     "not within the limit" if converged is None else f"{converged:.1f}")]
            for share in (0.5, 0.9, 0.99):
                at = next((t for t, f in curve if f >= share), None)
                rows.append((f"{share:.0%} of follows accepted after (s)",
                             "-" if at is None else f"{at:.1f}"))
            print_table("discovery", ["figure", "value"], rows)
            if converged is not None:
                print_table("a need from the middle hub", ["figure", "value"],
                            await need_and_offers(hubs, args.need_limit))
            return svg(curve, args.hubs, converged) if args.svg else None
        finally:
            for h in reversed(hubs):
                await h.runner.cleanup()
            await mailbox.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hubs", type=int, default=100)
    parser.add_argument("--spacing", type=float, default=3.0, help="km between grid points")
    parser.add_argument("--interval", type=float, default=20.0, help="seconds between walks")
    parser.add_argument("--limit", type=float, default=480.0,
                        help="seconds discovery may take before the bench gives up")
    parser.add_argument("--need-limit", type=float, default=180.0,
                        help="seconds the need and its offers may take")
    parser.add_argument("--svg", help="write the convergence plot (SVG) here")
    arguments = parser.parse_args()
    watchdog(arguments.limit + 2 * arguments.need_limit + 300)
    plot = asyncio.run(main(arguments))
    if plot is not None:
        Path(arguments.svg).write_text(plot, encoding="utf-8")
        print(f"\nconvergence plot written to {arguments.svg}")
