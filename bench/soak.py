"""Soak: signed deliveries at 80% of the measured capacity for minutes, staff pages alongside.

    .venv/bin/python bench/soak.py [--minutes 3] [--capacity-seconds 15] [--concurrency 32]
                                   [--staff-interval 0.2] [--actors 50]

What runs where (2 cores shared by everything):

* The hub is a real `commonhub serve` process (a home made by `init_hub` in dev mode,
  SQLite synchronous=FULL on disk), so its memory is its own and measured from
  /proc/PID/status (VmRSS).
* This process is the fediverse and the staff: it signs each delivery just before sending
  it (RSA-2048, draft-cavage, a Mastodon-shaped `Create{Note}` with a new id each time, from
  `--actors` remote actors on ten hosts, registered in the hub beforehand as if fetched),
  in two signing threads, and posts it to the shared inbox over kept-alive connections. A
  staff member, logged in to the console (real login form, CSRF token, session cookie),
  loads the console's pages one after another with `--staff-interval` seconds between.

First the capacity: deliveries as fast as `--concurrency` connections go, for
`--capacity-seconds` (after a warm-up). Then the soak: deliveries sent on a fixed schedule at
80% of that rate (open loop: a slow answer does not slow the schedule; at most 1,000 in
flight), for `--minutes`. Every answer is checked: a delivery must get 202, a staff page 200,
and anything else (or an exception) is an error. The hub's RSS is sampled every 5 s; the
slope is a least-squares fit over the soak after its first fifth (start-up caches filling).
The inbox processor runs as in production and handles the `Create`s (ignored: the hub
follows nobody), so `inbound` rows accumulate on disk as they would.

Exit status 0 when there was no error and memory stayed flat (slope under 2% of the RSS per
minute); 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp
import orjson

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    bound_socket,
    busy_warning,
    machine,
    port_of,
    print_pairs,
    print_table,
    watchdog,
)
from bench.inbox import register_actors
from bench.inbox_load import INBOX_PATH, actor_url, make_keys, mastodon_create
from federation.keys import SigningKey, public_key_to_pem
from federation.signatures import sign_request
from hub.settings import Settings
from hub.setup import init_hub
from hub.store import staff as staff_store
from hub.store.db import Database

SHARE = 0.8  # of the measured capacity
MAX_IN_FLIGHT = 1000
RSS_EVERY = 5.0
FLAT = 0.02  # RSS growth per minute, as a share of the RSS, that still counts as flat
STAFF_PAGES = ("/console/", "/console/events", "/console/events/new")
STAFF_USER, STAFF_PASSWORD = "coordinator", "correct horse battery staple"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass(frozen=True)
class Options:
    minutes: float
    capacity_seconds: float
    concurrency: int
    staff_interval: float
    actors: int


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    sent: int = 0

    def record(self, outcome: str, ok: bool) -> None:
        self.statuses[outcome] += 1
        if not ok and len(self.errors) < 20:
            self.errors.append(outcome)

    @property
    def error_count(self) -> int:
        return sum(n for outcome, n in self.statuses.items() if outcome not in ("202", "200"))


class Deliveries:
    """Signs and posts `Create`s, each with a new id, from the registered actors."""

    def __init__(self, base_url: str, keys: list[SigningKey], actors: int) -> None:
        self.url = base_url + INBOX_PATH
        self.hub_actor = f"{base_url}/actors/hub"
        self.keys, self.actors = keys, actors
        self.signer = ThreadPoolExecutor(2, thread_name_prefix="sign")  # RSA releases the GIL
        self.next = 0

    def _sign(self, n: int) -> tuple[bytes, dict[str, str]]:
        body = orjson.dumps(mastodon_create(self.actors, n, self.hub_actor))
        headers = {"Content-Type": "application/activity+json"}
        return body, sign_request("POST", self.url, headers, body, self.keys[n % self.actors])

    async def send(self, session: aiohttp.ClientSession, tally: Tally) -> None:
        n, self.next = self.next, self.next + 1
        tally.sent += 1
        loop = asyncio.get_running_loop()
        try:
            body, headers = await loop.run_in_executor(self.signer, self._sign, n)
            async with session.post(self.url, data=body, headers=headers) as response:
                await response.read()
                tally.record(str(response.status), response.status == 202)
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.record(f"{type(exc).__name__}", False)


async def measure_capacity(deliveries: Deliveries, session: aiohttp.ClientSession,
                           opts: Options) -> float:
    """Closed loop: `concurrency` senders as fast as answers come; 202s per second."""
    tally = Tally()
    stop_at = time.monotonic() + 3.0 + opts.capacity_seconds
    counted: list[int] = []

    async def sender() -> None:
        while time.monotonic() < stop_at:
            await deliveries.send(session, tally)

    async def clock() -> None:
        await asyncio.sleep(3.0)  # warm-up: connections, caches, JIT-less Python warming
        counted.append(tally.statuses["202"])
        await asyncio.sleep(opts.capacity_seconds)
        counted.append(tally.statuses["202"])

    await asyncio.gather(clock(), *(sender() for _ in range(opts.concurrency)))
    if tally.error_count:
        raise SystemExit(f"errors while measuring capacity: {tally.errors}")
    return (counted[1] - counted[0]) / opts.capacity_seconds


async def paced(deliveries: Deliveries, session: aiohttp.ClientSession, rate: float,
                seconds: float, tally: Tally) -> float:
    """Open loop at `rate` a second for `seconds`; returns the seconds it actually took."""
    start = time.monotonic()
    in_flight: set[asyncio.Task[None]] = set()
    total = int(rate * seconds)
    for i in range(total):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        while len(in_flight) >= MAX_IN_FLIGHT:
            await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        task = asyncio.create_task(deliveries.send(session, tally))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight)
    return time.monotonic() - start


async def staff_client(base_url: str, interval: float, stop: asyncio.Event, tally: Tally,
                       latencies: list[float]) -> None:
    """A coordinator logged in to the console, loading its pages one after another."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP-address host
    async with aiohttp.ClientSession(cookie_jar=jar, headers={"Accept": "text/html"}) as web:
        async with web.get(f"{base_url}/console/login") as response:
            token = _CSRF.search(await response.text())
        assert token, "no CSRF token on the login page"
        form = {"csrf_token": token[1], "username": STAFF_USER, "password": STAFF_PASSWORD}
        async with web.post(f"{base_url}/console/login", data=form,
                            allow_redirects=False) as response:
            if response.status != 303:
                raise SystemExit(f"console login answered {response.status}")
        n = 0
        while not stop.is_set():
            path = STAFF_PAGES[n % len(STAFF_PAGES)]
            n += 1
            started = time.perf_counter()
            try:
                async with web.get(base_url + path, allow_redirects=False) as response:
                    await response.read()
                    latencies.append(time.perf_counter() - started)
                    tally.record(str(response.status), response.status == 200)
            except (aiohttp.ClientError, TimeoutError) as exc:
                tally.record(type(exc).__name__, False)
            await asyncio.sleep(interval)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


