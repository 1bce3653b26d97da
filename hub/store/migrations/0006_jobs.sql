-- Scheduled work as rows (reminders, the weekly digest, topping up series). A job's key names
-- the one notice it stands for, so planning it twice stores it once, and a job that is done
-- never runs again, whatever restarts happen around it.
CREATE TABLE scheduled_jobs (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    run_at REAL NOT NULL,
    payload TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'done', 'skipped', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX scheduled_jobs_due ON scheduled_jobs (state, run_at);
