"""Scheduled work: planners put durable job rows in the store, the runner does the due ones.

`JobRunner.run_forever` ticks every 30 s, and at once when `hub.wake_jobs()` says work was
just queued (an email); ticks never overlap. Every job is a row with a unique key,
finished in the same transaction as what it sends where it can be (`also=` on publishing),
so a restart at any moment neither loses a job nor sends one twice (bar an email whose
sending a stop cut short after waiting a minute for it: see `hub.app`).
"""
