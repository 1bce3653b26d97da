-- Volunteers signing themselves up: on the web form, or from a fediverse account that asked
-- the hub for a link. See docs/volunteers.md.

-- status: 'pending' until a coordinator approves a self sign-up; only 'active' volunteers are
-- matched. Volunteers staff add through the API are active at once (staff met them).
-- source: who made the record. actor_id and handle_verified_at are set when the handle was
-- proven: the sign-up came through a link the hub sent to that fediverse account.
ALTER TABLE volunteers ADD COLUMN status TEXT NOT NULL DEFAULT 'active'
    CHECK (status IN ('pending', 'active'));
ALTER TABLE volunteers ADD COLUMN source TEXT NOT NULL DEFAULT 'staff'
    CHECK (source IN ('staff', 'web', 'fediverse'));
ALTER TABLE volunteers ADD COLUMN actor_id TEXT;
ALTER TABLE volunteers ADD COLUMN handle_verified_at REAL;
ALTER TABLE volunteers ADD COLUMN approved_at REAL;
CREATE INDEX volunteers_status ON volunteers (status, created_at);
CREATE INDEX volunteers_actor ON volunteers (actor_id);

-- A sign-up link sent by direct message to a fediverse account: single use, only its SHA-256
-- stored, one live link per account (a new request replaces the old link).
CREATE TABLE volunteer_invites (
    actor_id TEXT PRIMARY KEY,
    handle TEXT NOT NULL,                 -- @user@host, as the account's own server names it
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);

-- Email to a volunteer waiting for the mailer (the welcome with their private link). The link
-- is forgotten once the mail server has taken the message; the row goes with the volunteer.
CREATE TABLE volunteer_mail (
    id INTEGER PRIMARY KEY,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    link TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX volunteer_mail_unsent ON volunteer_mail (sent_at, id);