async def sample_rss(pid: int, stop: asyncio.Event, samples: list[tuple[float, int]]) -> None:
    start = time.monotonic()
    while not stop.is_set():
        samples.append((time.monotonic() - start, rss_kib(pid)))
        try:
            await asyncio.wait_for(stop.wait(), RSS_EVERY)
        except TimeoutError:
            pass
    samples.append((time.monotonic() - start, rss_kib(pid)))


def slope_kib_per_minute(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time, after the first fifth of the samples."""
    kept = samples[len(samples) // 5:]
    if len(kept) < 2:
        return 0.0
    mean_t = sum(t for t, _ in kept) / len(kept)
    mean_r = sum(r for _, r in kept) / len(kept)
    num = sum((t - mean_t) * (r - mean_r) for t, r in kept)
    den = sum((t - mean_t) ** 2 for t, _ in kept)
    return num / den * 60 if den else 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


async def prepare(home: Path, port: int, opts: Options) -> tuple[Settings, list[SigningKey]]:
    settings = await init_hub(home, domain=f"127.0.0.1:{port}", name="hub", dev=True,
                              port=port, log_level="WARNING",
                              inbox_rate_limit=1_000_000)  # ten hosts send it all: see docs
    keys = make_keys(opts.actors)
    await register_actors(settings, [(actor_url(i), k.key_id, public_key_to_pem(k.private_key))
                                     for i, k in enumerate(keys)])
    db = await Database.open(settings.database_path)
    try:
        await staff_store.add_staff(db, STAFF_USER, STAFF_PASSWORD, role="coordinator")
    finally:
        await db.close()
    return settings, keys


async def until_serving(base_url: str, hub: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if hub.poll() is not None:
                raise SystemExit(f"the hub exited with {hub.returncode}")
            try:
                async with session.get(f"{base_url}/actor") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise SystemExit("the hub did not start")


def pending_inbound(path: Path) -> tuple[int, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        total, pending = db.execute(
            "SELECT count(*), sum(state = 'pending') FROM inbound").fetchone()
    return int(total), int(pending or 0)


def start_hub(home: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMMONHUB_")}
    return subprocess.Popen([sys.executable, "-m", "hub", "serve", "--home", str(home)],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=env)


async def soak(opts: Options, home: Path) -> int:
    sock = bound_socket()
    port = port_of(sock)
    sock.close()  # the hub binds it itself
    settings, keys = await prepare(home, port, opts)
    log = (home / "serve.log").open("wb")
    hub = start_hub(home, log)
    try:
        await until_serving(settings.base_url, hub)
        connector = aiohttp.TCPConnector(limit=opts.concurrency * 4)
        timeout = aiohttp.ClientTimeout(total=60)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            deliveries = Deliveries(settings.base_url, keys, opts.actors)
            capacity = await measure_capacity(deliveries, session, opts)
            rate = SHARE * capacity
            print_pairs("Capacity", [
                ("deliveries answered 202", f"{capacity:,.0f}/s over {opts.capacity_seconds:g} s "
                                            f"({opts.concurrency} connections, closed loop)"),
                ("soak rate", f"{rate:,.0f}/s ({SHARE:.0%}) for {opts.minutes:g} min"),
            ])
            sys.stdout.flush()
            result = await run_soak(deliveries, session, settings, hub.pid, rate, opts)
    finally:
        hub.send_signal(signal.SIGTERM)
        try:
            hub.wait(30)
        except subprocess.TimeoutExpired:
            hub.kill()
        log.close()
    if result:
        print_first_error(home / "serve.log")
    return result


def print_first_error(log: Path) -> None:
    """The hub's first logged error, to say what the errors were."""
    lines = log.read_text(errors="replace").splitlines()
    for n, line in enumerate(lines):
        if " ERROR " in line or line.startswith("Traceback"):
            print("\nThe hub's log, from its first error:")
            print("\n".join(f"  {text}" for text in lines[n:n + 40]))
            return


async def run_soak(deliveries: Deliveries, session: aiohttp.ClientSession, settings: Settings,
                   pid: int, rate: float, opts: Options) -> int:
    inbox, staff = Tally(), Tally()
    latencies: list[float] = []
    samples: list[tuple[float, int]] = []
    stop = asyncio.Event()
    monitors = [asyncio.create_task(staff_client(settings.base_url, opts.staff_interval, stop,
                                                 staff, latencies)),
                asyncio.create_task(sample_rss(pid, stop, samples))]
    took = await paced(deliveries, session, rate, opts.minutes * 60, inbox)
    stop.set()
    await asyncio.gather(*monitors)
    stored, pending = pending_inbound(settings.database_path)
    slope = slope_kib_per_minute(samples)
    first, last = samples[0][1], samples[-1][1]
    return report(opts, rate, took, inbox, staff, latencies, samples, slope, stored, pending,
                  first, last)


def report(opts: Options, rate: float, took: float, inbox: Tally, staff: Tally,
           latencies: list[float], samples: list[tuple[float, int]], slope: float,
           stored: int, pending: int, first: int, last: int) -> int:
    print_pairs("Soak", [
        ("deliveries sent", f"{inbox.sent:,} in {took:,.0f} s ({inbox.sent / took:,.0f}/s; "
                            f"target {rate:,.0f}/s)"),
        ("delivery answers", dict(inbox.statuses).__repr__()),
        ("inbound rows afterwards", f"{stored:,} ({pending:,} still pending processing)"),
        ("staff page loads", f"{len(latencies):,}, answers {dict(staff.statuses)}"),
        ("staff latency", f"p50 {percentile(latencies, 0.5) * 1000:.0f} ms, "
                          f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
                          f"p99 {percentile(latencies, 0.99) * 1000:.0f} ms, "
                          f"max {max(latencies, default=0) * 1000:.0f} ms"),
    ])
    every = max(1, len(samples) // 12)
    print_table("Hub RSS over the soak", ["seconds", "RSS MiB"],
                [(f"{t:.0f}", f"{r / 1024:.1f}") for t, r in samples[::every]])
    flat = abs(slope) <= FLAT * last
    errors = inbox.error_count + staff.error_count
    print_pairs("Result", [
        ("errors", f"{errors} (deliveries {inbox.error_count}, staff {staff.error_count})"
                   + (f": first {(inbox.errors + staff.errors)[:5]}" if errors else "")),
        ("RSS", f"{first / 1024:.1f} MiB at the start, {last / 1024:.1f} MiB at the end"),
        ("RSS slope", f"{slope / 1024:+.2f} MiB/min after the first fifth "
                      f"({'flat' if flat else 'GROWING'}: limit ±{FLAT:.0%} of RSS a minute)"),
    ])
    return 0 if errors == 0 and flat else 1


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="length of the soak")
    parser.add_argument("--capacity-seconds", type=float, default=15.0,
                        help="timed seconds of the capacity measurement")
    parser.add_argument("--concurrency", type=int, default=32,
                        help="connections while measuring capacity")
    parser.add_argument("--staff-interval", type=float, default=0.2,
                        help="seconds between two staff page loads")
    parser.add_argument("--actors", type=int, default=50, help="remote actors (keys)")
    a = parser.parse_args(argv)
    if not 0 < a.minutes <= 60:
        parser.error("--minutes must be between 0 and 60")
    return Options(a.minutes, a.capacity_seconds, a.concurrency, a.staff_interval, a.actors)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    print_pairs("Machine", machine())
    warning = busy_warning()
    if warning:
        print(f"  {warning}")
    watchdog(opts.minutes * 60 + opts.capacity_seconds + 180)
    with tempfile.TemporaryDirectory(prefix="commonhub-soak-") as tmp:
        return asyncio.run(soak(opts, Path(tmp) / "hub"))


if __name__ == "__main__":
    sys.exit(main())
