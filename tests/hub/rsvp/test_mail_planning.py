"""RSVP news by email: notices whose jobs were skipped or failed never hide newer ones."""

from __future__ import annotations

import time

from hub.jobs import mail_notices
from hub.rsvp import service
from hub.rsvp.service import Person
from hub.runtime import Hub
from hub.store import jobs as job_store
from hub.store import participants as participant_store
from hub.store.events import Event
from tests.hub.rsvp.conftest import EventFactory


async def test_stuck_notices_do_not_hide_newer_ones(hub: Hub, make_event: EventFactory) -> None:
    event = await make_event(capacity=10)
    first = await _owed_email(hub, event, 0)
    # As many notices as a tick plans went nowhere before (no mail server then, or one that
    # refused them to the end): their rows stay unsent, their jobs are finished.
    stuck = mail_notices.PLAN_BATCH
    now = time.time()
    await hub.db.executemany(
        "INSERT INTO rsvp_notifications (participant_id, news, channel, created_at) "
        "VALUES (?, 'going', 'email', ?)", [(first, now)] * (stuck - 1))
    assert await mail_notices.plan_mail_notices(hub, now) == stuck
    for job in await job_store.jobs_of_kind(hub.db, "rsvp_mail"):
        await job_store.finish(hub.db, job["id"], "skipped", "email is not configured")
    # The next sign-up's notice is still planned, and nothing is planned twice.
    await _owed_email(hub, event, 1)
    assert await mail_notices.plan_mail_notices(hub, now) == 1
    assert await mail_notices.plan_mail_notices(hub, now) == 0
    assert len(await job_store.jobs_of_kind(hub.db, "rsvp_mail")) == stuck + 1
    # News never planned in its first days (the hub was down) is stale: it is left alone.
    await hub.db.execute("INSERT INTO rsvp_notifications (participant_id, news, channel, "
                         "created_at) VALUES (?, 'going', 'email', ?)",
                         (first, now - mail_notices.PLAN_WITHIN - 60))
    assert await mail_notices.plan_mail_notices(hub, now) == 0


async def _owed_email(hub: Hub, event: Event, n: int) -> int:
    """A web sign-up, and the email news it is owed (as `rsvp.messages.tell` writes it)."""
    outcome = await service.request_place(hub, event, Person(f"P{n}", email=f"p{n}@example.org"),
                                          "web")
    assert outcome.participant is not None
    await participant_store.add_notification(hub.db, outcome.participant.id, "going", "email",
                                             sent=False)
    return outcome.participant.id
