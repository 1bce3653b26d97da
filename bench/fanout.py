"""Fan-out rate: one post delivered to many loopback inboxes by the real `DeliveryWorker`,
beside the raw RSA-2048 signing rate measured in the same run.

    .venv/bin/python bench/fanout.py [--reps 7] [--receivers raw|aiohttp] [--latency 0]

Two scenarios, each a news post published with `hub.services.posts.create_post` (post row,
`Create{Note}`, `follower_inboxes`, `enqueue`) and delivered by a `DeliveryWorker` built as
`hub.app` builds it (guarded `DeliveryClient`, `SqliteDeliveryStore`, host health, the hub's
settings: 200 in flight, 8 per host, 2 signing threads) over a real SQLite file:

* (a) 1,000 followers, each with its own inbox, spread over 50 receiving hosts;
* (b) 10,000 followers on 200 shared inboxes, one per host: 200 deliveries.

Receivers (`bench/receivers.py`): servers answering 202 on many loopback ports (a distinct
host:port is a distinct host, so the per-host limit applies as it would), counting every
POST by inbox and activity and verifying one signature in `--verify-every`. They run in a
separate process, so they do not share the deliverer's event loop; on a 2-core machine they
still share its CPU, which a real remote server never does. So by default they are minimal
asyncio servers (`raw`), which take about a third of what aiohttp apps take (`--receivers
aiohttp`, the default of the rounds before the third); their CPU per delivery is reported.

The rate is deliveries divided by the time from the first claim of the post's jobs (the
first signing starts then) to the commit of the last outcome. The denominator of the ratio
is the best raw signing rate (`sign_bytes` over a signing string, in the worker's number of
threads) measured before and after the deliveries, with the receivers idle.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    LOOPBACK,
    busy_warning,
    filesystem_of,
    machine,
    machine_busy,
    median,
    print_pairs,
    print_table,
    thread_cpu,
    watchdog,
)
from bench.receivers import Control, ReceiverConfig, start_receivers
from federation.delivery import DeliveryJob, DeliveryWorker
from federation.http1 import DeliveryClient
from federation.keys import SigningKey, sign_bytes
from federation.signatures import sign_request
from hub.runtime import Hub, open_hub, user_agent
from hub.services.posts import create_post
from hub.settings import Settings
from hub.setup import init_hub
from hub.store.db import Database
from hub.store.deliveries import SqliteDeliveryStore
from hub.store.hosts import SqliteHostHealth

GOAL = 0.50  # deliveries/s as a share of the best raw signing rate
REP_LIMIT = 60.0  # longest one fan-out may take before the bench gives up
SIGNING_SECONDS = 1.0  # per raw signing measurement
PROBE_SECONDS = 0.4  # the raw rate measured again before each rep


@dataclass(frozen=True)
class Options:
    reps: int
    inboxes: int
    hosts: int
    followers: int
    shared: int
    latency: float
    verify_every: int
    receivers: str


@dataclass(frozen=True)
class Scenario:
    name: str
    followers: list[tuple[str, str, str | None]]  # (actor id, inbox, shared inbox)

    @property
    def inboxes(self) -> set[str]:
        return {shared or inbox for _, inbox, shared in self.followers}


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=7, help="posts delivered per scenario")
    parser.add_argument("--inboxes", type=int, default=1000, help="(a) distinct inboxes")
    parser.add_argument("--hosts", type=int, default=50, help="(a) hosts they are on")
    parser.add_argument("--followers", type=int, default=10_000, help="(b) followers")
    parser.add_argument("--shared", type=int, default=200, help="(b) shared inboxes (hosts)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="seconds each receiver waits before answering")
    parser.add_argument("--verify-every", type=int, default=10,
                        help="receivers verify the signature of one POST in this many")
    parser.add_argument("--receivers", choices=("raw", "aiohttp"), default="raw",
                        help="the receiving servers (see bench/receivers.py)")
    a = parser.parse_args(argv)
    return Options(a.reps, a.inboxes, a.hosts, a.followers, a.shared, a.latency,
                   max(1, a.verify_every), a.receivers)


# The deliverer's side ----------------------------------------------------------------------

class TimedStore(SqliteDeliveryStore):
    """The real store, noting when a fan-out's jobs are first claimed and when the last
    outcome is committed (each outcome call returns only after its commit)."""

    def __init__(self, db: Database) -> None:
        super().__init__(db)
        self.expect(0)

    def expect(self, count: int) -> None:
        self._target, self._recorded = count, 0
        self.first_claim: float | None = None
        self.last_outcome = 0.0
        self.finished = asyncio.Event()

    async def due(self, now: float, limit: int, exclude: Any,
                  exclude_hosts: Any = ()) -> list[DeliveryJob]:
        jobs = await super().due(now, limit, exclude, exclude_hosts)
        if jobs and self.first_claim is None:
            self.first_claim = time.perf_counter()
        return jobs

    async def succeeded(self, job_id: int, status: int) -> None:
        await super().succeeded(job_id, status)
        self._note()

    async def retry(self, job_id: int, attempts: int, next_attempt_at: float,
                    status: int | None, error: str) -> None:
        await super().retry(job_id, attempts, next_attempt_at, status, error)
        self._note()

    async def failed(self, job_id: int, status: int | None, error: str) -> None:
        await super().failed(job_id, status, error)
        self._note()

    def _note(self) -> None:
        self._recorded += 1
        if self._recorded >= self._target:
            self.last_outcome = time.perf_counter()
            self.finished.set()


async def make_worker(hub: Hub, store: TimedStore) -> tuple[DeliveryWorker, DeliveryClient]:
    """The worker as `hub.app` builds it (same settings and client), over the bench's store."""
    s = hub.settings
    client = DeliveryClient(allow_loopback=s.dev, allow_private=s.allow_private_addresses)
    health = SqliteHostHealth(hub.db)
    await health.load()
    worker = DeliveryWorker(
        store, client, hub.keyring.signing_key,
        max_attempts=s.delivery_max_attempts, backoff_cap=s.delivery_backoff_cap,
        concurrency=s.delivery_concurrency, per_host=s.delivery_per_host,
        timeout=s.delivery_timeout, user_agent=user_agent(s),
        scheme=s.delivery_signature, host_health=health)
    return worker, client


