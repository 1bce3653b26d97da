"""Recurring series: make occurrences for a bounded horizon, top them up, and apply series
edits to future occurrences only.

Each occurrence is its own event row and its own federated `Event`. Occurrences that have
started keep their values when the series changes; future ones take the change (and send
`Update` only when something they show changed). A schedule change (times, timezone or
rule) also deletes future occurrences the new rule no longer has and creates the new ones.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from federation.errors import NotFound
from hub.events.model import (
    EventDraft,
    FieldError,
    draft_to_input,
    merge_patch,
    parse_dates,
    parse_draft,
    parse_recurrence,
    with_times,
)
from hub.events.publish import announcement
from hub.events.recurrence import (
    Occurrence,
    Recurrence,
    RecurrenceError,
    check_rule,
    occurrences,
    to_utc,
)
from hub.events.rows import TIME_COLUMNS, Resolved, changed, columns, resolve, touched_columns
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store.events import Event, Series, SeriesChange

DEFAULT_HORIZON = timedelta(weeks=26)
MAX_NEW_OCCURRENCES = 52   # made at once; the daily top-up makes the rest as time passes


def _through(now: float, horizon: timedelta, draft: EventDraft) -> date:
    """The last local date the horizon covers, counted from now or from the series' first
    start if that is later (a series announced early still gets its first occurrences)."""
    base = max(now, to_utc(draft.start, draft.zone).timestamp())
    return datetime.fromtimestamp(base + horizon.total_seconds(), UTC).astimezone(
        draft.zone).date()


def due_occurrences(draft: EventDraft, rule: Recurrence, *, now: float,
                    through: date) -> list[Occurrence]:
    """The series' occurrences not yet ended, up to `through` (a local date)."""
    return [o for o in occurrences(rule, draft.start, draft.end, draft.zone, through=through)
            if o.end_utc.timestamp() > now]


def _rows(draft: EventDraft, resolved: Resolved,
          due: Iterable[Occurrence]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(str(uuid.uuid4()), o.day.isoformat(),
             columns(with_times(draft, o.start_local, o.end_local), resolved)) for o in due]


async def create_series(hub: Hub, draft: EventDraft, rule: Recurrence, *,
                        horizon: timedelta = DEFAULT_HORIZON,
                        now: float | None = None) -> tuple[Series, list[Event]]:
    """Store a series with its occurrences in the horizon and send a Create for each."""
    now = time.time() if now is None else now
    resolved = await resolve(hub, draft)
    due = due_occurrences(draft, rule, now=now, through=_through(now, horizon, draft))
    if not due:
        raise FieldError("recurrence", f"the series has no occurrence in the next "
                                       f"{horizon.days // 7} weeks")
    told = await announcement(hub, [resolved.teacher_actor_id])
    series, events = await event_store.insert_series(
        hub.db, str(uuid.uuid4()), _template(draft, resolved), rule.to_json(), resolved.teacher,
        _rows(draft, resolved, due[:MAX_NEW_OCCURRENCES]), then=told.created)
    hub.wake_delivery()
    return series, events


async def live_series(hub: Hub, series_uuid: str) -> Series:
    series = await event_store.get_series(hub.db, series_uuid)
    if series is None or series.deleted_at is not None:
        raise NotFound(f"no series {series_uuid}")
    return series


def _parts(series: Series) -> tuple[EventDraft, Recurrence, Resolved]:
    draft = parse_draft(series.template)
    resolved = Resolved(None, series.teacher_name, series.teacher_actor_id)
    return draft, Recurrence.from_json(series.rule), resolved


def _template(draft: EventDraft, resolved: Resolved) -> dict[str, Any]:
    """The series' stored fields; a fediverse teacher by actor id, so it needs no look-up."""
    return draft_to_input(replace(draft, teacher=resolved.teacher_actor_id or draft.teacher))


async def _save(hub: Hub, series: Series, draft: EventDraft, rule: Recurrence,
                resolved: Resolved, **changes: Any) -> SeriesChange:
    # The teachers of its occurrences as they are and as they will be (one may differ).
    teachers = {e.teacher_actor_id for e in await event_store.series_events(hub.db, series.id)}
    told = await announcement(hub, [*teachers, resolved.teacher_actor_id])
    change = await event_store.change_series(
        hub.db, series, template=_template(draft, resolved), rule=rule.to_json(),
        teacher=resolved.teacher, then=told.series_changed, **changes)
    hub.wake_delivery()
    return change


async def extend_series(hub: Hub, series_id: int, horizon: timedelta = DEFAULT_HORIZON, *,
                        now: float | None = None) -> list[Event]:
    """Make (and send) the occurrences that have come into the horizon; for a daily job."""
    now = time.time() if now is None else now
    series = await event_store.get_series_by_id(hub.db, series_id)
    if series is None or series.deleted_at is not None:
        return []
    draft, rule, resolved = _parts(series)
    resolved = await resolve(hub, draft, resolved)
    have = {e.occurrence_date for e in await event_store.series_events(hub.db, series.id)}
    due = [o for o in due_occurrences(draft, rule, now=now,
                                      through=_through(now, horizon, draft))
           if o.day.isoformat() not in have]
    if not due:
        return []
    change = await _save(hub, series, draft, rule, resolved,
                         inserts=_rows(draft, resolved, due[:MAX_NEW_OCCURRENCES]))
    return change.created


