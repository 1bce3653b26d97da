"""The job runner: plan what is coming, then run what is due, one registry of kinds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from federation.errors import FederationError
from hub.runtime import Hub
from hub.store import jobs as job_store
from hub.store.db import StoreError
from hub.store.jobs import Job

log = logging.getLogger(__name__)

# A handler must finish its job: through `also=job_store.finisher(job.id)` when it publishes,
# or `await job_store.finish(...)` after an outside effect such as an email.
Handler = Callable[[Hub, Job, float], Awaitable[None]]
Planner = Callable[[Hub, float], Awaitable[int]]
# Called once a job has failed for good (its last try, or an error not worth retrying), for
# the row it stood for: an email given up forgets its private link.
GiveUp = Callable[[Hub, Job], Awaitable[None]]
RETRY_AFTER = 300.0
MAX_ATTEMPTS = 5


@dataclass
class JobRunner:
    hub: Hub
    handlers: dict[str, Handler] = field(default_factory=dict)
    planners: list[Planner] = field(default_factory=list)
    give_ups: dict[str, GiveUp] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    _woken: asyncio.Event = field(default_factory=asyncio.Event, init=False, repr=False)
    _stop: asyncio.Event | None = field(default=None, init=False, repr=False)

    def wake(self) -> None:
        """Tick now rather than at the next interval: work was just queued (an email)."""
        self._woken.set()

    async def run_forever(self, stop: asyncio.Event, interval: float) -> None:
        """Tick every `interval` seconds, and soon after each `wake()`, until `stop`. Once
        `stop` is set, a tick under way finishes the job it is running and no more: a job cut
        short (an email whose sending thread runs on regardless) could be done twice. (The
        hub waits a minute for it, then cuts it short all the same.)"""
        self._stop = stop
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), interval)
            self._woken.clear()
            if stop.is_set():
                return
            try:
                await self.tick()
            except Exception:  # the store was busy or gone: the next tick tries again
                log.exception("the job runner's tick failed")

    async def tick(self) -> int:
        """Plan upcoming jobs, then run every due one; returns how many ran. One tick at a
        time per hub, whichever runner starts it (the hub's own or a test's), so no
        job runs twice at once."""
        async with self.hub.ticking:
            now = self.clock()
            for planner in self.planners:
                await planner(self.hub, now)
            ran = 0
            for job in await job_store.due(self.hub.db, now):
                if self._stop is not None and self._stop.is_set():
                    break
                await self._run(job, now)
                ran += 1
            return ran

    async def _run(self, job: Job, now: float) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            await job_store.finish(self.hub.db, job.id, "failed", f"no handler for {job.kind}")
            return
        try:
            await handler(self.hub, job, now)
        except (FederationError, StoreError, OSError) as exc:
            # Worth another try (a peer or the mail server may be back); recorded on the row.
            await self._retry(job, str(exc))
        except Exception as exc:
            log.exception("job %s failed", job.key)
            await self._fail(job, repr(exc))

    async def _retry(self, job: Job, error: str) -> None:
        if job.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("job %s failed after %d tries: %s", job.key, MAX_ATTEMPTS, error)
            await self._fail(job, error)
        else:
            await job_store.retry_later(self.hub.db, job.id, self.clock() + RETRY_AFTER, error)


    async def _fail(self, job: Job, error: str) -> None:
        give_up = self.give_ups.get(job.kind)
        if give_up is not None:
            try:
                await give_up(self.hub, job)
            except Exception:  # the job is failed all the same; the next tick may retry this
                log.exception("job %s: giving up its work failed", job.key)
                return
        await job_store.finish(self.hub.db, job.id, "failed", error)
