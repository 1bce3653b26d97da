"""Every email to a volunteer: the welcome with their private link, word that a coordinator
approved them, a new link, and the messages of matching (an ask, news about an offer), which
are written whole with the change they report. Each unsent `volunteer_mail` row becomes a
job; once the mail server has taken the message, the row is marked sent and the link or text
it carried is forgotten. No request waits on the mail server: the runner is woken at once
(`hub.wake_jobs`) and retries a refused message (hub.jobs.runner)."""

from __future__ import annotations

from hub.jobs.mail_notices import email_body
from hub.mail import mail_enabled, send_mail
from hub.runtime import Hub
from hub.store import jobs as job_store
from hub.store import signups
from hub.store import volunteers as volunteer_store
from hub.store.jobs import Job, PlannedJob


def welcome_lines(hub: Hub, link: str) -> list[str]:
    name = hub.settings.display_name or hub.settings.name
    return [f"Thank you for signing up to volunteer with {name}. A coordinator will be in "
            "touch to say hello before we suggest anything.",
            f"This is your private link to see, correct, download or delete your details "
            f"(it works for 30 days; don't share it):\n{link}",
            "If you didn't sign up, open the link and delete the details: nothing else will "
            "happen."]


def approved_lines(hub: Hub) -> list[str]:
    name = hub.settings.display_name or hub.settings.name
    return [f"Good news: {name}'s coordinators have confirmed you as a volunteer. From now on "
            "we may ask you to help with things that suit you, as you agreed; you can always "
            "say no.",
            "To see or change your details and what you agreed to, use the private link we "
            "sent when you signed up, or ask us for a new one."]


def new_link_lines(link: str) -> list[str]:
    return ["You asked for a new private link to your volunteer details. Here it is (it works "
            f"for 30 days and replaces any earlier one; don't share it):\n{link}",
            "If you didn't ask for it, you can ignore this email: only you received the link."]


SUBJECTS = {"welcome": "Your volunteer sign-up", "approved": "You're confirmed as a volunteer",
            "link": "Your new private link"}


async def plan_volunteer_mail(hub: Hub, now: float) -> int:
    return await job_store.plan(hub.db, [
        PlannedJob(key, "volunteer_mail", now, {"mail": mail_id, "stamp": stamp})
        for mail_id, stamp, key in await signups.unplanned_mail(hub.db)])


async def run_volunteer_mail(hub: Hub, job: Job, now: float) -> None:
    # Jobs planned before 0015 name the id alone.
    mail = await signups.get_mail(hub.db, job.payload["mail"], job.payload.get("stamp"))
    volunteer = None if mail is None else await volunteer_store.get_volunteer_by_id(
        hub.db, mail.volunteer_id)
    if (mail is None or mail.sent_at is not None or mail.given_up_at is not None
            or volunteer is None
            or (mail.kind in ("welcome", "link") and not mail.link)
            or (mail.kind == "message" and not mail.body)):
        await job_store.finish(hub.db, job.id, "skipped", "nothing left to send")
        return
    if not volunteer.profile.email or not mail_enabled(hub.settings):
        # Not sent, and it never will be: given up (an ask shows it as not delivered).
        await job_store.finish(hub.db, job.id, "skipped", "email is not configured")
        await signups.give_up_mail(hub.db, mail)
        return
    if mail.kind == "message":
        subject, text = mail.subject or "", mail.body or ""
    else:
        lines = {"welcome": lambda: welcome_lines(hub, mail.link or ""),
                 "link": lambda: new_link_lines(mail.link or ""),
                 "approved": lambda: approved_lines(hub)}[mail.kind]()
        subject, text = SUBJECTS[mail.kind], email_body(hub, volunteer.profile.name, lines)
    await send_mail(hub.settings, volunteer.profile.email, subject, text)
    await signups.mark_mail_sent(hub.db, mail)
    await job_store.finish(hub.db, job.id)


async def give_up_volunteer_mail(hub: Hub, job: Job) -> None:
    """The mail server kept refusing it (or it could not be made): its row is not planned
    again, and the link or text it carried is forgotten."""
    mail = await signups.get_mail(hub.db, job.payload["mail"], job.payload.get("stamp"))
    if mail is not None:
        await signups.give_up_mail(hub.db, mail)