async def extend_all_series(hub: Hub, horizon: timedelta = DEFAULT_HORIZON) -> int:
    """Top up every live series; returns how many occurrences were made."""
    made = 0
    for series_id in await event_store.live_series_ids(hub.db):
        made += len(await extend_series(hub, series_id, horizon))
    return made


def _rule_for(patch: Mapping[str, Any], rule: Recurrence, anchor: date) -> Recurrence:
    if "recurrence" in patch:
        return parse_recurrence(patch["recurrence"], anchor)
    try:
        check_rule(rule, anchor)
    except RecurrenceError as exc:
        raise FieldError(exc.field, f"{exc} (after moving the start)") from None
    return rule


async def update_series(hub: Hub, series_uuid: str, patch: Mapping[str, Any], *,
                        horizon: timedelta = DEFAULT_HORIZON,
                        now: float | None = None) -> SeriesChange:
    """Edit a series: only the fields in `patch`, only on occurrences not yet started."""
    now = time.time() if now is None else now
    series = await live_series(hub, series_uuid)
    old_draft, old_rule, old_resolved = _parts(series)
    draft = merge_patch(old_draft, {k: v for k, v in patch.items() if k != "recurrence"})
    rule = _rule_for(patch, old_rule, draft.start.date())
    resolved = await resolve(hub, draft, old_resolved)
    schedule = rule != old_rule or (draft.start, draft.end, draft.timezone) != (
        old_draft.start, old_draft.end, old_draft.timezone)
    touched = touched_columns([k for k in patch if k != "recurrence"])
    if schedule:
        touched |= set(TIME_COLUMNS)
    live = await event_store.series_events(hub.db, series.id)
    last = max((date.fromisoformat(e.occurrence_date or "") for e in live), default=None)
    through = max(_through(now, horizon, draft), last or date.min)
    wanted = ({o.day.isoformat(): o for o in due_occurrences(draft, rule, now=now,
                                                             through=through)}
              if schedule else None)
    updates, deletes = _plan(draft, resolved, touched, [e for e in live if e.start_at > now],
                             wanted)
    new = [] if wanted is None else [o for day, o in wanted.items()
                                     if day not in {e.occurrence_date for e in live}]
    return await _save(hub, series, draft, rule, resolved, updates=updates, deletes=deletes,
                       inserts=_rows(draft, resolved, new[:MAX_NEW_OCCURRENCES]))


def _plan(draft: EventDraft, resolved: Resolved, touched: set[str], future: list[Event],
          wanted: dict[str, Occurrence] | None,
          ) -> tuple[list[tuple[int, dict[str, Any]]], list[int]]:
    """For each future occurrence: the columns to change, or its deletion."""
    updates, deletes = [], []
    for event in future:
        if wanted is None:
            own = with_times(draft, datetime.fromisoformat(event.start_local),
                             datetime.fromisoformat(event.end_local))
        elif event.occurrence_date in wanted:
            occurrence = wanted[event.occurrence_date]
            own = with_times(draft, occurrence.start_local, occurrence.end_local)
        else:
            deletes.append(event.id)
            continue
        cols = columns(own, resolved)
        diff = changed(event, {name: cols[name] for name in touched})
        if diff:
            updates.append((event.id, diff))
    return updates, deletes


async def add_exceptions(hub: Hub, series_uuid: str, dates: Any, *,
                         now: float | None = None) -> list[Event]:
    """Dates the series skips: future occurrences on them are deleted (Delete is sent)."""
    now = time.time() if now is None else now
    series = await live_series(hub, series_uuid)
    draft, rule, resolved = _parts(series)
    skipped = set(parse_dates("dates", dates))
    rule = replace(rule, exceptions=rule.exceptions | skipped)
    gone = [e.id for e in await event_store.series_events(hub.db, series.id)
            if e.start_at > now and date.fromisoformat(e.occurrence_date or "") in skipped]
    return (await _save(hub, series, draft, rule, resolved, deletes=gone)).deleted


async def delete_series(hub: Hub, series_uuid: str, *,
                        now: float | None = None) -> list[Event]:
    """End a series: future occurrences are deleted; past ones stay as they were."""
    now = time.time() if now is None else now
    series = await live_series(hub, series_uuid)
    draft, rule, resolved = _parts(series)
    gone = [e.id for e in await event_store.series_events(hub.db, series.id)
            if e.start_at > now]
    return (await _save(hub, series, draft, rule, resolved, deletes=gone, end=True)).deleted


async def delete_occurrence(hub: Hub, event: Event) -> Event:
    """Delete one occurrence and record its date as an exception, so no top-up remakes it."""
    series = await event_store.get_series_by_id(hub.db, event.series_id or 0)
    if series is None or event.occurrence_date is None:
        raise NotFound(f"no series for event {event.uuid}")
    draft, rule, resolved = _parts(series)
    rule = replace(rule, exceptions=rule.exceptions | {date.fromisoformat(
        event.occurrence_date)})
    change = await _save(hub, series, draft, rule, resolved, deletes=[event.id])
    if not change.deleted:
        raise NotFound(f"no event {event.uuid}")
    return change.deleted[0]
