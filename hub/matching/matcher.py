"""Rank volunteers for a need: hard filters, then a score led by distance, with reasons.

Speed comes from compiling the volunteers once into a `VolunteerPool`: every hard filter that
does not depend on dates or distance is a bitset over the whole pool (one Python int, bit i for
volunteer i), so consent, capacity, availability, languages and "holds a check of this type"
cost a few big-int ANDs whatever the pool's size. Only the survivors are visited one by one, for
check dates and distance, and only the returned top-N get their reasons built.

Score (higher is better), with the default `Weights`:

    4.0 * 1 / (1 + km / 2)                 proximity: 4.0 at 0 km, 2.0 at 2 km, 1.0 at 6 km
  + 1.0 * shared / wanted                  skills, interests and tags the need asks for
  + 0.5 * free slots / needed slots        availability overlap
  + 0.25 * spoken / preferred languages
  - 1.0 * (1 - exp(-load))                 fairness: load = sum over the last 30 days of
                                           (1 per ask, 2 per match) * exp(-age / 10 days)

Distance leads: the other terms together add at most 1.75, so a volunteer 1 km closer wins unless
the farther one is much better on the rest. The fairness term spreads asks (Manshadi & Rodilitz
2022): someone asked today drops by 0.63, someone just matched by 0.86. Ties go to the smaller id.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from itertools import compress

from hub.matching.geo import GeoPoint, project
from hub.matching.model import (
    Candidate,
    Need,
    Volunteer,
    check_label,
    language_name,
    slot_label,
    slots_mask,
)

_ALWAYS = 10**9  # an ordinal for "never needs renewing"
_BIT_BYTES = bytes.maketrans(b"01", b"\x00\x01")
_DAY_SECONDS = 86400.0


@dataclass(frozen=True, slots=True)
class Weights:
    """The score's weights; see the module docstring for what each one trades against."""

    proximity: float = 4.0
    proximity_scale_km: float = 2.0
    unknown_distance_km: float = 10.0  # counted for volunteers (or needs) without a point
    shared_terms: float = 1.0
    availability: float = 0.5
    languages: float = 0.25
    fairness: float = 1.0
    fairness_window_days: float = 30.0
    fairness_decay_days: float = 10.0
    ask_load: float = 1.0
    match_load: float = 2.0


DEFAULT_WEIGHTS = Weights()


