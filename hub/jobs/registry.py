"""Every kind of scheduled work the hub does, registered in one runner."""

from __future__ import annotations

from hub.jobs import (
    check_reminders,
    digest,
    exchange,
    mail_notices,
    reminders,
    retention,
    rsvp_notices,
    volunteer_mail,
)
from hub.jobs.runner import JobRunner
from hub.runtime import Hub


def build_runner(hub: Hub) -> JobRunner:
    runner = JobRunner(hub)
    runner.planners += [digest.plan_digests, digest.plan_series_topup,
                        reminders.plan_reminders, mail_notices.plan_mail_notices,
                        volunteer_mail.plan_volunteer_mail,
                        check_reminders.plan_check_reminders,
                        exchange.plan_exchange_sweep, retention.plan_retention,
                        rsvp_notices.plan_owed_notices]
    runner.handlers.update({
        "digest": digest.run_digest,
        "series_topup": digest.run_series_topup,
        "reminder": reminders.run_reminder,
        "rsvp_mail": mail_notices.run_mail_notice,
        "volunteer_mail": volunteer_mail.run_volunteer_mail,
        "check_reminder": check_reminders.run_check_reminder,
        "exchange_sweep": exchange.run_exchange_sweep,
        "retention": retention.run_retention,
        "rsvp_notice": rsvp_notices.run_owed_notice,
        "rsvp_counts": rsvp_notices.run_owed_counts,
    })
    runner.give_ups["volunteer_mail"] = volunteer_mail.give_up_volunteer_mail
    return runner
