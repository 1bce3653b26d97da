-- Inbound activities are deduplicated by id AND body, not by id alone: Mobilizon gives the
-- Create and every Update of an event the same activity id, so an id-only key dropped its
-- updates. A redelivery of the same activity carries the same body and is still stored once.
CREATE TABLE inbound_v2 (
    id INTEGER PRIMARY KEY,
    activity_id TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,     -- activity id + SHA-256 of the raw body
    actor_id TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'ignored', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    error TEXT,
    processed_at REAL
);
INSERT INTO inbound_v2 (id, activity_id, dedupe_key, actor_id, body, received_at, state,
                        attempts, next_attempt_at, error, processed_at)
    SELECT id, activity_id, activity_id, actor_id, body, received_at, state, attempts,
           next_attempt_at, error, processed_at FROM inbound;
DROP TABLE inbound;
ALTER TABLE inbound_v2 RENAME TO inbound;
CREATE INDEX inbound_due ON inbound (state, next_attempt_at, id);
CREATE INDEX inbound_activity ON inbound (activity_id);