def scenario_distinct(ports: list[int], inboxes: int) -> Scenario:
    followers = []
    for i in range(inboxes):
        actor = f"http://{LOOPBACK}:{ports[i % len(ports)]}/users/u{i}"
        followers.append((actor, f"{actor}/inbox", None))
    return Scenario(f"(a) {inboxes:,} inboxes on {len(ports)} hosts", followers)


def scenario_shared(ports: list[int], followers: int) -> Scenario:
    rows = []
    for i in range(followers):
        base = f"http://{LOOPBACK}:{ports[i % len(ports)]}"
        rows.append((f"{base}/users/f{i}", f"{base}/users/f{i}/inbox", f"{base}/inbox"))
    return Scenario(f"(b) {followers:,} followers on {len(ports)} shared inboxes", rows)


async def set_followers(db: Database, scenario: Scenario) -> None:
    """Make the scenario's actors the hub's only (accepted) followers, in one transaction."""
    now = time.time()

    def write(conn: Any) -> None:
        conn.execute("DELETE FROM followers")
        conn.executemany(
            "INSERT OR REPLACE INTO remote_actors (id, type, domain, inbox, shared_inbox, "
            "document, fetched_at) VALUES (?, 'Person', ?, ?, ?, '{}', ?)",
            [(a, a.split("/")[2], inbox, shared, now) for a, inbox, shared in scenario.followers])
        conn.executemany(
            "INSERT INTO followers (actor_id, follow_id, state, created_at, accepted_at) "
            "VALUES (?, ?, 'accepted', ?, ?)",
            [(a, f"{a}/follows/1", now, now) for a, _, _ in scenario.followers])

    await db.run_in_writer(write)


@dataclass
class Rep:
    outbox_id: int
    activity_id: str
    deliveries: int
    publish: float  # seconds `create_post` took: post row, follower query, enqueue
    elapsed: float  # first claim to last committed outcome
    cpu: float  # CPU seconds of this (deliverer) process over the rep
    receiver_cpu: float  # CPU seconds of the receivers' process over the rep
    others: float = 0.0  # cores other processes (and the hypervisor) took meanwhile
    raw_now: float = 0.0  # raw signing rate (worker's threads) measured just before
    threads: dict[str, float] = field(default_factory=dict)  # CPU s: loop, signing, other

    @property
    def rate(self) -> float:
        return self.deliveries / self.elapsed if self.elapsed else 0.0


@dataclass
class Outcome:
    scenario: Scenario
    reps: list[Rep]
    states: dict[str, int]  # delivery rows of these posts by state


