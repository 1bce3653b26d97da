"""The matcher: each hard filter with its reason, the order of the score's terms, fairness."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from hub.matching import (
    Check,
    Consents,
    GeoPoint,
    Need,
    Volunteer,
    VolunteerPool,
    exclusions,
    rank,
)
from hub.matching.geo import equirectangular_km, haversine_km

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
HERE = GeoPoint(51.546, -0.055)
ENHANCED = "dbs_enhanced_adult"
TUE_PM = (1, "afternoon")
NO_ENHANCED = "no enhanced DBS (adult workforce) valid on 2026-12-01"


def north_of(km: float) -> GeoPoint:
    return GeoPoint(HERE.lat + km / 111.2, HERE.lon)


def volunteer(vid: str, km: float = 1.0, **changes: object) -> Volunteer:
    base = Volunteer(
        id=vid, location=north_of(km), skills=frozenset({"befriending"}),
        languages=frozenset({"en"}), availability=frozenset({TUE_PM}), max_commitments=2,
        consents=Consents(match_here=True, match_neighbours=True),
        checks=(Check(ENHANCED, date(2025, 1, 10), date(2028, 1, 10)),),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def need(**changes: object) -> Need:
    base = Need(
        id="n1", kind="one_off", on=date(2026, 12, 1), slots=frozenset({TUE_PM}),
        skills=frozenset({"befriending"}), location=HERE,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def excluded_reasons(n: Need, v: Volunteer) -> list[str]:
    result = rank(n, [v], now=NOW, explain_excluded=True)
    assert len(result) == 1 and result[0].rank is None
    return result[0].exclusions


@pytest.mark.parametrize(
    ("changes", "need_changes", "reason"),
    [
        ({"consents": Consents(match_here=False)}, {}, "did not consent to matching here"),
        ({"consents": Consents(match_here=True, match_neighbours=False)},
         {"from_neighbour_hub": True}, "did not consent to matching for neighbouring hubs"),
        ({"active_commitments": 2}, {}, "no free capacity (2 of 2)"),
        ({"availability": frozenset({(1, "evening")})}, {}, "not free at the times needed"),
        ({}, {"languages_required": frozenset({"pl"})}, "does not speak Polish"),
        ({"checks": ()}, {"checks_required": frozenset({ENHANCED})},
         "no enhanced DBS (adult workforce) valid on 2026-12-01"),
        ({}, {"max_distance_km": 0.5}, "1.0 km away, beyond 0.5 km"),
    ],
)
def test_each_hard_filter_excludes_with_its_reason(changes, need_changes, reason) -> None:
    assert excluded_reasons(need(**need_changes), volunteer("a", **changes)) == [reason]


def test_a_lapsed_check_excludes() -> None:
    lapsed = volunteer("a", checks=(Check(ENHANCED, date(2023, 1, 1), date(2026, 10, 1)),))
    reasons = excluded_reasons(need(checks_required=frozenset({ENHANCED})), lapsed)
    assert reasons == [f"{NO_ENHANCED}: lapsed on 2026-10-01"]


def test_a_check_that_lapses_before_the_need_excludes() -> None:
    # In force today, but not on the day of the task.
    v = volunteer("a", checks=(Check(ENHANCED, date(2023, 12, 1), date(2026, 11, 30)),))
    reasons = excluded_reasons(need(checks_required=frozenset({ENHANCED})), v)
    assert reasons == [f"{NO_ENHANCED}: lapses on 2026-11-30"]


def test_a_regular_need_wants_checks_in_force_until_its_end() -> None:
    regular = need(kind="regular", on=None, starts_on=date(2026, 12, 1),
                   ends_on=date(2028, 6, 1), checks_required=frozenset({ENHANCED}))
    assert excluded_reasons(regular, volunteer("a"))[0].endswith("lapses on 2028-01-10")


def test_a_check_that_is_not_clear_excludes() -> None:
    v = volunteer("a", checks=(Check(ENHANCED, date(2025, 1, 1), None, status="pending"),))
    assert excluded_reasons(need(checks_required=frozenset({ENHANCED})), v) == [
        "no enhanced DBS (adult workforce) valid on 2026-12-01 (not clear)"
    ]


def test_an_eligible_volunteer_has_no_exclusions_and_reasons() -> None:
    [c] = rank(need(languages_preferred=frozenset({"en"})), [volunteer("a")], now=NOW)
    assert (c.rank, c.exclusions) == (1, [])
    assert c.reasons == ["1.0 km away", "shares: befriending", "free Tue afternoon",
                         "speaks English", "not asked in the last 30 days"]


def test_distance_dominates() -> None:
    near = volunteer("near", km=1.0)
    far = volunteer("far", km=4.0, interests=frozenset({"gardening", "music"}),
                    tags=frozenset({"Dog walking"}))
    wanted = need(interests=frozenset({"gardening", "music"}), tags=frozenset({"dog-walking"}))
    assert [c.volunteer_id for c in rank(wanted, [far, near], now=NOW)] == ["near", "far"]


def test_shared_skills_break_ties_at_equal_distance() -> None:
    plain = volunteer("a", km=2.0)
    gardener = volunteer("b", km=2.0, interests=frozenset({"gardening"}))
    wanted = need(interests=frozenset({"gardening"}))
    ranked = rank(wanted, [plain, gardener], now=NOW)
    assert [c.volunteer_id for c in ranked] == ["b", "a"]
    assert "shares: befriending, gardening" in ranked[0].reasons


def test_availability_overlap_counts() -> None:
    two_slots = frozenset({TUE_PM, (3, "afternoon")})
    regular = need(kind="regular", on=None, starts_on=date(2026, 12, 1), slots=two_slots)
    once = volunteer("a")
    twice = volunteer("b", availability=two_slots | {(5, "morning")})
    ranked = rank(regular, [once, twice], now=NOW)
    assert [c.volunteer_id for c in ranked] == ["b", "a"]
    assert "free Tue afternoon, Thu afternoon" in ranked[0].reasons


def test_fairness_a_volunteer_just_matched_ranks_below_an_equal_one() -> None:
    # Given two equal volunteers, when one has been asked and matched several times lately,
    # then the other is asked first, and the reason says why.
    busy = volunteer("a", recent_asks=(NOW - timedelta(days=20), NOW - timedelta(days=9)),
                     recent_matches=(NOW - timedelta(days=12), NOW - timedelta(hours=2)))
    rested = volunteer("b")
    ranked = rank(need(), [busy, rested], now=NOW)
    assert [c.volunteer_id for c in ranked] == ["b", "a"]
    assert ranked[1].reasons[-1] == "asked 2 times and matched 2 times in the last 30 days"
    old = volunteer("a", recent_matches=(NOW - timedelta(days=45),))
    assert rank(need(), [rested, old], now=NOW)[0].volunteer_id == "a"  # ties go by id


def test_ranking_is_deterministic_and_ties_go_by_id() -> None:
    twins = [volunteer(f"v{k}") for k in (3, 1, 2)]
    first = rank(need(), twins, now=NOW)
    assert [c.volunteer_id for c in first] == ["v1", "v2", "v3"]
    assert rank(need(), list(reversed(twins)), now=NOW) == first


def test_limit_and_explain_excluded() -> None:
    pool = VolunteerPool([volunteer(f"v{k}", km=k / 10) for k in range(30)]
                         + [volunteer("x", active_commitments=5)])
    assert [c.rank for c in rank(need(), pool, now=NOW, limit=5)] == [1, 2, 3, 4, 5]
    explained = rank(need(), pool, now=NOW, limit=5, explain_excluded=True)
    assert len(explained) == 6
    assert (explained[-1].volunteer_id, explained[-1].exclusions) == (
        "x", ["no free capacity (5 of 2)"])


def test_volunteers_without_a_point_are_not_filtered_by_distance() -> None:
    v = volunteer("a", location=None, postcode_district="E8")
    [c] = rank(need(max_distance_km=0.5), [v], now=NOW)
    assert c.reasons[0] == "distance unknown (postcode district E8)"


def test_a_dated_need_checks_its_slots_fall_on_its_day() -> None:
    with pytest.raises(ValueError, match="weekday"):
        need(slots=frozenset({(2, "morning")}))


def test_equirectangular_distance_is_close_to_great_circle_across_a_city() -> None:
    a, b = GeoPoint(51.33, -0.45), GeoPoint(51.65, 0.2)
    assert equirectangular_km(a, b) == pytest.approx(haversine_km(a, b), rel=1e-3)


def _random_volunteer(rng: random.Random, k: int) -> Volunteer:
    renews = date(2026, 11, 1) + timedelta(days=rng.randrange(-60, 400))
    return Volunteer(
        id=f"r{k:03d}",
        location=north_of(rng.uniform(0, 8)) if rng.random() < 0.9 else None,
        skills=frozenset(rng.sample(["befriending", "gardening", "music", "cooking"], 2)),
        languages=frozenset(rng.sample(["en", "pl", "bn"], rng.randint(0, 2))),
        availability=frozenset((rng.randrange(7), rng.choice(["morning", "afternoon"]))
                               for _ in range(rng.randint(0, 5))),
        max_commitments=2, active_commitments=rng.randint(0, 2),
        consents=Consents(rng.random() < 0.8, rng.random() < 0.5),
        checks=(Check(ENHANCED, date(2024, 1, 1), renews),) if rng.random() < 0.6 else (),
        recent_asks=tuple(NOW - timedelta(days=rng.uniform(0, 40)) for _ in range(k % 4)),
    )


@pytest.mark.parametrize("seed", range(5))
def test_the_fast_filters_agree_with_the_plain_statement(seed: int) -> None:
    rng = random.Random(seed)
    pool = VolunteerPool(_random_volunteer(rng, k) for k in range(300))
    wanted = need(kind="regular", on=None, starts_on=date(2026, 12, 1), ends_on=date(2027, 3, 1),
                  slots=frozenset({(1, "afternoon"), (4, "morning")}), max_distance_km=5.0,
                  checks_required=frozenset({ENHANCED}), languages_required=frozenset({"en"}),
                  from_neighbour_hub=bool(seed % 2))
    result = rank(wanted, pool, now=NOW, limit=300, explain_excluded=True)
    xy = pool.project(HERE)
    for c in result:
        i = next(k for k, v in enumerate(pool.volunteers) if v.id == c.volunteer_id)
        plain = exclusions(wanted, pool.volunteers[i], now=NOW,
                           distance_km=pool.distance_km(i, xy))
        assert plain == c.exclusions and (c.rank is None) == bool(plain)
    scores = [c.score for c in result if c.rank is not None]
    assert scores == sorted(scores, reverse=True)
