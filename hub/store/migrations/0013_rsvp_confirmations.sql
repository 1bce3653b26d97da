-- Web RSVPs waiting for the person to open the link sent to their email or fediverse account.
-- Nothing here holds a place: the place is asked for when the link is confirmed.
CREATE TABLE rsvp_confirmations (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,       -- sha256 of the link's secret; the secret is not kept
    event_id INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    email TEXT,
    actor_id TEXT,
    handle TEXT,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX rsvp_confirmations_expiry ON rsvp_confirmations (expires_at);