def _bitset(indices: Iterable[int], size: int) -> int:
    """A pool-wide bitset with bit i set for each index, built in one pass over bytes."""
    buffer = bytearray((size + 7) // 8)
    for i in indices:
        buffer[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buffer, "little")


def _members(mask: int, size: int) -> list[int]:
    """The indices whose bit is set, without a Python-level loop over the pool."""
    flags = format(mask, f"0{size}b")[::-1].encode().translate(_BIT_BYTES)
    return list(compress(range(size), flags))


class VolunteerPool:
    """Volunteers compiled for fast ranking; build once, rank many needs against it."""

    def __init__(self, volunteers: Iterable[Volunteer]) -> None:
        self.volunteers = tuple(sorted(volunteers, key=lambda v: v.id))
        self.size = len(self.volunteers)
        if len({v.id for v in self.volunteers}) != self.size:
            raise ValueError("volunteer ids must be unique")
        self._compile_places()
        self._compile_static_sets()
        self._compile_checks()
        self._compile_terms()
        self.recent = [_recent_events(v) for v in self.volunteers]

    def _compile_places(self) -> None:
        lats = [v.location.lat for v in self.volunteers if v.location is not None]
        self.ref_lat_rad = math.radians(sum(lats) / len(lats)) if lats else 0.0
        points = [
            project(v.location, self.ref_lat_rad) if v.location is not None else (None, None)
            for v in self.volunteers
        ]
        self.xs = [p[0] for p in points]
        self.ys = [p[1] for p in points]

    def _compile_static_sets(self) -> None:
        vols, n = self.volunteers, self.size
        self.everyone = (1 << n) - 1
        self.consent_here = _bitset((i for i, v in enumerate(vols) if v.consents.match_here), n)
        self.consent_neighbours = _bitset(
            (i for i, v in enumerate(vols) if v.consents.match_neighbours), n
        )
        self.has_capacity = _bitset(
            (i for i, v in enumerate(vols) if v.active_commitments < v.max_commitments), n
        )
        self.availability = [slots_mask(v.availability) for v in vols]
        self.free_in_slot = [
            _bitset((i for i, m in enumerate(self.availability) if m >> s & 1), n)
            for s in range(21)
        ]
        speakers: dict[str, list[int]] = {}
        for i, v in enumerate(vols):
            for code in v.languages:
                speakers.setdefault(code.lower(), []).append(i)
        self.speakers = {code: _bitset(ids, n) for code, ids in speakers.items()}
        self.language_bit = {code: 1 << k for k, code in enumerate(sorted(speakers))}
        self.languages = [
            sum({self.language_bit[c.lower()] for c in v.languages}) for v in vols
        ]

    def _compile_checks(self) -> None:
        # Per check type: who holds a clear one (a bitset), and the (since, until) ordinals of
        # each holder's clear checks, compared against the need's dates for survivors only.
        self.check_periods: dict[str, dict[int, tuple[tuple[int, int], ...]]] = {}
        for i, v in enumerate(self.volunteers):
            for check in v.checks:
                if check.status != "clear":
                    continue
                until = check.renews_on.toordinal() if check.renews_on else _ALWAYS
                periods = self.check_periods.setdefault(check.type, {})
                periods[i] = (*periods.get(i, ()), (check.checked_on.toordinal(), until))
        self.check_holders = {
            kind: _bitset(periods, self.size) for kind, periods in self.check_periods.items()
        }

    def _compile_terms(self) -> None:
        self.term_bit: dict[str, int] = {}
        self.terms: list[int] = []
        for v in self.volunteers:
            mask = 0
            for term in v.terms():
                mask |= self.term_bit.setdefault(term, 1 << len(self.term_bit))
            self.terms.append(mask)

    def project(self, point: GeoPoint) -> tuple[float, float]:
        return project(point, self.ref_lat_rad)

    def distance_km(self, i: int, need_xy: tuple[float, float] | None) -> float | None:
        x, y = self.xs[i], self.ys[i]
        if need_xy is None or x is None or y is None:
            return None
        return math.hypot(x - need_xy[0], y - need_xy[1])


def _recent_events(v: Volunteer) -> tuple[tuple[float, bool], ...] | None:
    """(timestamp, is_match) for each ask and match, or None for the many who have neither."""
    events = [(t.timestamp(), False) for t in v.recent_asks]
    events += [(t.timestamp(), True) for t in v.recent_matches]
    return tuple(events) or None


@dataclass(frozen=True, slots=True)
class _Query:
    """A need resolved against a pool: its masks and dates, computed once per ranking."""

    need: Need
    now: datetime
    first: date
    last: date
    slots: int
    wanted: int
    wanted_count: int
    preferred: int
    preferred_count: int
    need_xy: tuple[float, float] | None


def _query(need: Need, pool: VolunteerPool, now: datetime) -> _Query:
    first, last = need.check_dates(now.date())
    wanted = 0
    for term in need.terms():
        wanted |= pool.term_bit.get(term, 0)
    preferred = 0
    for code in need.languages_preferred:
        preferred |= pool.language_bit.get(code.lower(), 0)
    return _Query(
        need=need, now=now, first=first, last=last,
        slots=slots_mask(need.slots),
        wanted=wanted, wanted_count=len(need.terms()),
        preferred=preferred, preferred_count=len(need.languages_preferred),
        need_xy=pool.project(need.location) if need.location is not None else None,
    )


def _static_mask(q: _Query, pool: VolunteerPool) -> int:
    """Who passes every filter that needs neither dates nor distance: a few big-int ANDs."""
    need = q.need
    mask = pool.consent_neighbours if need.from_neighbour_hub else pool.consent_here
    mask &= pool.has_capacity
    free = 0
    for s in range(21):
        if q.slots >> s & 1:
            free |= pool.free_in_slot[s]
    mask &= free
    for code in need.languages_required:
        mask &= pool.speakers.get(code.lower(), 0)
    for kind in need.checks_required:
        mask &= pool.check_holders.get(kind, 0)
    return mask


def _checks_in_force(q: _Query, pool: VolunteerPool, indices: list[int]) -> list[int]:
    first, last = q.first.toordinal(), q.last.toordinal()
    for kind in q.need.checks_required:
        periods = pool.check_periods.get(kind, {})
        indices = [
            i for i in indices
            if any(since <= first and until >= last for since, until in periods[i])
        ]
    return indices


def _scores(q: _Query, pool: VolunteerPool, indices: list[int], w: Weights) -> list[tuple]:
    """(-score, index) for each volunteer within reach; the hot loop, so everything is local."""
    xs, ys, avail, terms = pool.xs, pool.ys, pool.availability, pool.terms
    langs, recent = pool.languages, pool.recent
    slots, n_slots, wanted, preferred = q.slots, q.slots.bit_count(), q.wanted, q.preferred
    w_terms = w.shared_terms / q.wanted_count if q.wanted_count else 0.0
    w_langs = w.languages / q.preferred_count if q.preferred_count else 0.0
    w_avail, w_prox, scale = w.availability / n_slots, w.proximity, w.proximity_scale_km
    unknown = w_prox / (1 + w.unknown_distance_km / scale)
    nx, ny = q.need_xy if q.need_xy is not None else (None, None)
    limit = q.need.max_distance_km
    limit_sq = limit * limit if limit is not None and nx is not None else math.inf
    now = q.now.timestamp()
    sqrt, out = math.sqrt, []
    for i in indices:
        x = xs[i]
        if x is None or nx is None:
            score = unknown
        else:
            dx, dy = x - nx, ys[i] - ny
            d_sq = dx * dx + dy * dy
            if d_sq > limit_sq:
                continue
            score = w_prox / (1 + sqrt(d_sq) / scale)
        score += (avail[i] & slots).bit_count() * w_avail
        if wanted:
            score += (terms[i] & wanted).bit_count() * w_terms
        if preferred:
            score += (langs[i] & preferred).bit_count() * w_langs
        if recent[i] is not None:
            score -= _fairness_penalty(recent[i], now, w)
        out.append((-score, i))
    return out


def _fairness_penalty(events: tuple[tuple[float, bool], ...], now: float, w: Weights) -> float:
    load = 0.0
    for stamp, is_match in events:
        age = (now - stamp) / _DAY_SECONDS
        if 0 <= age <= w.fairness_window_days:
            weight = w.match_load if is_match else w.ask_load
            load += weight * math.exp(-age / w.fairness_decay_days)
    return w.fairness * (1 - math.exp(-load))


def rank(
    need: Need,
    volunteers: VolunteerPool | Iterable[Volunteer],
    *,
    now: datetime,
    limit: int = 20,
    explain_excluded: bool = False,
    weights: Weights = DEFAULT_WEIGHTS,
) -> list[Candidate]:
    """The best `limit` eligible volunteers for `need`, best first, each with its reasons.

    With `explain_excluded`, every volunteer filtered out follows (rank None, score 0), by id,
    with the reasons they were left out. Pass a `VolunteerPool` to rank many needs quickly;
    a plain iterable is compiled on every call.
    """
    pool = volunteers if isinstance(volunteers, VolunteerPool) else VolunteerPool(volunteers)
    q = _query(need, pool, now)
    indices = _members(_static_mask(q, pool), pool.size)
    if need.checks_required:
        indices = _checks_in_force(q, pool, indices)
    scored = _scores(q, pool, indices, weights)
    best = heapq.nsmallest(limit, scored) if limit < len(scored) else sorted(scored)
    ranked = [
        _candidate(q, pool, i, -neg, place, weights)
        for place, (neg, i) in enumerate(best, start=1)
    ]
    if explain_excluded:
        eligible = {i for _, i in scored}
        ranked += [
            Candidate(v.id, 0.0, None, exclusions=exclusions(
                need, v, now=now, distance_km=pool.distance_km(i, q.need_xy)))
            for i, v in enumerate(pool.volunteers) if i not in eligible
        ]
    return ranked


def _candidate(
    q: _Query, pool: VolunteerPool, i: int, score: float, place: int, w: Weights
) -> Candidate:
    v, need = pool.volunteers[i], q.need
    km = pool.distance_km(i, q.need_xy)
    if km is not None:
        reasons = [f"{km:.1f} km away"]
    else:
        district = f" (postcode district {v.postcode_district})" if v.postcode_district else ""
        reasons = [f"distance unknown{district}"]
    shared = sorted(need.terms() & v.terms())
    if shared:
        reasons.append("shares: " + ", ".join(shared))
    elif need.terms():
        reasons.append("no shared skills or interests")
    free = sorted(need.slots & v.availability, key=lambda s: (s[0], s[1] != "morning", s[1]))
    reasons.append("free " + ", ".join(slot_label(s) for s in free))
    spoken = sorted(
        language_name(c) for c in need.languages_preferred
        if c.lower() in {lang.lower() for lang in v.languages}
    )
    if spoken:
        reasons.append("speaks " + ", ".join(spoken))
    reasons.append(_fairness_reason(v, q.now, w))
    return Candidate(v.id, round(score, 6), place, reasons=reasons, distance_km=km)


def _fairness_reason(v: Volunteer, now: datetime, w: Weights) -> str:
    def recent(stamps: tuple[datetime, ...]) -> int:
        return sum(0 <= (now - t).total_seconds() / _DAY_SECONDS <= w.fairness_window_days
                   for t in stamps)

    asks, matches = recent(v.recent_asks), recent(v.recent_matches)
    if not asks and not matches:
        return f"not asked in the last {w.fairness_window_days:g} days"
    parts = [f"asked {_times(asks)}"] if asks else []
    parts += [f"matched {_times(matches)}"] if matches else []
    return " and ".join(parts) + f" in the last {w.fairness_window_days:g} days"


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"


def exclusions(
    need: Need, v: Volunteer, *, now: datetime, distance_km: float | None
) -> list[str]:
    """Every reason `v` is filtered out for `need`, from the plain values (no pool needed).

    This is the readable statement of the hard filters; the fast path in `rank` must agree
    with it, and a test checks that it does on random pools.
    """
    out: list[str] = []
    if need.from_neighbour_hub and not v.consents.match_neighbours:
        out.append("did not consent to matching for neighbouring hubs")
    if not need.from_neighbour_hub and not v.consents.match_here:
        out.append("did not consent to matching here")
    if v.active_commitments >= v.max_commitments:
        out.append(f"no free capacity ({v.active_commitments} of {v.max_commitments})")
    if not need.slots & v.availability:
        out.append("not free at the times needed")
    spoken = {lang.lower() for lang in v.languages}
    out += [f"does not speak {language_name(c)}"
            for c in sorted(need.languages_required) if c.lower() not in spoken]
    first, last = need.check_dates(now.date())
    out += [r for kind in sorted(need.checks_required)
            if (r := _check_problem(kind, v, first, last, now.date()))]
    limit = need.max_distance_km
    if limit is not None and distance_km is not None and distance_km > limit:
        out.append(f"{distance_km:.1f} km away, beyond {limit:g} km")
    return out


def _check_problem(kind: str, v: Volunteer, first: date, last: date, today: date) -> str | None:
    held = [c for c in v.checks if c.type == kind]
    if any(c.covers(first, last) for c in held):
        return None
    label = check_label(kind)
    clear = [c for c in held if c.status == "clear"]
    when = f"on {first}" if first == last else f"from {first} to {last}"
    if not clear:
        return f"no {label} valid {when}" + (" (not clear)" if held else "")
    latest = max(clear, key=lambda c: c.renews_on or date.max)
    if latest.renews_on is not None and latest.renews_on < today:
        return f"no {label} valid {when}: lapsed on {latest.renews_on}"
    if latest.renews_on is not None and latest.renews_on < last:
        return f"no {label} valid {when}: lapses on {latest.renews_on}"
    return f"no {label} valid {when}: checked only on {latest.checked_on}"
