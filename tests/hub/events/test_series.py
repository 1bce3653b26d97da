"""Series services on one hub: the horizon and its top-up, deleting one occurrence, ending
a series, and edits that touch only the fields given."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from hub.events import service
from hub.events.model import FieldError, parse_draft, parse_recurrence
from hub.store import events as event_store
from tests.hub.events.factories import draft_input
from tests.support.hubs import RunningHub

HubFactory = Callable[..., Awaitable[RunningHub]]
WEEK = 7 * 86400.0


async def _weekly(hub: RunningHub, horizon: timedelta, **rule: object) -> tuple:
    draft = parse_draft(draft_input(start="2030-01-08T19:00", end="2030-01-08T21:00",
                                    capacity=10))
    recurrence = parse_recurrence({"frequency": "weekly", **rule}, draft.start.date())
    return await service.create_series(hub.hub, draft, recurrence, horizon=horizon)


async def test_an_endless_series_is_made_for_the_horizon_and_topped_up(
        hubs: HubFactory) -> None:
    hub = await hubs("south")
    series, events = await _weekly(hub, timedelta(weeks=3))
    assert [e.occurrence_date for e in events] == [
        "2030-01-08", "2030-01-15", "2030-01-22", "2030-01-29"]
    # Two weeks later the daily job adds the weeks that came into the horizon, once.
    later = events[0].start_at + 2 * WEEK
    made = await service.extend_series(hub.hub, series.id, timedelta(weeks=3), now=later)
    assert [e.occurrence_date for e in made] == ["2030-02-05", "2030-02-12"]
    assert await service.extend_series(hub.hub, series.id, timedelta(weeks=3), now=later) == []
    assert made[0].capacity == 10 and made[0].series_id == series.id


async def test_at_most_52_occurrences_are_made_at_once(hubs: HubFactory) -> None:
    hub = await hubs("south")
    _, events = await _weekly(hub, timedelta(weeks=104))
    assert len(events) == 52


async def test_deleting_an_occurrence_makes_an_exception(hubs: HubFactory) -> None:
    hub = await hubs("south")
    series, events = await _weekly(hub, timedelta(weeks=3), count=4)
    deleted = await service.delete_event(hub.hub, events[1].uuid)
    assert deleted.deleted
    stored = await event_store.get_series(hub.hub.db, series.uuid)
    assert stored is not None and "2030-01-15" in stored.rule["exceptions"]
    assert await service.extend_series(hub.hub, series.id, now=events[0].start_at) == []


async def test_ending_a_series_keeps_past_occurrences(hubs: HubFactory) -> None:
    hub = await hubs("south")
    series, events = await _weekly(hub, timedelta(weeks=3), count=4)
    gone = await service.delete_series(hub.hub, series.uuid, now=events[1].start_at + 1)
    assert [e.uuid for e in gone] == [e.uuid for e in events[2:]]
    left = await event_store.series_events(hub.hub.db, series.id)
    assert [e.uuid for e in left] == [e.uuid for e in events[:2]]
    assert await service.extend_series(hub.hub, series.id) == []


async def test_a_series_edit_touches_only_the_fields_given(hubs: HubFactory) -> None:
    hub = await hubs("south")
    series, events = await _weekly(hub, timedelta(weeks=3), count=3)
    # One occurrence was given its own capacity and cancelled;
    await service.update_event(hub.hub, events[1].uuid, {"capacity": 4})
    await service.cancel_event(hub.hub, events[1].uuid)
    # a series rename keeps both.
    change = await service.update_series(hub.hub, series.uuid, {"title": "Evening club"},
                                         now=events[0].start_at - 60)
    assert len(change.updated) == 3
    second = change.updated[1]
    assert (second.title, second.capacity, second.status) == ("Evening club", 4, "cancelled")


async def test_series_edits_are_checked_before_anything_changes(hubs: HubFactory) -> None:
    hub = await hubs("south")
    series, events = await _weekly(hub, timedelta(weeks=3), count=3)
    with pytest.raises(FieldError) as caught:
        await service.update_series(hub.hub, series.uuid, {
            "recurrence": {"frequency": "monthly_by_weekday", "week": -1}})
    assert caught.value.field == "recurrence.week"
    with pytest.raises(FieldError):
        await service.update_series(hub.hub, series.uuid, {"capacity": 0})
    after = await event_store.series_events(hub.hub.db, series.id)
    assert [(e.title, e.capacity, e.updated_at) for e in after] == [
        (e.title, e.capacity, None) for e in events]
