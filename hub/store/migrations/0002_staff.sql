-- Staff accounts for the console, their server-side sessions, and the audit log of staff actions.
-- Times are Unix seconds (REAL).

-- People who run the hub. role: coordinator (manages staff, sees volunteers' personal details)
-- or helper (does not). Passwords are argon2id hashes; a disabled account keeps its row so the
-- audit log still names who did what.
CREATE TABLE staff (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,       -- lower case, checked by hub/store/staff.py
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('coordinator', 'helper')),
    created_at REAL NOT NULL,
    password_changed_at REAL NOT NULL,
    last_login_at REAL,
    disabled_at REAL
);

-- One row per logged-in browser. id is the SHA-256 of the cookie's random token, so a stolen
-- database does not hand out live sessions. csrf_secret is rendered into the session's forms.
CREATE TABLE staff_sessions (
    id TEXT PRIMARY KEY,
    staff_id INTEGER NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    csrf_secret TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_seen_at REAL NOT NULL,
    expires_at REAL NOT NULL,            -- the absolute end; the idle limit is applied on use
    user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE INDEX staff_sessions_expiry ON staff_sessions (expires_at);

-- What staff changed, newest last. staff_id is NULL for actions taken with the CLI.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at REAL NOT NULL,
    staff_id INTEGER REFERENCES staff (id),
    action TEXT NOT NULL,                -- e.g. post.create, follower.approve, staff.disable
    target TEXT NOT NULL DEFAULT '',     -- what it acted on: an actor URL, a post URL, a username
    detail TEXT NOT NULL DEFAULT '{}'    -- JSON object with anything else worth keeping
);
CREATE INDEX audit_log_staff ON audit_log (staff_id, id);
CREATE INDEX audit_log_target ON audit_log (target, id);