async def fan_out(hub: Hub, store: TimedStore, expected: int, control: Control,
                  probe: Callable[[], float]) -> Rep:
    """Publish one post to the followers and wait until every outcome is committed."""
    raw_now = probe()  # the denominator again, right beside this rep: load drifts
    store.expect(expected)
    by_thread = thread_cpu()
    receiver_cpu, busy = await control.cpu(), machine_busy()
    cpu, start = time.process_time(), time.perf_counter()
    await create_post(hub, "The repair café needs one more volunteer on Saturday.")
    publish = time.perf_counter() - start
    await asyncio.wait_for(store.finished.wait(), REP_LIMIT)
    cpu = time.process_time() - cpu
    receiver_cpu = await control.cpu() - receiver_cpu
    others = (machine_busy() - busy - cpu - receiver_cpu) / (time.perf_counter() - start)
    row = await hub.db.fetchone("SELECT id, activity_id FROM outbox ORDER BY id DESC LIMIT 1")
    assert row is not None and store.first_claim is not None
    return Rep(row[0], row[1], expected, publish, store.last_outcome - store.first_claim, cpu,
               receiver_cpu, max(0.0, others), raw_now, thread_groups(by_thread, thread_cpu()))


def thread_groups(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds between two `thread_cpu()` readings: the event loop (main thread), the
    worker's signing threads, and the rest (SQLite connection threads)."""
    groups = {"loop": 0.0, "signing": 0.0, "other": 0.0}
    for name, seconds in after.items():
        group = ("loop" if name.startswith("MainThread#") else
                 "signing" if name.startswith("sign") else "other")
        groups[group] += seconds - before.get(name, 0.0)
    return groups


async def run_scenario(hub: Hub, scenario: Scenario, reps: int, control: Control,
                       probe: Callable[[], float]) -> Outcome:
    await set_followers(hub.db, scenario)
    store = TimedStore(hub.db)
    worker, client = await make_worker(hub, store)
    hub.wake_delivery = worker.wake
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_forever(stop))
    try:
        done = [await fan_out(hub, store, len(scenario.inboxes), control, probe)
                for _ in range(reps)]
    finally:
        stop.set()
        worker.wake()
        await asyncio.wait_for(task, 30)
        await worker.close()
        await client.close()
        await store.flush()
    ids = ",".join(str(rep.outbox_id) for rep in done)
    rows = await hub.db.fetchall(
        f"SELECT state, count(*) FROM deliveries WHERE outbox_id IN ({ids}) GROUP BY state")
    return Outcome(scenario, done, {r[0]: r[1] for r in rows})


def signing_rate(sign: Callable[[], object], threads: int, seconds: float) -> float:
    """Signatures per second with `threads` threads signing flat out for `seconds`."""
    deadline = time.perf_counter() + seconds

    def loop(_: int) -> int:
        count = 0
        while time.perf_counter() < deadline:
            sign()
            count += 1
        return count

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        total = sum(pool.map(loop, range(threads)))
    return total / (time.perf_counter() - start)


def signing_message(key: SigningKey, inbox: str, body: bytes) -> bytes:
    """~300 bytes, the size of a draft-cavage signing string."""
    return sign_request("POST", inbox, {"Content-Type": "application/activity+json"},
                        body, key)["Signature"].encode()[:300]


def signing_rates(key: SigningKey, inbox: str, body: bytes, threads: int) -> dict[str, float]:
    """Raw RSA (`sign_bytes`) and whole `sign_request`, one thread and `threads`."""
    message = signing_message(key, inbox, body)
    headers = {"Content-Type": "application/activity+json"}
    kinds: dict[str, Callable[[], object]] = {
        "raw": lambda: sign_bytes(key.private_key, message),
        "sign_request": lambda: sign_request("POST", inbox, headers, body, key),
    }
    busy, cpu, wall = machine_busy(), time.process_time(), time.perf_counter()
    rates = {f"{kind} {n}": signing_rate(fn, n, SIGNING_SECONDS)
             for kind, fn in kinds.items() for n in sorted({1, threads})}
    own = time.process_time() - cpu
    rates["other cores"] = max(0.0, (machine_busy() - busy - own) / (time.perf_counter() - wall))
    return rates


def worker_signing_threads() -> int:
    """The worker's signing pool size: `hub.app` keeps `DeliveryWorker`'s default."""
    return int(inspect.signature(DeliveryWorker).parameters["signing_threads"].default)


