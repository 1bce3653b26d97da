"""Every kind of scheduled work the hub does, registered in one runner."""

from __future__ import annotations

from hub.jobs import digest, mail_notices, reminders
from hub.jobs.runner import JobRunner
from hub.runtime import Hub


def build_runner(hub: Hub) -> JobRunner:
    runner = JobRunner(hub)
    runner.planners += [digest.plan_digests, digest.plan_series_topup,
                        reminders.plan_reminders, mail_notices.plan_mail_notices]
    runner.handlers.update({
        "digest": digest.run_digest,
        "series_topup": digest.run_series_topup,
        "reminder": reminders.run_reminder,
        "rsvp_mail": mail_notices.run_mail_notice,
    })
    return runner
