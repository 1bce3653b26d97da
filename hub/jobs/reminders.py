"""Reminders to participants before an event (24 h and 1 h by default, `reminder_hours`).

One job per participant, offset and start time: a rescheduled event gets new jobs and its
old ones are skipped when they come due. A direct message is finished in the same
transaction that queues it; an email is marked done once the mail server has taken it.
"""

from __future__ import annotations

import time

from hub.activitypub.rsvp import direct_message
from hub.events.summary import when_text, where_text
from hub.jobs.mail_notices import email_body
from hub.mail import mail_enabled, send_mail
from hub.rsvp.messages import dm_id, recipient
from hub.runtime import Hub
from hub.services.outbox import send_to_actor
from hub.settings import reminder_offsets
from hub.store import events as event_store
from hub.store import jobs as job_store
from hub.store import participants as participant_store
from hub.store.events import Event
from hub.store.jobs import Job, PlannedJob
from hub.store.participants import Participant

PLAN_AHEAD = 3600.0  # plan this long before the earliest reminder is due


async def plan_reminders(hub: Hub, now: float) -> int:
    offsets = reminder_offsets(hub.settings)
    if not offsets:
        return 0
    horizon = now + offsets[0] + PLAN_AHEAD
    planned = []
    for event in await event_store.list_upcoming(hub.db, now=now, limit=500):
        if event.start_at > horizon or event.start_at <= now or event.status == "cancelled":
            continue
        for person in await participant_store.list_participants(hub.db, event.id, "going"):
            planned += [_job(event, person, offset) for offset in offsets]
    return await job_store.plan(hub.db, planned)


def _job(event: Event, person: Participant, offset: float) -> PlannedJob:
    start = int(event.start_at)
    return PlannedJob(f"reminder:{person.id}:{int(offset)}:{start}", "reminder",
                      event.start_at - offset,
                      {"participant": person.id, "event": event.uuid, "start_at": start,
                       "offset": offset})


def _skip_reason(hub: Hub, job: Job, event: Event | None, person: Participant | None,
                 now: float) -> str | None:
    if event is None or event.deleted or event.status == "cancelled":
        return "the event is gone or cancelled"
    if int(event.start_at) != job.payload["start_at"]:
        return "the event moved; a new reminder is planned"
    if person is None or person.state != "going":
        return "no longer going"
    if now >= event.start_at:
        return "the event has started"
    if person.requested_at > job.run_at:
        return "they signed up after this reminder was due"
    later = [o for o in reminder_offsets(hub.settings) if o < job.payload["offset"]]
    if any(now >= event.start_at - o for o in later):
        return "a closer reminder is due instead"
    return None


def reminder_lines(hub: Hub, event: Event) -> list[str]:
    where = where_text(event)
    text = f"Reminder: {event.title} is {when_text(event)}" + (f", at {where}." if where
                                                              else ".")
    return [text, f"{hub.urls.base}/events/{event.uuid}"]


async def run_reminder(hub: Hub, job: Job, now: float) -> None:
    event = await event_store.get_event(hub.db, job.payload["event"])
    person = await participant_store.get_participant(hub.db, job.payload["participant"])
    reason = _skip_reason(hub, job, event, person, now)
    if reason is not None or event is None or person is None:
        await job_store.finish(hub.db, job.id, "skipped", reason)
        return
    lines = reminder_lines(hub, event)
    if person.actor_id:
        to = await recipient(hub, person.actor_id)
        if to is None:
            await job_store.finish(hub.db, job.id, "skipped", "their account cannot be reached")
            return
        message = direct_message(hub.urls, to, lines, note_id=dm_id(hub, event), when=time.time())
        await send_to_actor(hub, message, person.actor_id, also=job_store.finisher(job.id))
    elif person.email and mail_enabled(hub.settings):
        await send_mail(hub.settings, person.email, f"Reminder: {event.title}",
                        email_body(hub, person.name, lines))
        await job_store.finish(hub.db, job.id)
    else:
        await job_store.finish(hub.db, job.id, "skipped", "no way to reach them")
