"""Inbox receipt rate: signed, verified, durably stored deliveries per second, beside a bare
aiohttp JSON handler, measured the same way in the same run.

    .venv/bin/python bench/inbox.py [--seconds 3] [--concurrency 32,256] [--rounds 3]
                                    [--client raw|aiohttp] [--processor on|off] [--breakdown]
                                    [--store sqlite|none]

What runs where (2 cores shared by everything):

* This process serves, one at a time, a bare aiohttp app (read the body, `orjson.loads`,
  answer 202) and the real hub (`create_app` over a hub home made by `init_hub` in dev mode,
  SQLite with synchronous=FULL on a disk file system), each on a pre-bound loopback socket.
* A load-generator process (multiprocessing, spawn) makes the fake remote actors' RSA-2048
  keys, signs every request before any timing (a distinct Mastodon-shaped `Create{Note}`
  each, draft-cavage headers from `federation.signatures.sign_request`), and then fires them
  over kept-alive connections (`bench/loadgen.py`): the same requests, the same client, the
  same concurrency for both servers. The bare server gets the requests round and round; the
  hub gets each request once, so every 202 is a new row.
* The remote actors and their keys are put in `remote_actors` before the run, as if fetched
  earlier; the hub's key lookup then keeps them in memory.

Each server is measured under each load of `--concurrency` (kept-alive connections: 32 and 256
by default), bare and hub side by side at each load, and the goal compares their capacities:
each server's best median rate over the loads. A bare handler is CPU-bound with a few dozen
connections and loses a little with more; a hub that answers only after an fsync'd group
commit needs more requests in flight to use its CPU (Little's law: 32 connections at ~16 ms
a request cannot exceed 2,000/s). The ratio at each single load is printed too.

The client is the raw one by default: aiohttp's client costs more CPU per request than the
bare server does, so on 2 cores it, not the server, sets the bare rate (and flatters the
ratio); `--client aiohttp` shows that.

The hub answers 202 once the activity is verified and committed; processing (dispatching the
`Create`, which is ignored because the hub follows nobody) runs off the request path in the
hub's `InboxProcessor`, which is left running during the timed runs, as in production
(`--processor off` stops it). Before each bare run the bench waits for the processor to
finish the backlog, so the bare server never competes with it. `--breakdown` adds two
servers per round to show where the hub's CPU goes: `InboxReceiver` alone with a store that
keeps nothing, and with the real store but without the app around it. `--store none` is an
experiment, not a result: the whole hub with its inbound insert made a no-op (202 without
storing anything), to show what the durable insert costs the request path.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.common import (
    bound_socket,
    busy_warning,
    filesystem_of,
    machine,
    machine_busy,
    median,
    port_of,
    print_pairs,
    print_table,
    processes_cpu,
    serve,
    watchdog,
)
from bench.inbox_load import INBOX_PATH, GeneratorConfig, activity_id, generator_main
from bench.loadgen import Shot
from federation.inbox import InboxProcessor, InboxReceiver
from hub.app import create_app
from hub.services.actors import parse_actor
from hub.settings import Settings
from hub.setup import init_hub
from hub.store import inbound
from hub.store.actors import RemoteActor, upsert_actor
from hub.store.db import Database
from hub.store.inbound import SqliteInboundStore
from hub.web.keys import HUB, INBOX

GOAL = 0.35  # the hub's rate as a share of the bare handler's
# Requests signed per second of hub load: above what the hub reaches on our 2-core machines,
# so the pool should not run dry; if it does, the run ends early (the table says "all sent")
# and the rate stays true. Signing costs ~0.5 ms a request here, so this bounds the set-up.
SIGN_CEILING_PER_SECOND = 3000
DRAIN_LIMIT = 60.0  # longest wait for the inbox processor to finish a backlog
DRAIN_POLL = 0.05
STORING = ("verify+store", "hub")  # servers that write rows to `inbound`


@dataclass(frozen=True)
class Options:
    seconds: float
    concurrency: tuple[int, ...]  # the loads, in kept-alive connections
    rounds: int
    actors: int
    warmup: float
    client: str
    processor: bool
    breakdown: bool
    settings: dict[str, Any]  # hub settings to change (--set), e.g. inbox_verifiers=0
    store: bool = True  # --store none: the hub's inbound insert keeps nothing


def parse_args(argv: list[str] | None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per run")
    parser.add_argument("--concurrency", type=_loads, default=(32, 256),
                        help="kept-alive connections: one load or several, e.g. 32,256")
    parser.add_argument("--rounds", type=int, default=3, help="bare-then-hub rounds")
    parser.add_argument("--actors", type=int, default=50, help="fake remote actors (keys)")
    parser.add_argument("--warmup", type=float, default=0.5, help="untimed seconds per run")
    parser.add_argument("--client", choices=("raw", "aiohttp"), default="raw",
                        help="load generator client (see bench/loadgen.py)")
    parser.add_argument("--processor", choices=("on", "off"), default="on",
                        help="run the hub's inbox processor during the runs")
    parser.add_argument("--breakdown", action="store_true",
                        help="also time the receipt path alone (no store) and with the store "
                             "but outside the app; implies --processor off")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a hub setting for this run, e.g. inbox_verifiers=0 (repeatable)")
    parser.add_argument("--store", choices=("sqlite", "none"), default="sqlite",
                        help="none: an experiment, the hub's inbound insert keeps nothing "
                             "(no verdict is given)")
    a = parser.parse_args(argv)
    if a.store == "none" and a.breakdown:
        parser.error("--store none and --breakdown do not go together")
    return Options(a.seconds, a.concurrency, a.rounds, a.actors, a.warmup, a.client,
                   a.processor == "on" and not a.breakdown, a.breakdown,
                   dict(_setting(text, parser) for text in a.set), a.store == "sqlite")


def _loads(text: str) -> tuple[int, ...]:
    try:
        loads = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not loads or min(loads) < 1:
        raise argparse.ArgumentTypeError("each load needs at least one connection")
    return loads


def _setting(text: str, parser: argparse.ArgumentParser) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        parser.error(f"--set takes NAME=VALUE, not {text!r}")
    for kind in (int, float):
        try:
            return name, kind(value)
        except ValueError:
            pass
    return name, value


# The server's side --------------------------------------------------------------------------

@dataclass
class Run:
    server: str  # "bare" | "verify" | "verify+store" | "hub"
    shot: Shot
    server_cpu: float  # CPU seconds this (server) process used, warm-up included
    warmup: float
    others: float  # cores other processes (and the hypervisor) took meanwhile
    round: int = 0
    concurrency: int = 0
    processed: int = 0  # inbound rows the processor finished while the run lasted
    drain: float = 0.0  # seconds the processor then took to finish the backlog

    @property
    def server_cores(self) -> float:
        return self.server_cpu / (self.shot.elapsed + self.warmup)

    @property
    def client_cores(self) -> float:
        return self.shot.client_cpu / self.shot.elapsed

    @property
    def cpu_per_request(self) -> float:
        """Server CPU microseconds per 202, warm-up included (and, for the hub, its inbox
        processor's share): unlike the rate, barely moved by other processes' load."""
        return self.server_cpu / max(1, len(self.shot.accepted)) * 1e6


async def bare_inbox(request: web.Request) -> web.Response:
    orjson.loads(await request.read())
    return web.Response(status=202)


def bare_app() -> web.Application:
    app = web.Application()
    app.router.add_post(INBOX_PATH, bare_inbox)
    return app


def remote_actor(actor_id: str, key_id: str, pem: str) -> RemoteActor:
    """The actor as the hub would have stored it after fetching its document."""
    host = actor_id.split("/")[2]
    document = {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": actor_id, "type": "Person", "preferredUsername": actor_id.rsplit("/", 1)[1],
        "inbox": f"{actor_id}/inbox", "endpoints": {"sharedInbox": f"https://{host}/inbox"},
        "publicKey": {"id": key_id, "owner": actor_id, "publicKeyPem": pem},
    }
    return parse_actor(document)


async def register_actors(settings: Settings, actors: list[tuple[str, str, str]]) -> None:
    db = await Database.open(settings.database_path, synchronous=settings.sqlite_synchronous)
    try:
        for actor_id, key_id, pem in actors:
            await upsert_actor(db, remote_actor(actor_id, key_id, pem))
    finally:
        await db.close()


async def _idle_processor(self: InboxProcessor, stop: asyncio.Event) -> None:
    await stop.wait()  # --processor off: stored rows stay pending


async def pending(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM inbound WHERE state = 'pending'"))


async def drain(db: Database) -> float:
    """Wait (bounded) until the processor has handled every stored row; returns seconds."""
    start = time.perf_counter()
    for _ in range(int(DRAIN_LIMIT / DRAIN_POLL)):
        if not await pending(db):
            break
        await asyncio.sleep(DRAIN_POLL)
    return time.perf_counter() - start


class Runner:
    """Sends fire commands to the generator and times the server side of each run."""

    def __init__(self, conn: Connection, opts: Options) -> None:
        self._conn, self._opts = conn, opts
        self.helpers: Callable[[], list[int]] = list  # the hub's verifier processes

    def _cpu(self) -> tuple[float, dict[int, float]]:
        return time.process_time(), processes_cpu(self.helpers())

    async def receive(self) -> Any:
        # A blocking recv in a thread: this event loop stays free to serve.
        return await asyncio.get_running_loop().run_in_executor(None, self._conn.recv)

    async def fire(self, server: str, url: str, concurrency: int) -> Run:
        (cpu, helpers), busy, wall = self._cpu(), machine_busy(), time.perf_counter()
        once = server in STORING  # a stored activity id is only new once
        self._conn.send(("fire", url, self._opts.seconds, self._opts.warmup, once,
                         concurrency))
        shot: Shot = await self.receive()
        (cpu_after, helpers_after), wall = self._cpu(), time.perf_counter() - wall
        # The server's CPU: this process, and the hub's verifier processes (started during
        # the run or before it), which do the signature checks.
        cpu = cpu_after - cpu + sum(t - helpers.get(pid, 0.0)
                                    for pid, t in helpers_after.items())
        others = (machine_busy() - busy - cpu - shot.total_cpu) / wall
        return Run(server, shot, cpu, self._opts.warmup, max(0.0, others),
                   concurrency=concurrency)

    async def hub_run(self, url: str, db: Database, processor: bool, concurrency: int) -> Run:
        before = await pending(db)
        run = await self.fire("hub", url, concurrency)
        run.processed = before + len(run.shot.accepted) - await pending(db)
        if processor:
            run.drain = await drain(db)
        return run


class _NoStore:
    """An `InboundStore` whose `add` keeps nothing: the receipt path without its write."""

    async def add(self, activity_id: str, actor_id: str, body: bytes) -> bool:
        return True


def receiver_app(hub_app: web.Application, settings: Settings, store: Any) -> web.Application:
    """`InboxReceiver` alone on a route: no middlewares, no processor (for --breakdown)."""
    hub = hub_app[HUB]
    receiver = InboxReceiver(store, hub.actors.key_lookup, base_url=settings.base_url,
                             max_body=settings.max_body_bytes, window=settings.signature_window)
    app = web.Application()
    app.router.add_post(INBOX_PATH, receiver.handle)
    return app


async def serve_all(opts: Options, settings: Settings, bare_sock: Any, hub_sock: Any,
                    ) -> tuple[web.Application, list[tuple[str, str, web.AppRunner]]]:
    """Start the servers of a round, in the order they are measured."""
    hub_app = create_app(settings)
    hub_runner = await serve(hub_app, hub_sock)  # first: the others use its key lookup
    servers = [("bare", bare_sock, await serve(bare_app(), bare_sock))]
    if opts.breakdown:
        db = hub_app[HUB].db
        for name, store in (("verify", _NoStore()), ("verify+store", SqliteInboundStore(db))):
            sock = bound_socket()
            servers.append((name, sock, await serve(receiver_app(hub_app, settings, store),
                                                    sock)))
    servers.append(("hub", hub_sock, hub_runner))
    return hub_app, [(name, f"http://127.0.0.1:{port_of(sock)}", runner)
                     for name, sock, runner in servers]


async def measure(opts: Options, runner: Runner, settings: Settings,
                  bare_sock: Any, hub_sock: Any) -> list[Run]:
    """Rounds of: the bare server, [the breakdown servers], the hub (then its backlog)."""
    if not opts.processor:
        InboxProcessor.run_forever = _idle_processor  # type: ignore[method-assign]
    if not opts.store:
        SqliteInboundStore.add = _NoStore.add  # type: ignore[method-assign,assignment]
    hub_app, servers = await serve_all(opts, settings, bare_sock, hub_sock)
    verifier = hub_app[INBOX].verifier
    if verifier is not None:
        runner.helpers = verifier.pids
    runs = []
    try:
        for n in range(opts.rounds):
            for load in opts.concurrency:  # each load: every server, side by side
                for name, url, _ in servers:
                    run = await (runner.hub_run(url, hub_app[HUB].db, opts.processor, load)
                                 if name == "hub" else runner.fire(name, url, load))
                    run.round = n + 1
                    runs.append(run)
    finally:
        for _, _, server in reversed(servers):
            await server.cleanup()
    return runs


async def stored_rows(settings: Settings) -> tuple[set[str], dict[str, int]]:
    """Every activity id in `inbound`, read afresh after the hub has shut down."""
    db = await Database.open(settings.database_path)
    try:
        ids = {row[0] for row in await db.fetchall("SELECT activity_id FROM inbound")}
        return ids, await inbound.counts(db)
    finally:
        await db.close()


def report_runs(runs: list[Run]) -> None:
    rows = []
    for run in runs:
        shot = run.shot
        others = {s: c for s, c in {**shot.statuses, **shot.warmup}.items() if s != 202}
        seconds = f"{shot.elapsed:.2f}{' (all sent)' if shot.exhausted else ''}"
        rows.append((run.server, run.concurrency, run.round, shot.rate, shot.statuses[202],
                     seconds, str(others or "-"), run.client_cores, run.server_cores,
                     run.cpu_per_request, run.others))
    print_table("Inbox POSTs answered 202 (timed part of each run)",
                ["server", "conns", "round", "202/s", "202s", "seconds", "non-202",
                 "client cores", "server cores", "server µs CPU/202", "other cores"], rows)
    print("  cores = CPU seconds per second: client over the timed part, server and other"
          " processes over warm-up and timed part")


def capacity(runs: list[Run], server: str) -> tuple[float, int]:
    """A server's best median rate over the loads, and the load it was reached at."""
    loads = sorted({r.concurrency for r in runs})
    medians = [(median([r.shot.rate for r in runs
                        if r.server == server and r.concurrency == load]), load)
               for load in loads]
    return max(medians)


def report_ratio(opts: Options, runs: list[Run]) -> None:
    rates = {(r.server, r.round, r.concurrency): r.shot.rate for r in runs}
    rows = []
    for load in opts.concurrency:
        bare = median([r.shot.rate for r in runs if r.server == "bare" and r.concurrency == load])
        hub = median([r.shot.rate for r in runs if r.server == "hub" and r.concurrency == load])
        pairs = [rates["hub", n, load] / rates["bare", n, load]
                 for n in range(1, opts.rounds + 1) if rates["bare", n, load]]
        rows.append((load, bare, hub, f"{hub / bare:.0%}" if bare else "-",
                     ", ".join(f"{p:.0%}" for p in pairs)))
    print_table(f"Under each load (medians of {opts.rounds} rounds)",
                ["conns", "bare 202/s", "hub 202/s", "ratio", "per round"], rows)
    (bare, bare_load), (hub, hub_load) = capacity(runs, "bare"), capacity(runs, "hub")
    ratio = hub / bare if bare else 0.0
    verdict = "met" if ratio >= GOAL else "MISSED"
    if not opts.store:
        verdict = "no verdict (--store none: nothing was stored)"
    print_pairs("Result (capacity: each server's best median over the loads)", [
        ("bare aiohttp JSON handler", f"{bare:,.0f} req/s (at {bare_load} connections)"),
        ("hub: verify + store + 202" if opts.store else "hub: verify + 202, NOT stored",
         f"{hub:,.0f} req/s (at {hub_load} connections)"),
        ("ratio hub / bare", f"{ratio:.0%}; goal >= {GOAL:.0%}: {verdict}"),
    ])
    cpu_bare = median([r.cpu_per_request for r in runs if r.server == "bare"])
    cpu_hub = median([r.cpu_per_request for r in runs if r.server == "hub"])
    print(f"  server CPU per request: bare {cpu_bare:,.0f} µs, hub {cpu_hub:,.0f} µs "
          f"(bare/hub = {cpu_bare / cpu_hub:.0%}: the ratio if both were CPU-bound alike)")
    busiest = max(r.client_cores for r in runs if r.server == "bare")
    if busiest > 0.9:
        print(f"  note: the client used {busiest:.0%} of a core against the bare server, so the"
              " bare rate may be the client's ceiling (and the ratio flattering); compare with"
              " --client raw")


def report_breakdown(runs: list[Run]) -> None:
    """Where the hub's CPU per request goes, step by step (medians over the rounds)."""
    rows = []
    for load in sorted({r.concurrency for r in runs}):
        previous = None
        for server in ("bare", "verify", "verify+store", "hub"):
            mine = [r for r in runs if r.server == server and r.concurrency == load]
            cpu = median([r.cpu_per_request for r in mine])
            step = "-" if previous is None else f"+{cpu - previous:,.0f}"
            rows.append((server, load, median([r.shot.rate for r in mine]), cpu, step))
            previous = cpu
    print_table("Breakdown (processor off): server CPU per request, step by step",
                ["server", "conns", "202/s", "µs CPU/202", "step"], rows)
    print("  verify = InboxReceiver (read, parse, signature, origins) with a store that keeps"
          " nothing; verify+store = the same with SqliteInboundStore (group commit); hub ="
          " the whole app (middlewares, routing)")


def report_processing(opts: Options, runs: list[Run], states: dict[str, int]) -> None:
    hub_runs = [r for r in runs if r.server == "hub"]
    if not opts.store:
        print("\nInbox processor: nothing to process (--store none)")
    elif opts.processor:
        rows = [(r.round, r.concurrency, len(r.shot.accepted), r.processed, r.drain)
                for r in hub_runs]
        print_table("Inbox processor (off the request path, running during the hub runs)",
                    ["round", "conns", "stored", "processed meanwhile",
                     "backlog drained in (s)"], rows)
    else:
        print("\nInbox processor: off during the runs (--processor off); rows stay pending.")
    print(f"  inbound rows by state afterwards: {states}")


def verify(opts: Options, runs: list[Run], stored: set[str]) -> bool:
    if not opts.store:
        print(f"\nStored: {len(stored):,} rows in inbound (--store none: the hub stored nothing)")
        return not stored
    expected = {activity_id(opts.actors, n) for r in runs if r.server in STORING
                for n in r.shot.accepted}
    missing, extra = expected - stored, stored - expected
    print(f"\nStored: {len(stored):,} rows in inbound for {len(expected):,} activities answered"
          f" 202; missing {len(missing)}, unexpected {len(extra)}"
          f" -> {'every 202 is a stored row' if not missing else 'ROWS MISSING'}")
    return not missing and not extra


def start_generator(opts: Options, settings: Settings, time_limit: float,
                    ) -> tuple[Connection, multiprocessing.process.BaseProcess]:
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    storing_runs = opts.rounds * len(opts.concurrency) * (2 if opts.breakdown else 1)
    requests = int(storing_runs * (opts.seconds + opts.warmup) * SIGN_CEILING_PER_SECOND)
    config = GeneratorConfig(
        hub_url=settings.base_url, hub_actor=f"{settings.base_url}/actors/{settings.name}",
        actors=opts.actors, requests=requests, client=opts.client,
        time_limit=time_limit)
    # Not a daemon: it makes its keys in a process pool. Its watchdog bounds its life.
    process = ctx.Process(target=generator_main, args=(theirs, config), name="loadgen")
    process.start()
    theirs.close()
    return ours, process


async def run(opts: Options, time_limit: float) -> int:
    with tempfile.TemporaryDirectory(prefix="commonhub-bench-inbox-") as tmp:
        bare_sock, hub_sock = bound_socket(), bound_socket()
        # The per-host inbox budget is still checked on every request (its cost is in the
        # figures), but set above what ten simulated hosts sending everything would spend.
        settings = await init_hub(Path(tmp) / "hub", domain=f"127.0.0.1:{port_of(hub_sock)}",
                                  name="hub", dev=True,
                                  **{"inbox_rate_limit": 1_000_000, **opts.settings})
        print_pairs("Set-up", [
            ("hub database", f"{settings.database_path} ({filesystem_of(Path(tmp))}, "
                             f"synchronous={settings.sqlite_synchronous})"),
            ("loads", f"{' and '.join(map(str, opts.concurrency))} kept-alive connections "
                      f"({opts.client} client) in a "
                     f"separate process; {opts.actors} remote actors, RSA-2048"),
            ("runs", f"{opts.rounds} rounds of, at each load, bare, "
                     f"{'verify, verify+store, ' if opts.breakdown else ''}hub; "
                     f"{opts.warmup:g} s warm-up + {opts.seconds:g} s timed each"),
            ("inbox processor", "running (as in production)" if opts.processor else "off"),
        ])
        conn, process = start_generator(opts, settings, time_limit)
        runner = Runner(conn, opts)
        try:
            _, actors, signed, prep = await runner.receive()
            print(f"  prepared {signed:,} signed requests in {prep:.1f} s (untimed)")
            await register_actors(settings, actors)
            runs = await measure(opts, runner, settings, bare_sock, hub_sock)
        finally:
            conn.send(("stop",))
            process.join(10)
            if process.is_alive():
                process.terminate()
        stored, states = await stored_rows(settings)
    report_runs(runs)
    report_ratio(opts, runs)
    if opts.breakdown:
        report_breakdown(runs)
    report_processing(opts, runs, states)
    return 0 if verify(opts, runs, stored) else 1


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    print_pairs("Machine", machine())
    warning = busy_warning()
    if warning:
        print(f"  {warning}")
    per_run = opts.seconds + opts.warmup
    time_limit = 90 + opts.rounds * len(opts.concurrency) * (4 * per_run + DRAIN_LIMIT)
    watchdog(time_limit + 15)
    return asyncio.run(run(opts, time_limit))


if __name__ == "__main__":
    sys.exit(main())
