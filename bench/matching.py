"""Ranking 100,000 volunteers for one need, and a cross-hub round trip on loopback.

Run: .venv/bin/python bench/matching.py   (~15 s; seeded, so every run ranks the same pool)
     .venv/bin/python bench/matching.py --cross-hub 20   (the round trip across 20 hubs)

Volunteers are spread over a London-sized area (about 45 x 35 km) with random availability,
skills, languages, consents, commitments, checks (some lapsed) and recent asks. The need is a
weekly befriending need that requires an enhanced DBS. The baseline is the cheapest possible
ranking: a bare loop computing only each volunteer's distance, then the same top-N.

The cross-hub round trip starts real hubs (`create_app` over homes made by `init_hub`, in dev
mode, each on its own loopback port, all in this process): hub 0 and N-1 neighbours, each
following it and followed by it, each neighbour with its own volunteers. Hub 0 publishes a
befriending need that requires an enhanced DBS; the figures are the time until every neighbour
has stored it, until each neighbour's staff have asked their best candidate (ranking included),
and until hub 0 has received, verified and stored every neighbour's offer after each volunteer
said yes on their private page. Each stage is timed from the start of the round.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import heapq
import math
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import machine, watchdog
from hub.matching import Check, Consents, GeoPoint, Need, Volunteer, VolunteerPool, rank
from hub.matching.model import PARTS, concepts

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
LANGS = ("en", "pl", "bn", "so", "tr", "es", "pt", "ur", "ro", "ar")


def random_volunteer(rng: random.Random, n: int, concept_ids: list[str]) -> Volunteer:
    slots = frozenset((rng.randrange(7), rng.choice(PARTS)) for _ in range(rng.randint(1, 8)))
    checks: tuple[Check, ...] = ()
    if rng.random() < 0.3:
        checked = NOW.date() - timedelta(days=rng.randrange(1200))
        checks = (Check("dbs_enhanced_adult", checked, checked + timedelta(days=1095)),)
    ask_count = rng.choice((0, 0, 0, 1, 3))
    asks = tuple(NOW - timedelta(days=rng.uniform(0, 40)) for _ in range(ask_count))
    return Volunteer(
        id=f"v{n:06d}",
        location=GeoPoint(rng.uniform(51.33, 51.65), rng.uniform(-0.45, 0.2)),
        skills=frozenset(rng.sample(concept_ids, rng.randint(0, 4))),
        interests=frozenset(rng.sample(concept_ids, rng.randint(0, 3))),
        languages=frozenset({"en", *rng.sample(LANGS, rng.randint(0, 2))}),
        availability=slots,
        max_commitments=rng.randint(1, 3),
        active_commitments=rng.randint(0, 2),
        consents=Consents(match_here=rng.random() < 0.9, match_neighbours=rng.random() < 0.5),
        checks=checks,
        recent_asks=asks,
    )


def befriending_need() -> Need:
    return Need(
        id="need-1", kind="regular", starts_on=date(2026, 12, 1),
        ends_on=date(2027, 5, 31),
        slots=frozenset({(1, "afternoon"), (3, "afternoon"), (5, "morning")}),
        skills=frozenset({"befriending"}), interests=frozenset({"gardening", "music"}),
        checks_required=frozenset({"dbs_enhanced_adult"}),
        languages_preferred=frozenset({"pl"}),
        location=GeoPoint(51.5465, -0.0553), max_distance_km=None,
    )


def baseline(pool: VolunteerPool, need: Need, limit: int) -> list[tuple[float, int]]:
    """Only distance, over the same precomputed coordinates: the floor for any pure-Python pass."""
    nx, ny = pool.project(need.location)  # type: ignore[arg-type]
    xs, ys, sqrt = pool.xs, pool.ys, math.sqrt
    distances = [(sqrt((x - nx) ** 2 + (y - ny) ** 2), i)
                 for i, (x, y) in enumerate(zip(xs, ys, strict=True))]
    return heapq.nsmallest(limit, distances)


def timed(fn, repeats: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def summary(times: list[float]) -> str:
    p95 = statistics.quantiles(times, n=20)[-1]
    return f"median {statistics.median(times):7.2f} ms   p95 {p95:7.2f} ms"


def _replace(need: Need, **changes: object) -> Need:
    return dataclasses.replace(need, **changes)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volunteers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--max-km", type=float, default=None)
    parser.add_argument("--cross-hub", type=int, default=0, metavar="HUBS",
                        help="run the cross-hub round trip across this many hubs instead")
    parser.add_argument("--hub-volunteers", type=int, default=200,
                        help="volunteers at each neighbouring hub (cross-hub round trip)")
    parser.add_argument("--rounds", type=int, default=5, help="needs published (cross-hub)")
    args = parser.parse_args()
    if args.cross_hub:
        from bench.matching_hubs import run_round_trips

        watchdog(600)
        asyncio.run(run_round_trips(args.cross_hub, args.hub_volunteers, args.rounds))
        return
    watchdog(60)
    rng = random.Random(4)
    concept_ids = sorted(concepts())
    start = time.perf_counter()
    volunteers = [random_volunteer(rng, n, concept_ids) for n in range(args.volunteers)]
    generated = time.perf_counter() - start
    start = time.perf_counter()
    pool = VolunteerPool(volunteers)
    compiled = time.perf_counter() - start
    need = befriending_need()
    if args.max_km is not None:
        need = _replace(need, max_distance_km=args.max_km)
    ranked_times, ranked = timed(lambda: rank(need, pool, now=NOW, limit=args.limit), args.repeats)
    base_times, _ = timed(lambda: baseline(pool, need, args.limit), args.repeats)
    wide = _replace(need, checks_required=frozenset(),
                    slots=frozenset((d, p) for d in range(7) for p in PARTS))
    wide_times, _ = timed(lambda: rank(wide, pool, now=NOW, limit=args.limit), args.repeats)
    for key, value in machine():
        print(f"{key:24} {value}")
    print(f"volunteers               {args.volunteers:,} (generated in {generated:.1f} s)")
    print(f"pool compiled once in    {compiled * 1000:.0f} ms")
    print(f"need                     {need.kind}, checks {sorted(need.checks_required)}, "
          f"max km {need.max_distance_km}")
    print(f"rank, top {len(ranked)} (befriending)  {summary(ranked_times)}")  # type: ignore[arg-type]
    print(f"worst case (no check, every slot) {summary(wide_times)}")
    print(f"baseline (distance only)         {summary(base_times)}")
    ratio = statistics.median(ranked_times) / statistics.median(base_times)
    print(f"rank / baseline                  {ratio:.2f}x (medians)")
    for c in ranked[:3]:  # type: ignore[index]
        print(f"  #{c.rank} {c.volunteer_id} {c.score:.3f}: {'; '.join(c.reasons)}")


if __name__ == "__main__":
    main()
