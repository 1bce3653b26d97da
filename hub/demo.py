"""`commonhub demo`: a small network of hubs on loopback, in one process, to look around.

Each hub gets a place in south London, sample volunteers, events, a skill-share session and a
need. The hubs find each other from one seed (the first hub), then the first hub's need is
matched across hubs: a neighbour asks its volunteers, one says yes, the offer reaches the first
hub, whose staff accept it. The demo prints the URLs to open and runs until Ctrl-C.

Everything goes through the same factories and HTTP API as the tests and a real hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from hub.app import create_app
from hub.exchange import asking
from hub.mailsink import MailSink
from hub.neighbours.area import own_area, within_neighbourhood
from hub.runtime import Hub
from hub.settings import Settings
from hub.setup import init_hub
from hub.store import asks as ask_store
from hub.store import follows as follow_store
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import staff as staff_store
from hub.store import tokens
from hub.web.keys import HUB

MAX_HUBS = 10
CONVERGE_WITHIN = 90.0  # seconds the demo waits for discovery before going on
STAFF_NAME = "demo"
# (username, place, postcode district, latitude, longitude), about 2-5 km apart.
PLACES = (
    ("brixton", "Brixton", "SW9", 51.462, -0.114),
    ("clapham", "Clapham", "SW4", 51.461, -0.138),
    ("camberwell", "Camberwell", "SE5", 51.473, -0.091),
    ("kennington", "Kennington", "SE11", 51.489, -0.110),
    ("peckham", "Peckham", "SE15", 51.470, -0.065),
    ("dulwich", "Dulwich", "SE22", 51.452, -0.070),
    ("streatham", "Streatham", "SW16", 51.421, -0.128),
    ("battersea", "Battersea", "SW11", 51.464, -0.165),
    ("tooting", "Tooting", "SW17", 51.430, -0.165),
    ("vauxhall", "South Lambeth", "SW8", 51.476, -0.128),
)


class DemoError(Exception):
    """The demo cannot start or run; the message says why."""


@dataclass
class DemoHub:
    settings: Settings
    runner: web.AppRunner
    token: str
    district: str

    @property
    def hub(self) -> Hub:
        return self.runner.app[HUB]

    @property
    def base(self) -> str:
        return self.settings.base_url

    async def api(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession() as session, session.request(
                method, self.base + path, json=body, headers=headers) as response:
            data = await response.json(content_type=None)
            if response.status >= 300:
                raise DemoError(f"{method} {path} at {self.settings.name}: {data}")
            return data


def _day(offset: int) -> str:
    return (date.today() + timedelta(days=offset)).isoformat()


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def start_hubs(count: int, root: Path, *, interval: float = 3.0,
                     mail_port: int = 0) -> list[DemoHub]:
    """Initialise and serve `count` hubs; all but the first are seeded with the first."""
    if not 2 <= count <= MAX_HUBS:
        raise DemoError(f"--hubs is from 2 to {MAX_HUBS}")
    sockets = [_bound_socket() for _ in range(count)]
    ports = [s.getsockname()[1] for s in sockets]
    started: list[DemoHub] = []
    try:
        for i, (sock, (name, place, district, lat, lon)) in enumerate(zip(sockets, PLACES,
                                                                           strict=False)):
            seeds = "" if i == 0 else f"http://127.0.0.1:{ports[0]}/"
            settings = await init_hub(
                root / name, domain=f"127.0.0.1:{ports[i]}", name=name, dev=True,
                display_name=f"{place} Community Hub",
                summary=f"Activities, skill-shares and neighbourly help in {place}",
                area_name=place, area_latitude=lat, area_longitude=lon, area_radius_km=2.0,
                neighbourhood_radius_km=5.0, neighbour_seeds=seeds, discovery_interval=interval,
                discovery_rate=100.0, coordinator_name=f"{place} volunteering team",
                **({"smtp_host": "127.0.0.1", "smtp_port": mail_port, "smtp_security": "none"}
                   if mail_port else {}))
            app = create_app(settings)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.SockSite(runner, sock).start()
            token = secrets.token_urlsafe(16)
            await tokens.add_token(app[HUB].db, token, "demo")
            started.append(DemoHub(settings, runner, token, district))
    except BaseException:
        await stop_hubs(started)
        raise
    return started


async def stop_hubs(hubs: list[DemoHub]) -> None:
    for demo_hub in reversed(hubs):
        await demo_hub.runner.cleanup()


def expected_following(hubs: list[DemoHub], i: int) -> set[str]:
    me = hubs[i].settings
    return {h.hub.urls.actor for j, h in enumerate(hubs) if j != i and within_neighbourhood(
        own_area(me), me.neighbourhood_radius_km, own_area(h.settings))}


async def converged(hubs: list[DemoHub]) -> bool:
    """Every hub follows exactly the hubs the pairing rule names (accepted)."""
    for i, demo_hub in enumerate(hubs):
        rows = await follow_store.list_following(demo_hub.hub.db, limit=1000)
        if {r["actor_id"] for r in rows} != expected_following(hubs, i):
            return False
    return True


async def wait_for(check: Callable[[], Any], within: float, step: float = 0.2) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(step)
    return None


async def add_volunteers(demo_hub: DemoHub, index: int) -> None:
    """Two volunteers with an enhanced check, who agreed to be matched for neighbours."""
    name, place, district, lat, lon = PLACES[index]
    for first, skills in (("Ade", ["befriending", "gardening"]), ("Maya", ["befriending"])):
        volunteer = await demo_hub.api("POST", "/api/v1/volunteers", {
            "name": f"{first} {place}", "email": f"{first.lower()}.{name}@example.org",
            "district": district, "latitude": round(lat + 0.004, 3),
            "longitude": round(lon + 0.004, 3), "skills": skills, "languages": ["en"],
            "availability": {"tue": ["afternoon"], "sat": ["morning"]},
            "consents": {"match_here": True, "match_neighbours": True}})
        await demo_hub.api("POST", f"/api/v1/volunteers/{volunteer['id']}/checks", {
            "type": "dbs_enhanced_adult", "checked_on": _day(-60), "renewal_on": _day(700),
            "decision": "clear"})


async def add_sample_data(demo_hub: DemoHub, index: int) -> None:
    """An event, a skill-share session and (after the first hub) a need."""
    _, place, district, lat, lon = PLACES[index]
    venue = {"name": f"{place} Community Centre", "locality": place, "country": "GB",
             "latitude": lat, "longitude": lon}
    await demo_hub.api("POST", "/api/v1/events", {
        "title": f"{place} repair café", "timezone": "Europe/London",
        "start": f"{_day(2 + index % 5)}T10:00", "end": f"{_day(2 + index % 5)}T13:00",
        "place": venue, "description": "Bring something broken; leave with it mended."})
    await demo_hub.api("POST", "/api/v1/events", {
        "kind": "skillshare", "title": "Bike maintenance basics", "timezone": "Europe/London",
        "start": f"{_day(3 + index % 4)}T18:30", "end": f"{_day(3 + index % 4)}T20:00",
        "place": venue, "level": "beginner", "what_to_bring": "Your bike",
        "learning_outcome": "Fix a puncture and adjust your brakes"})
    if index:
        await demo_hub.api("POST", "/api/v1/needs", {
            "kind": "one_off", "title": "Help at the community garden",
            "description": "Weeding and watering the raised beds.", "on_date": _day(9),
            "start_time": "10:00", "end_time": "12:00", "skills": ["gardening"],
            "district": district, "latitude": round(lat, 2), "longitude": round(lon, 2)})


async def cross_hub_match(hubs: list[DemoHub]) -> str:
    """The first hub's befriending need, offered by a neighbour's volunteer and accepted."""
    home, neighbour = hubs[0], next(
        h for h in hubs[1:] if home_actor(hubs) in expected_following(hubs, hubs.index(h)))
    _, _, district, lat, lon = PLACES[0]
    need = await home.api("POST", "/api/v1/needs", {
        "kind": "regular", "title": "Weekly befriending",
        "description": "A retired nurse would enjoy a weekly chat and a cup of tea.",
        "private_notes": "Staff only: the neighbour's details stay at this hub.",
        "starts_on": _day(7), "slots": {"tue": ["afternoon"]}, "effort_minutes": 60,
        "skills": ["befriending"], "district": district, "latitude": round(lat, 2),
        "longitude": round(lon, 2)})
    arrived = await wait_for(lambda: need_store.get_remote_need(neighbour.hub.db, need["url"]),
                             30)
    if not arrived:
        return f"the need did not reach {neighbour.settings.name} in time"
    asked = await neighbour.api("POST", "/api/v1/neighbour-needs/asks",
                                {"need": need["url"], "count": 1})
    if not asked["items"]:
        return f"{neighbour.settings.name} had no eligible volunteer"
    stored = await ask_store.ask_by_uuid(neighbour.hub.db, asked["items"][0]["id"])
    if stored is None:
        return "the ask was not stored"
    await asking.answer(neighbour.hub, stored, True, via="web")  # the volunteer's "yes"
    need_row = await need_store.get_need(home.hub.db, need["id"])
    offers = await wait_for(lambda: offer_store.offers_for_need(home.hub.db, need_row.id), 30)
    if not offers:
        return f"no offer reached {home.settings.name} in time"
    await home.api("POST", f"/api/v1/offers/{offers[0].uuid}/accept", {})
    return (f"{home.settings.display_name}'s \"Weekly befriending\" need: a volunteer of "
            f"{neighbour.settings.display_name} said yes; the offer was accepted "
            f"(see {home.base}/console/needs).")


def home_actor(hubs: list[DemoHub]) -> str:
    return hubs[0].hub.urls.actor


def describe(hubs: list[DemoHub], password: str) -> list[str]:
    lines = []
    for demo_hub in hubs:
        s = demo_hub.settings
        lines += [f"  {s.display_name}: {demo_hub.base}/",
                  f"      near us: {demo_hub.base}/calendar/nearby  "
                  f"{demo_hub.base}/needs/nearby?near={demo_hub.district}",
                  f"      console: {demo_hub.base}/console/ (user {STAFF_NAME}, password "
                  f"{password})"]
    return lines


async def run_demo(count: int, root: Path, *, say: Callable[[str], None],
                   stop: asyncio.Event) -> None:
    started = time.monotonic()
    mailbox = MailSink()
    await mailbox.start()
    try:
        hubs = await start_hubs(count, root, mail_port=mailbox.port)
    except BaseException:
        await mailbox.stop()
        raise
    try:
        password = "hub-" + secrets.token_urlsafe(9)
        for demo_hub in hubs:
            await staff_store.add_staff(demo_hub.hub.db, STAFF_NAME, password, "coordinator")
        say(f"commonhub demo: {count} hubs on loopback, data in {root}")
        if await wait_for(lambda: converged(hubs), CONVERGE_WITHIN):
            follows = sum(len(expected_following(hubs, i)) for i in range(count))
            say(f"discovery: from one seed, every hub follows the hubs within its reach "
                f"({follows} follows), {time.monotonic() - started:.1f} s after they started")
        else:
            say("discovery: not every hub paired within the time allowed; it goes on")
        # Volunteers first, everywhere: each hub's matcher then knows them all when the
        # neighbours' needs arrive.
        for i, demo_hub in enumerate(hubs):
            await add_volunteers(demo_hub, i)
        for i, demo_hub in enumerate(hubs):
            await add_sample_data(demo_hub, i)
        say("sample data: volunteers, events, skill-share sessions and needs at every hub")
        say("match: " + await cross_hub_match(hubs))
        for line in describe(hubs, password):
            say(line)
        say(f"mail: the hubs sent {len(mailbox.messages)} message(s) to the demo's own "
            "mailbox (nothing leaves this machine)")
        say("Press Ctrl-C to stop.")
        await stop.wait()
    finally:
        await stop_hubs(hubs)
        await mailbox.stop()


def main(count: int, folder: str | None, say: Callable[[str], None]) -> str:
    """Run the demo until Ctrl-C or SIGTERM; a temporary folder is removed afterwards."""
    root = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="commonhub-demo-"))
    if folder and root.exists() and any(root.iterdir()):
        raise DemoError(f"{root} is not empty: give a new folder, or none for a temporary one")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run_demo(count, root, say=say, stop=stop)

    try:
        asyncio.run(run())
    finally:
        if not folder:
            with contextlib.suppress(OSError):
                shutil.rmtree(root)
    return "demo stopped"
