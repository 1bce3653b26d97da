"""Volunteer needs: post, edit, move through their lifecycle, remove; each change is sent to
followers (Create, Update, or Delete when cancelled or removed).

Lifecycle: open → matching → filled → closed, or cancelled from any live status. `matching`
can go back to `open` (no one suitable yet), `filled` back to `open` or `matching` (someone
withdrew). `closed` and `cancelled` are final. A move the lifecycle does not allow raises
`StatusConflict` (409), naming the moves that are allowed.

Every need carries the checks the hub's policy requires for its kind (`need_checks_<kind>`),
whatever staff send. Public text that looks like a personal detail raises `NeedsConfirmation`
(422, with the warnings) unless the caller confirms; nothing is stored before that.

Input is checked first, look-ups second; nothing is stored or sent on a refusal.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from federation.errors import FederationError, NotFound
from hub.events.model import FieldError
from hub.needs import publish
from hub.needs.model import NeedDraft, check_whole, merge_patch, parse_need, with_policy
from hub.needs.warnings import DetailWarning, draft_warnings
from hub.runtime import Hub
from hub.settings import need_check_policy
from hub.store import events as event_store
from hub.store import needs as store
from hub.store.needs import LocalNeed

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("matching", "filled", "cancelled"),
    "matching": ("open", "filled", "cancelled"),
    "filled": ("open", "matching", "closed", "cancelled"),
    "closed": (),
    "cancelled": (),
}
FINAL = frozenset(s for s, moves in TRANSITIONS.items() if not moves)


class StatusConflict(FederationError):
    """The need's status does not allow this move (or this edit)."""

    status = 409

    def __init__(self, message: str, current: str) -> None:
        super().__init__(message)
        self.current = current
        self.allowed = TRANSITIONS.get(current, ())

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, "status": self.current, "allowed": list(self.allowed)}


class NeedsConfirmation(FederationError):
    """Public text looks like it holds personal details; send again confirmed to save it."""

    status = 422

    def __init__(self, warnings: list[DetailWarning]) -> None:
        super().__init__("the public text may hold personal details; move them to "
                         "private_notes, or confirm to save as it is")
        self.warnings = warnings

    def to_json(self) -> dict[str, Any]:
        return {"error": self.message, "warnings": [w.to_json() for w in self.warnings]}


def allowed_moves(status: str) -> tuple[str, ...]:
    return TRANSITIONS.get(status, ())


async def live_need(hub: Hub, need_uuid: str) -> LocalNeed:
    """The need, or NotFound if there is none or it was removed."""
    need = await store.get_need(hub.db, need_uuid)
    if need is None or need.deleted_at is not None:
        raise NotFound(f"no need {need_uuid}")
    return need


def policy_checks(hub: Hub, kind: str) -> tuple[str, ...]:
    """The checks the hub requires of every need of `kind`."""
    return need_check_policy(hub.settings, kind)


async def _resolve_event(hub: Hub, draft: NeedDraft) -> tuple[NeedDraft, int | None]:
    """A group role's activity: the event's id, and its date and times where none are given."""
    if draft.kind != "group_role":
        if draft.event is not None:
            raise FieldError("event", "links only a group role to its activity")
        return draft, None
    if draft.event is None:
        raise FieldError("event", "is required for a group role: the id of the activity")
    event = await event_store.get_event(hub.db, draft.event)
    if event is None or event.deleted:
        raise FieldError("event", f"no live event {draft.event} on this hub")
    start, end = datetime.fromisoformat(event.start_local), datetime.fromisoformat(event.end_local)
    filled = replace(
        draft, on_date=draft.on_date or start.date(),
        start_time=draft.start_time or start.time().replace(second=0),
        end_time=draft.end_time or (end.time().replace(second=0)
                                    if end.date() == start.date() else None),
        timezone=event.timezone if draft.on_date is None else draft.timezone)
    return filled, event.id


async def _prepare(hub: Hub, draft: NeedDraft, *,
                   confirmed: bool) -> tuple[NeedDraft, int | None, list[DetailWarning]]:
    draft, event_id = await _resolve_event(hub, draft)
    draft = check_whole(with_policy(draft, policy_checks(hub, draft.kind)))
    warnings = draft_warnings(draft)
    if warnings and not confirmed:
        raise NeedsConfirmation(warnings)
    return draft, event_id, warnings


