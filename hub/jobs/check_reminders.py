"""Reminding staff that a volunteer's check is due for renewal (`check_reminder_days` before,
and once more if it lapses unrenewed), once per check and renewal date.

Every reminder is listed on the console's checks page; when `staff_email` and the mail server
are set, each is also emailed there. The email names no one (email is less private than the
console): the kind of check, its date and a console link.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from hub.jobs.mail_notices import email_body
from hub.mail import mail_enabled, send_mail
from hub.matching.model import check_label
from hub.runtime import Hub
from hub.store import jobs as job_store
from hub.store import volunteers as volunteer_store
from hub.store.jobs import Job, PlannedJob
from hub.store.volunteers import LapsingCheck


def _today(now: float) -> date:
    return datetime.fromtimestamp(now, UTC).date()


def reminder_key(item: LapsingCheck) -> str:
    return f"check-reminder:{item.check.uuid}:{item.status}:{item.check.renewal_on}"


async def plan_check_reminders(hub: Hub, now: float) -> int:
    days = hub.settings.check_reminder_days
    if days <= 0:
        return 0
    found = await volunteer_store.lapsing_checks(hub.db, days, _today(now))
    return await job_store.plan(hub.db, [
        PlannedJob(reminder_key(item), "check_reminder", now,
                   {"check": item.check.uuid, "status": item.status}) for item in found])


def reminder_lines(hub: Hub, item: LapsingCheck) -> list[str]:
    label = check_label(item.check.type)
    when = item.check.renewal_on.strftime("%-d %B %Y")
    news = (f"A volunteer's {label} check lapsed on {when} and has not been renewed: it no "
            "longer counts for matching." if item.status == "lapsed" else
            f"A volunteer's {label} check is due for renewal on {when}. After that date it "
            "stops counting for matching.")
    return [news, f"See who, and the other checks to renew: {hub.urls.base}/console/volunteers/"
                  f"checks"]


async def run_check_reminder(hub: Hub, job: Job, now: float) -> None:
    found = await volunteer_store.lapsing_checks(hub.db, max(hub.settings.check_reminder_days,
                                                             0), _today(now))
    item = next((i for i in found if i.check.uuid == job.payload["check"]
                 and i.status == job.payload["status"]), None)
    if item is None:
        await job_store.finish(hub.db, job.id, "skipped", "renewed, removed or no longer due")
        return
    if not hub.settings.staff_email or not mail_enabled(hub.settings):
        await job_store.finish(hub.db, job.id, "done", "listed in the console (no staff email)")
        return
    subject = ("A volunteer's check has lapsed" if item.status == "lapsed"
               else "A volunteer's check is due for renewal")
    await send_mail(hub.settings, hub.settings.staff_email, subject,
                    email_body(hub, "", reminder_lines(hub, item)))
    await job_store.finish(hub.db, job.id)


async def reminders_sent(hub: Hub, items: list[LapsingCheck]) -> dict[str, float]:
    """When staff were reminded of each item (by check uuid), for the console's list."""
    done = await job_store.finished_at(hub.db, [reminder_key(i) for i in items])
    return {i.check.uuid: done[reminder_key(i)] for i in items if reminder_key(i) in done}