def check_receipts(outcome: Outcome, seen: dict[str, dict[str, int]]) -> list[str]:
    """Problems, if any: an inbox that got a post other than exactly once, or a row not done."""
    problems = []
    expected = outcome.scenario.inboxes
    for rep in outcome.reps:
        got = seen.get(rep.activity_id, {})
        missing, extra = expected - set(got), set(got) - expected
        twice = [inbox for inbox, count in got.items() if count != 1]
        if missing or extra or twice:
            problems.append(f"{rep.activity_id}: {len(missing)} inboxes missed, "
                            f"{len(extra)} unexpected, {len(twice)} not exactly once")
    total = len(expected) * len(outcome.reps)
    if outcome.states != {"done": total}:
        problems.append(f"delivery rows by state: {outcome.states}, expected {total} done")
    return problems


def report_signing(before: dict[str, float], after: dict[str, float],
                   threads: int) -> tuple[float, float]:
    """Print the signing rates; returns the best raw rate overall and with one thread."""
    rows = [(kind, f"{before[f'{kind} 1']:,.0f}", f"{before[f'{kind} {threads}']:,.0f}",
             f"{after[f'{kind} 1']:,.0f}", f"{after[f'{kind} {threads}']:,.0f}")
            for kind in ("raw", "sign_request")]
    print_table(f"RSA-2048 signatures per second (1 thread / {threads} threads)",
                ["signing", "before 1", f"before {threads}", "after 1", f"after {threads}"],
                rows)
    print("  raw = sign_bytes over a ~300-byte signing string; sign_request adds the digest"
          " of the body and the headers")
    print(f"  other processes took {before['other cores']:.2f} cores before, "
          f"{after['other cores']:.2f} after")
    return (max(table[f"raw {n}"] for table in (before, after) for n in (1, threads)),
            max(table["raw 1"] for table in (before, after)))


def report_fanout(outcomes: list[Outcome], best_raw: float, best_single: float) -> None:
    rows = []
    for outcome in outcomes:
        for n, rep in enumerate(outcome.reps, 1):
            per = {k: v / rep.deliveries * 1e6 for k, v in rep.threads.items()}
            rows.append((outcome.scenario.name[:3], n, rep.deliveries, rep.publish * 1000,
                         rep.rate, rep.raw_now, f"{rep.rate / rep.raw_now:.0%}",
                         rep.cpu / rep.elapsed, rep.cpu / rep.deliveries * 1e6, per["loop"],
                         per["signing"], per["other"], rep.receiver_cpu / rep.deliveries * 1e6,
                         rep.others))
    print_table("Fan-out: one post, first claim to last committed outcome",
                ["scenario", "rep", "deliveries", "publish ms", "deliveries/s", "raw now/s",
                 "vs raw now", "deliverer cores", "µs CPU/delivery", "loop", "signing",
                 "sqlite", "receivers", "other cores"], rows)
    print(f"  raw now = sign_bytes with {worker_signing_threads()} threads for "
          f"{PROBE_SECONDS:g} s just before the rep; µs CPU/delivery = the deliverer process,"
          " split by thread into loop (event loop), signing (the worker's pool) and sqlite;"
          " receivers = the receivers' process")
    best_raw = max([best_raw, *(rep.raw_now for o in outcomes for rep in o.reps)])
    sign_us = 1e6 / best_single
    pairs = []
    for outcome in outcomes:
        rate = median([rep.rate for rep in outcome.reps])
        paired = median([rep.rate / rep.raw_now for rep in outcome.reps])
        cpu_us = median([rep.cpu / rep.deliveries * 1e6 for rep in outcome.reps])
        verdict = "met" if rate / best_raw >= GOAL else "MISSED"
        pairs.append((outcome.scenario.name,
                      f"{rate:,.0f} deliveries/s (median of {len(outcome.reps)}) = "
                      f"{rate / best_raw:.0%} of the best raw signing rate; goal >= {GOAL:.0%}: "
                      f"{verdict} (median of the per-rep ratios: {paired:.0%})"))
        pairs.append(("  CPU per delivery", f"{cpu_us:,.0f} µs against {sign_us:,.0f} µs per "
                                            f"raw signature ({sign_us / cpu_us:.0%})"))
        pairs.append(("  one thread's rate", f"{rate / best_single:.0%} of the best one-thread "
                                             f"rate ({best_single:,.0f}/s; no verdict: see "
                                             "docs/performance.md on the denominator)"))
    pairs.append(("raw signing (denominator)",
                  f"{best_raw:,.0f}/s: the best sign_bytes rate seen in this run, 1 or "
                  f"{worker_signing_threads()} threads (before, after, or beside a rep)"))
    print_pairs("Result", pairs)


