"""Recurrence rules: each frequency, ends, exceptions, and wall-clock times across DST."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from hub.events.recurrence import (
    LAST,
    Recurrence,
    RecurrenceError,
    check_rule,
    is_occurrence_date,
    nth_weekday,
    occurrence_dates,
    occurrences,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
FAR = date(2030, 1, 1)


def test_weekly_from_the_anchor() -> None:
    dates = occurrence_dates(Recurrence("weekly", count=3), date(2026, 12, 5), through=FAR)
    assert dates == [date(2026, 12, 5), date(2026, 12, 12), date(2026, 12, 19)]


def test_fortnightly_skips_a_week() -> None:
    dates = occurrence_dates(Recurrence("fortnightly", count=3), date(2026, 12, 1), through=FAR)
    assert dates == [date(2026, 12, 1), date(2026, 12, 15), date(2026, 12, 29)]


def test_monthly_by_date_skips_months_without_that_day() -> None:
    dates = occurrence_dates(Recurrence("monthly_by_date"), date(2026, 10, 31),
                             through=date(2027, 5, 31))
    assert dates == [date(2026, 10, 31), date(2026, 12, 31), date(2027, 1, 31),
                     date(2027, 3, 31), date(2027, 5, 31)]


def test_monthly_by_date_the_15th() -> None:
    dates = occurrence_dates(Recurrence("monthly_by_date", count=3), date(2026, 11, 15),
                             through=FAR)
    assert dates == [date(2026, 11, 15), date(2026, 12, 15), date(2027, 1, 15)]


def test_monthly_second_tuesday_comes_from_the_anchor() -> None:
    anchor = date(2026, 12, 8)  # the 2nd Tuesday of December 2026
    dates = occurrence_dates(Recurrence("monthly_by_weekday", count=4), anchor, through=FAR)
    assert dates == [date(2026, 12, 8), date(2027, 1, 12), date(2027, 2, 9), date(2027, 3, 9)]
    assert all(d.weekday() == 1 and 8 <= d.day <= 14 for d in dates)


def test_monthly_last_tuesday() -> None:
    anchor = date(2026, 10, 27)  # both the 4th and the last Tuesday of October
    rule = Recurrence("monthly_by_weekday", week=LAST, count=4)
    assert occurrence_dates(rule, anchor, through=FAR) == [
        date(2026, 10, 27), date(2026, 11, 24), date(2026, 12, 29), date(2027, 1, 26)]
    # December 2026 has five Tuesdays: "last" is the 29th, the 4th would be the 22nd.
    fourth = occurrence_dates(Recurrence("monthly_by_weekday", count=3), anchor, through=FAR)
    assert fourth[2] == date(2026, 12, 22)


def test_fifth_weekday_skips_months_without_one() -> None:
    rule = Recurrence("monthly_by_weekday", week=5, count=3)
    dates = occurrence_dates(rule, date(2026, 12, 29), through=FAR)
    assert dates == [date(2026, 12, 29), date(2027, 3, 30), date(2027, 6, 29)]


def test_until_is_inclusive_and_count_counts_exceptions() -> None:
    until = occurrence_dates(Recurrence("weekly", until=date(2026, 12, 19)), date(2026, 12, 5),
                             through=FAR)
    assert until[-1] == date(2026, 12, 19) and len(until) == 3
    rule = Recurrence("weekly", count=3, exceptions=frozenset({date(2026, 12, 12)}))
    assert occurrence_dates(rule, date(2026, 12, 5), through=FAR) == [
        date(2026, 12, 5), date(2026, 12, 19)]


def test_through_and_limit_bound_an_endless_rule() -> None:
    rule = Recurrence("weekly")
    assert len(occurrence_dates(rule, date(2026, 1, 1), through=date(2026, 12, 31))) == 53
    assert len(occurrence_dates(rule, date(2026, 1, 1), through=FAR, limit=5)) == 5


def test_weekly_14_00_stays_14_00_when_the_clocks_go_back() -> None:
    # Given a Saturday 14:00 club in London either side of Sunday 25 October 2026,
    runs = occurrences(Recurrence("weekly", count=2), datetime(2026, 10, 24, 14),
                       datetime(2026, 10, 24, 16), LONDON, through=FAR)
    # then both start at 14:00 local, and the UTC instant moves an hour later (BST -> GMT).
    assert [o.start_local.hour for o in runs] == [14, 14]
    assert runs[0].start_utc == datetime(2026, 10, 24, 13, tzinfo=UTC)
    assert runs[1].start_utc == datetime(2026, 10, 31, 14, tzinfo=UTC)
    assert [o.end_utc.hour for o in runs] == [15, 16]


def test_weekly_14_00_stays_14_00_when_the_clocks_go_forward() -> None:
    runs = occurrences(Recurrence("weekly", count=2), datetime(2027, 3, 27, 14),
                       datetime(2027, 3, 27, 16), LONDON, through=FAR)
    assert [o.start_local.hour for o in runs] == [14, 14]
    assert [o.start_utc.hour for o in runs] == [14, 13]  # GMT, then BST


def test_a_us_zone_changes_on_its_own_dates() -> None:
    # US clocks go back on 1 November 2026, a week after the UK's.
    runs = occurrences(Recurrence("weekly", count=3), datetime(2026, 10, 24, 18),
                       datetime(2026, 10, 24, 20), NEW_YORK, through=FAR)
    assert [o.start_local.hour for o in runs] == [18, 18, 18]
    assert [o.start_utc.hour for o in runs] == [22, 22, 23]


def test_an_evening_event_crossing_midnight_keeps_its_length() -> None:
    runs = occurrences(Recurrence("weekly", count=2), datetime(2026, 10, 24, 22),
                       datetime(2026, 10, 25, 2), LONDON, through=FAR)
    # 22:00 to 02:00 wall clock; the night the clocks go back it is 5 real hours.
    assert (runs[0].end_utc - runs[0].start_utc).total_seconds() == 5 * 3600
    assert runs[1].end_local == datetime(2026, 11, 1, 2)


def test_nth_weekday_helpers() -> None:
    assert nth_weekday(2026, 12, 1, 2) == date(2026, 12, 8)
    assert nth_weekday(2026, 12, 1, LAST) == date(2026, 12, 29)
    assert nth_weekday(2027, 2, 1, 5) is None
    rule = Recurrence("monthly_by_weekday")
    assert is_occurrence_date(rule, date(2026, 12, 8), date(2027, 1, 12))
    assert not is_occurrence_date(rule, date(2026, 12, 8), date(2027, 1, 13))


@pytest.mark.parametrize(("rule", "anchor", "field"), [
    (Recurrence("daily"), date(2026, 12, 1), "recurrence.frequency"),
    (Recurrence("weekly", count=0), date(2026, 12, 1), "recurrence.count"),
    (Recurrence("weekly", until=date(2026, 11, 1)), date(2026, 12, 1), "recurrence.until"),
    (Recurrence("weekly", week=2), date(2026, 12, 1), "recurrence.week"),
    (Recurrence("monthly_by_weekday", week=6), date(2026, 12, 1), "recurrence.week"),
    (Recurrence("monthly_by_weekday", week=LAST), date(2026, 12, 8), "recurrence.week"),
])
def test_bad_rules_name_their_field(rule: Recurrence, anchor: date, field: str) -> None:
    with pytest.raises(RecurrenceError) as caught:
        check_rule(rule, anchor)
    assert caught.value.field == field


def test_rules_round_trip_as_json() -> None:
    rule = Recurrence("monthly_by_weekday", until=date(2027, 6, 1), week=LAST,
                      exceptions=frozenset({date(2026, 12, 29)}))
    assert Recurrence.from_json(rule.to_json()) == rule