async def create_need(hub: Hub, data: Mapping[str, Any], *,
                      confirmed: bool = False) -> tuple[LocalNeed, list[DetailWarning]]:
    """Post a need (status open) and send `Create` to followers; returns it and the warnings
    that were confirmed."""
    draft = parse_need(data, default_timezone=hub.settings.default_timezone)
    draft, event_id, warnings = await _prepare(hub, draft, confirmed=confirmed)
    now = time.time()
    need = await publish.change_and_tell(
        hub, lambda conn: store.write_new_need(conn, draft, event_id=event_id, now=now),
        "Create")
    return need, warnings


async def update_need(hub: Hub, need_uuid: str, patch: Mapping[str, Any], *,
                      confirmed: bool = False) -> tuple[LocalNeed, list[DetailWarning]]:
    """Edit some fields; followers get `Update` if anything changed. Final needs are fixed."""
    need = await live_need(hub, need_uuid)
    if need.status in FINAL:
        raise StatusConflict(f"a {need.status} need cannot be edited", need.status)
    draft, event_id, warnings = await _prepare(hub, merge_patch(need.draft, patch),
                                               confirmed=confirmed)
    if draft == need.draft and event_id == need.event_id:
        return need, warnings
    now = time.time()

    def edit(conn: sqlite3.Connection) -> int:
        if not store.write_draft(conn, need.id, draft, event_id=event_id, now=now):
            raise NotFound(f"no need {need_uuid}")  # removed meanwhile: nothing is written
        return need.id

    kind = "Update" if _public_change(need.draft, draft) else None
    return await publish.change_and_tell(hub, edit, kind), warnings


def _public_change(before: NeedDraft, after: NeedDraft) -> bool:
    """Whether followers must hear of an edit: anything but the private notes changed."""
    return replace(before, private_notes="") != replace(after, private_notes="")


async def change_status(hub: Hub, need_uuid: str, status: str) -> LocalNeed:
    """Move the need in its lifecycle: `Update` to followers, or `Delete` when cancelled."""
    if not isinstance(status, str) or status not in TRANSITIONS:
        raise FieldError("status", f"is one of {', '.join(TRANSITIONS)}")
    need = await live_need(hub, need_uuid)
    if status not in TRANSITIONS[need.status]:
        allowed = ", ".join(TRANSITIONS[need.status]) or "none: it is final"
        raise StatusConflict(f"a need that is {need.status} cannot become {status} "
                             f"(allowed: {allowed})", need.status)
    now = time.time()

    def move(conn: sqlite3.Connection) -> int:
        if not store.write_status(conn, need, status, now=now):
            raise _MovedMeanwhile
        return need.id

    try:
        changed = await publish.change_and_tell(
            hub, move, "Delete" if status == "cancelled" else "Update")
    except _MovedMeanwhile:  # another request moved it first: answer from where it is now
        current = await live_need(hub, need_uuid)
        raise StatusConflict(f"the need became {current.status} meanwhile",
                             current.status) from None
    if status not in store.LIVE_STATUSES:
        # Its own transaction per offer (each Reject goes to that offer's hub); should we stop
        # before the last, the exchange sweep declines what is left (hub.jobs.exchange).
        await _decline_open_offers(hub, changed)
    return changed


class _MovedMeanwhile(Exception):
    """The need's status changed after it was read: nothing is written or sent."""


async def _decline_open_offers(hub: Hub, need: LocalNeed) -> None:
    # Imported here: the exchange builds on needs, not the other way round.
    from hub.exchange.offers import decline_open_offers

    await decline_open_offers(hub, need)


async def delete_need(hub: Hub, need_uuid: str) -> LocalNeed:
    """Remove a need: its URL answers 410 with a Tombstone, and followers get `Delete`
    (unless it was cancelled, which sent `Delete` already)."""
    need = await live_need(hub, need_uuid)
    now = time.time()

    def remove(conn: sqlite3.Connection) -> int:
        if not store.write_removal(conn, need.id, now=now):
            raise NotFound(f"no need {need_uuid}")  # removed meanwhile: nothing is sent
        return need.id

    # A cancelled need's followers got Delete when it was cancelled.
    removed = await publish.change_and_tell(
        hub, remove, None if need.status == "cancelled" else "Delete")
    # Then its open offers are declined (each Reject to its own hub; should we stop before
    # the last, the exchange sweep declines what is left).
    await _decline_open_offers(hub, removed)
    return removed