def report_checks(outcomes: list[Outcome], tally: dict[str, Any]) -> bool:
    problems = [p for outcome in outcomes for p in check_receipts(outcome, tally["seen"])]
    sent = sum(rep.deliveries for outcome in outcomes for rep in outcome.reps)
    print(f"\nChecks: receivers got {tally['requests']:,} POSTs for {sent:,} deliveries, over "
          f"{tally['connections']:,} connections; "
          f"signatures verified {tally['verified']:,}, refused {tally['refused']:,} "
          f"(one POST in every few checked)")
    for problem in problems:
        print(f"  PROBLEM: {problem}")
    if not problems:
        print("  every inbox got each post exactly once; every delivery row is done")
    return not problems and tally["refused"] == 0 and tally["requests"] == sent


async def measure(opts: Options, hub: Hub, ports: list[int], control: Control,
                  ) -> tuple[list[Outcome], dict[str, float], dict[str, float]]:
    threads = worker_signing_threads()
    key = hub.keyring.signing_key("hub")
    body = orjson.dumps({"id": "https://hub.example/activities/1", "type": "Create",
                         "content": "x" * 600})
    inbox = f"http://{LOOPBACK}:{ports[0]}/inbox"
    message = signing_message(key, inbox, body)

    def probe() -> float:
        return signing_rate(lambda: sign_bytes(key.private_key, message), threads, PROBE_SECONDS)

    before = signing_rates(key, inbox, body, threads)
    outcomes = [
        await run_scenario(hub, scenario_distinct(ports[:opts.hosts], opts.inboxes),
                           opts.reps, control, probe),
        await run_scenario(hub, scenario_shared(ports[opts.hosts:], opts.followers),
                           opts.reps, control, probe),
    ]
    after = signing_rates(key, inbox, body, threads)
    return outcomes, before, after


async def run(opts: Options, time_limit: float) -> int:
    with tempfile.TemporaryDirectory(prefix="commonhub-bench-fanout-") as tmp:
        settings = await init_hub(Path(tmp) / "hub", domain="hub.bench.example", name="hub",
                                  dev=True)
        async with open_hub(settings) as hub:
            config = ReceiverConfig(
                hosts=opts.hosts + opts.shared, key_id=hub.urls.key_id, owner=hub.urls.actor,
                public_pem=hub.keyring.public_pem("hub"), verify_every=opts.verify_every,
                latency=opts.latency, server=opts.receivers, time_limit=time_limit)
            process, ports = start_receivers(config)
            control = Control(ports[-1])
            try:
                print_setup(opts, settings, Path(tmp))
                outcomes, before, after = await measure(opts, hub, ports[:-1], control)
                tally = await control.tally()
            finally:
                await control.stop()
                process.join(10)
    best_raw, best_single = report_signing(before, after, worker_signing_threads())
    report_fanout(outcomes, best_raw, best_single)
    return 0 if report_checks(outcomes, tally) else 1


def print_setup(opts: Options, settings: Settings, tmp: Path) -> None:
    print_pairs("Set-up", [
        ("hub database", f"{settings.database_path} ({filesystem_of(tmp)}, "
                         f"synchronous={settings.sqlite_synchronous})"),
        ("worker", f"DeliveryWorker as hub.app builds it: {settings.delivery_concurrency} in "
                   f"flight, {settings.delivery_per_host} per host, "
                   f"{worker_signing_threads()} signing threads, {settings.delivery_signature}"),
        ("receivers", f"{opts.receivers} servers on {opts.hosts + opts.shared} loopback ports"
                      f" in one separate process; 202 after {opts.latency * 1000:g} ms; "
                      f"verify 1 POST in {opts.verify_every}"),
        ("reps", f"{opts.reps} posts per scenario; rep 1 opens the connections"),
    ])


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    print_pairs("Machine", machine())
    warning = busy_warning()
    if warning:
        print(f"  {warning}")
    time_limit = 60 + 2 * opts.reps * REP_LIMIT / 10 + 8 * SIGNING_SECONDS
    watchdog(time_limit + 20)
    return asyncio.run(run(opts, time_limit))


if __name__ == "__main__":
    sys.exit(main())
