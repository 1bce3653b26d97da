"""What an RSVP change owes that the request making it stopped before sending.

- When a place comes free, whoever is promoted is owed a message ("a place came free: you're
  going"), written with the promotion (`rsvp_notifications`, unsent). The request that
  promoted them sends it at once, marking it sent in the same transaction; if that request
  stopped first, this job sends it a minute later. Email notices go by `mail_notices`.
- A change of an event's going count owes followers an `Update` (`rsvp_count_changes`); the
  request queues it with its claim on the change, and this job does if it did not.
"""

from __future__ import annotations

from federation.errors import Unreachable
from hub.rsvp import messages
from hub.rsvp.service import publish_counts
from hub.runtime import Hub
from hub.store import events as event_store
from hub.store import jobs as job_store
from hub.store import participants as participant_store
from hub.store.jobs import Job, PlannedJob

OWED_AFTER = 60.0  # the request that owes it has had its chance
GIVE_UP_AFTER = 3 * 86400.0  # news this old is no longer worth sending


async def plan_owed_notices(hub: Hub, now: float) -> int:
    """A job for each notice and count change still owed that has none pending. Keys carry
    the hour (or minute): when a job has used up its tries (the runner's 5, 5 minutes
    apart), a new one is planned for the next, until the notice is too old to send."""
    owed = await participant_store.owed_notices(
        hub.db, created_before=now - OWED_AFTER, created_after=now - GIVE_UP_AFTER, now=now)
    counts = await participant_store.unsent_count_changes(hub.db,
                                                           changed_before=now - OWED_AFTER)
    pending = {key.rsplit(":", 1)[0] for key in await job_store.pending_keys(hub.db, "rsvp-")}
    hour, minute = int(now // 3600), int(now // 60)
    return await job_store.plan(hub.db, [
        *(PlannedJob(f"rsvp-notice:{notice}:{hour}", "rsvp_notice", now, {"notice": notice})
          for notice in owed if f"rsvp-notice:{notice}" not in pending),
        *(PlannedJob(f"rsvp-counts:{event_id}:{minute}", "rsvp_counts", now,
                     {"event": event_id})
          for event_id in counts if f"rsvp-counts:{event_id}" not in pending)])


async def run_owed_counts(hub: Hub, job: Job, now: float) -> None:
    await publish_counts(hub, job.payload["event"])  # nothing if another sent it meanwhile
    await job_store.finish(hub.db, job.id)


async def run_owed_notice(hub: Hub, job: Job, now: float) -> None:
    notice = await participant_store.get_notice(hub.db, job.payload["notice"])
    person = None if notice is None else await participant_store.get_participant(
        hub.db, notice["participant_id"])
    event = None if person is None else await event_store.get_event_by_id(hub.db,
                                                                          person.event_id)
    if notice is None or notice["sent_at"] is not None or person is None or event is None:
        await job_store.finish(hub.db, job.id, "skipped", "nothing left to send")
        return
    if notice["news"] == "promoted" and person.state != "going":
        await job_store.finish(hub.db, job.id, "skipped", f"they are {person.state} now")
        return
    if not await messages.tell(hub, event, person, notice["news"], channel=notice["channel"],
                               notice=notice["id"]):
        raise Unreachable(f"cannot reach {person.actor_id} now")  # the runner tries again
    await job_store.finish(hub.db, job.id)
