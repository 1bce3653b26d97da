"""The cross-hub round trip of bench/matching.py: need published -> offers received.

Real hubs on loopback in this process, as bench/matching.py's docstring describes. Set-up
(homes, follows, volunteers) is not timed; each round is.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import bound_socket, machine, port_of, serve
from hub.app import create_app
from hub.exchange import asking
from hub.exchange.targets import Target
from hub.mailsink import MailSink
from hub.runtime import Hub
from hub.setup import init_hub
from hub.store import needs as need_store
from hub.store import offers as offer_store
from hub.store import tokens
from hub.store import volunteers as volunteer_store
from hub.volunteers.model import CheckInput, Profile
from hub.web.keys import HUB

POLL = 0.002  # seconds between looks at a hub's store while waiting


@dataclass
class BenchHub:
    app: Any
    runner: Any
    base: str
    token: str

    @property
    def hub(self) -> Hub:
        return self.app[HUB]

    async def api(self, session: aiohttp.ClientSession, method: str, path: str,
                  json: Any = None) -> Any:
        async with session.request(method, self.base + path, json=json, headers={
                "Authorization": f"Bearer {self.token}"}) as response:
            body = await response.json(content_type=None)
            if response.status >= 400:
                raise RuntimeError(f"{method} {path}: {response.status} {body}")
            return body


async def _start(root: Path, index: int, smtp_port: int) -> BenchHub:
    sock = bound_socket()
    settings = await init_hub(root / f"h{index}", domain=f"127.0.0.1:{port_of(sock)}",
                              name=f"h{index}", dev=True, log_level="WARNING",
                              smtp_host="127.0.0.1", smtp_port=smtp_port, smtp_security="none")
    app = create_app(settings)
    runner = await serve(app, sock)
    token = f"bench-token-{index:02d}-0123456789"
    await tokens.add_token(app[HUB].db, token, "bench")
    return BenchHub(app, runner, settings.base_url, token)


async def _until(check: Any, what: str, within: float = 120.0) -> Any:
    deadline = time.monotonic() + within
    while not (result := await check()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        await asyncio.sleep(POLL)
    return result


async def _follow(session: aiohttp.ClientSession, a: BenchHub, b: BenchHub) -> None:
    await a.api(session, "POST", "/api/v1/following",
                {"target": f"@{b.hub.settings.name}@{b.hub.settings.domain}"})


async def _neighbours(session: aiohttp.ClientSession, home: BenchHub,
                      others: list[BenchHub]) -> None:
    await asyncio.gather(*(_follow(session, o, home) for o in others),
                         *(_follow(session, home, o) for o in others))

    async def all_accepted() -> bool:
        row = await home.hub.db.fetchval("SELECT count(*) FROM following WHERE state = "
                                         "'accepted'")
        rows = [await o.hub.db.fetchval("SELECT count(*) FROM following WHERE state = "
                                        "'accepted'") for o in others]
        return row == len(others) and all(r == 1 for r in rows)

    await _until(all_accepted, "the follows to be accepted")


async def _volunteers(hub: Hub, count: int, rng: random.Random) -> None:
    today = date.today()
    for n in range(count):
        profile = Profile(
            name=f"Volunteer {n}", email=f"v{n}@example.org", district="IG1",
            latitude=round(51.55 + rng.uniform(-0.05, 0.05), 2),
            longitude=round(0.07 + rng.uniform(-0.08, 0.08), 2),
            skills=("befriending",) if rng.random() < 0.5 else (),
            languages=("en",), availability={"tue": ("afternoon",)} if rng.random() < 0.6
            else {"wed": ("morning",)}, max_commitments=2,
            consents={"match_here": True, "match_neighbours": rng.random() < 0.6,
                      "contact_by_dm": False})
        stored = await volunteer_store.add_volunteer(hub.db, profile)
        if rng.random() < 0.5:  # some lapsed: checked up to 900 days ago, valid 1-3 years
            checked = today - timedelta(days=rng.randrange(30, 900))
            await volunteer_store.add_check(hub.db, stored.id, CheckInput(
                "dbs_enhanced_adult", checked, checked + timedelta(days=rng.randrange(365, 1095)),
                "clear"))


def _need(round_no: int) -> dict[str, Any]:
    return {"kind": "regular", "title": f"Weekly befriending {round_no}",
            "description": "A weekly chat and a cup of tea.",
            "starts_on": (date.today() + timedelta(days=7)).isoformat(),
            "slots": {"tue": ["afternoon"]}, "skills": ["befriending"],
            "checks_required": ["dbs_enhanced_adult"], "district": "IG1",
            "latitude": 51.5588, "longitude": 0.0712}


async def _ask_and_answer(session: aiohttp.ClientSession, neighbour: BenchHub,
                          need_url: str) -> str:
    """Staff ask their best candidate (ranking included); the volunteer says yes on their page."""
    remote = await need_store.get_remote_need(neighbour.hub.db, need_url)
    assert remote is not None
    asked = await asking.ask_top(neighbour.hub, Target(remote), 1, asked_by="staff")
    if not asked:
        raise RuntimeError(f"{neighbour.base}: nobody eligible to ask")
    async with session.post(asked[0].link, data={"answer": "yes"},
                            headers={"Origin": neighbour.base}) as response:
        await response.read()
    return asked[0].link


async def _round(session: aiohttp.ClientSession, home: BenchHub, others: list[BenchHub],
                 round_no: int) -> dict[str, float]:
    start = time.perf_counter()
    need = await home.api(session, "POST", "/api/v1/needs", _need(round_no))
    published = time.perf_counter()

    async def everywhere() -> bool:
        found = await asyncio.gather(*(need_store.get_remote_need(o.hub.db, need["url"])
                                       for o in others))
        return all(found)

    await _until(everywhere, "the need at every neighbour")
    received = time.perf_counter()
    await asyncio.gather(*(_ask_and_answer(session, o, need["url"]) for o in others))
    answered = time.perf_counter()
    row = await need_store.get_need(home.hub.db, need["id"])
    assert row is not None

    async def all_offers() -> bool:
        return len(await offer_store.offers_for_need(home.hub.db, row.id)) >= len(others)

    await _until(all_offers, "every neighbour's offer")
    done = time.perf_counter()
    return {"published (POST answered)": published - start,
            "need stored at every neighbour": received - start,
            "asked and answered yes everywhere": answered - start,
            "every offer verified and stored": done - start}


async def run_round_trips(hub_count: int, per_hub: int, rounds: int) -> None:
    rng = random.Random(7)
    smtp = MailSink()  # asks go by email: a mail server on loopback that keeps what it gets
    await smtp.start()
    with tempfile.TemporaryDirectory(prefix="commonhub-bench-matching-") as tmp:
        started = [await _start(Path(tmp), i, smtp.port) for i in range(hub_count)]
        home, others = started[0], started[1:]
        try:
            async with aiohttp.ClientSession() as session:
                setup = time.perf_counter()
                await _neighbours(session, home, others)
                for other in others:
                    await _volunteers(other.hub, per_hub, rng)
                setup = time.perf_counter() - setup
                results = [await _round(session, home, others, n) for n in range(rounds)]
        finally:
            for running in reversed(started):
                await running.runner.cleanup()
            await smtp.stop()
    for key, value in machine():
        print(f"{key:24} {value}")
    print(f"hubs                     {hub_count} on loopback in one process (1 publishing, "
          f"{hub_count - 1} neighbours, {per_hub} volunteers each); set-up {setup:.1f} s")
    print(f"rounds                   {rounds} needs, one after another; seconds from the "
          "start of each round (median, max):")
    for stage in results[0]:
        values = [r[stage] * 1000 for r in results]
        print(f"  {stage:36} {statistics.median(values):8.0f} ms {max(values):8.0f} ms")
