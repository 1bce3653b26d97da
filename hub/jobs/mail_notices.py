"""Email for people who signed up on the web with an address: RSVP news and reminders.

The RSVP engine records what each person must be told (`rsvp_notifications`, channel email);
this turns each recent unsent row that has no job yet into one (news never planned within
three days is stale), sends it, and then marks the row sent and forgets the private link it
carried. A row whose job was skipped (no mail server) or failed stays unsent and is not
planned again.
"""

from __future__ import annotations

import time

from hub.mail import mail_enabled, send_mail
from hub.rsvp.messages import lines_for
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import jobs as job_store
from hub.store import participants as participant_store
from hub.store.jobs import Job, PlannedJob

SUBJECTS = {"going": "You're going", "promoted": "A place came free: you're going",
            "waitlisted": "You're on the waitlist", "pending": "We got your request",
            "declined": "About your request", "not_going": "You're not going"}
PLAN_BATCH = 500  # rows planned a tick at most
PLAN_WITHIN = 3 * 86400.0  # news older than this, never planned (the hub was down), is stale
_KEY = "'rsvp-mail:' || n.id"  # a notice's job key, formed by SQLite alone


def email_body(hub: Hub, name: str, lines: list[str]) -> str:
    hub_name = hub.settings.display_name or hub.settings.name
    greeting = f"Hello {name}," if name else "Hello,"
    return "\n\n".join([greeting, *lines, f"— {hub_name}\n{hub.urls.profile}"]) + "\n"


async def plan_mail_notices(hub: Hub, now: float) -> int:
    # Only recent rows no job stands for yet. A row whose job was skipped (no mail server
    # then) or failed stays unsent; were those planned again (to no effect), the oldest
    # PLAN_BATCH of them would hide every newer row from here on, and reading them all every
    # tick would grow without end.
    rows = await hub.db.fetchall(
        f"SELECT n.id, {_KEY} AS key FROM rsvp_notifications n WHERE n.channel = 'email' "
        "AND n.sent_at IS NULL AND n.created_at > ? AND NOT EXISTS (SELECT 1 FROM "
        f"scheduled_jobs j WHERE j.key = {_KEY}) ORDER BY n.created_at LIMIT ?",
        (now - PLAN_WITHIN, PLAN_BATCH))
    return await job_store.plan(hub.db, [
        PlannedJob(r["key"], "rsvp_mail", now, {"notification": r["id"]}) for r in rows])


async def run_mail_notice(hub: Hub, job: Job, now: float) -> None:
    row = await hub.db.fetchone(
        "SELECT participant_id, news, detail, sent_at FROM rsvp_notifications WHERE id = ?",
        (job.payload["notification"],))
    person = None if row is None else await participant_store.get_participant(
        hub.db, row["participant_id"])
    event = None if person is None else await event_store.get_event_by_id(hub.db, person.event_id)
    if row is None or row["sent_at"] is not None or person is None or event is None:
        await job_store.finish(hub.db, job.id, "skipped", "nothing left to send")
        return
    if not person.email or not mail_enabled(hub.settings):
        await job_store.finish(hub.db, job.id, "skipped", "email is not configured")
        return
    position = await participant_store.waitlist_position(hub.db, person)
    lines = lines_for(event, row["news"], position=position, link=row["detail"],
                      event_url=f"{hub.urls.base}/events/{event.uuid}")
    subject = f"{SUBJECTS.get(row['news'], 'News')}: {event.title}"
    await send_mail(hub.settings, person.email, subject, email_body(hub, person.name, lines))
    async with hub.db.transaction() as conn:
        await conn.execute("UPDATE rsvp_notifications SET sent_at = ?, detail = NULL WHERE id = ?",
                           (time.time(), job.payload["notification"]))
    await job_store.finish(hub.db, job.id)
