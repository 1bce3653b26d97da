"""Every kind of scheduled work the hub does, registered in one runner."""

from __future__ import annotations

from hub.jobs import digest
from hub.jobs.runner import JobRunner
from hub.runtime import Hub


def build_runner(hub: Hub) -> JobRunner:
    runner = JobRunner(hub)
    runner.planners += [digest.plan_digests, digest.plan_series_topup]
    runner.handlers.update({
        "digest": digest.run_digest,
        "series_topup": digest.run_series_topup,
    })
    return runner
