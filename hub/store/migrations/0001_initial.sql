-- The foundation: the hub's keys, remote actors, follows, news posts, the inbound queue,
-- the outbox and the delivery queue. Times are Unix seconds (REAL).

-- Key pairs of the hub's own actors ('hub' = the Group, 'instance' = the Application that signs GETs).
-- Rotation retires the current row and inserts a new one; retired keys are kept for the record.
CREATE TABLE local_keys (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL CHECK (actor IN ('hub', 'instance')),
    private_pem TEXT NOT NULL,
    public_pem TEXT NOT NULL,
    created_at REAL NOT NULL,
    retired_at REAL
);
CREATE UNIQUE INDEX local_keys_current ON local_keys (actor) WHERE retired_at IS NULL;

-- Remote actors we have fetched or heard from, with the key we verify them by.
CREATE TABLE remote_actors (
    id TEXT PRIMARY KEY,                 -- the actor's URI
    type TEXT NOT NULL,
    preferred_username TEXT,
    name TEXT,
    domain TEXT NOT NULL,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    key_id TEXT,
    public_key_pem TEXT,
    document TEXT NOT NULL,              -- the JSON as fetched
    fetched_at REAL NOT NULL,
    deleted_at REAL
);
CREATE INDEX remote_actors_key ON remote_actors (key_id);

-- Who follows the hub. state: pending (manual approval) -> accepted; rejected rows are deleted.
CREATE TABLE followers (
    id INTEGER PRIMARY KEY,
    actor_id TEXT NOT NULL UNIQUE,
    follow_id TEXT NOT NULL,             -- the Follow activity's id, echoed in Accept/Reject
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted')),
    created_at REAL NOT NULL,
    accepted_at REAL
);
CREATE INDEX followers_state ON followers (state, id);

-- Whom the hub follows. state: pending -> accepted | rejected.
CREATE TABLE following (
    id INTEGER PRIMARY KEY,
    actor_id TEXT NOT NULL UNIQUE,
    follow_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'rejected')),
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);

-- The hub's news posts (ActivityStreams Note). A deleted post keeps its row as a Tombstone.
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL,                -- what staff typed
    content_html TEXT NOT NULL,          -- the sanitised HTML published
    published_at REAL NOT NULL,
    updated_at REAL,
    deleted_at REAL
);

-- Objects from other servers (a followed hub's posts...), kept as received.
CREATE TABLE remote_objects (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    document TEXT NOT NULL,
    received_at REAL NOT NULL,
    updated_at REAL,
    deleted_at REAL
);
CREATE INDEX remote_objects_actor ON remote_objects (actor_id, received_at);

-- Inbound queue: every verified activity, stored once by id before the inbox answers 202.
CREATE TABLE inbound (
    id INTEGER PRIMARY KEY,
    activity_id TEXT NOT NULL UNIQUE,
    actor_id TEXT NOT NULL,
    body BLOB NOT NULL,
    received_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'ignored', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL DEFAULT 0,
    error TEXT,
    processed_at REAL
);
CREATE INDEX inbound_due ON inbound (state, next_attempt_at, id);

-- Outbox: every activity the hub has published, as sent.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    activity_id TEXT NOT NULL UNIQUE,
    type TEXT NOT NULL,
    object_id TEXT,
    public INTEGER NOT NULL DEFAULT 1,   -- listed in the public outbox collection
    body BLOB NOT NULL,
    signer TEXT NOT NULL DEFAULT 'hub',  -- which local key signs its deliveries
    created_at REAL NOT NULL
);
CREATE INDEX outbox_public ON outbox (public, id);

-- Delivery queue: one row per (activity, distinct inbox); followers collapse onto shared inboxes.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    inbox TEXT NOT NULL,
    host TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at REAL NOT NULL,
    finished_at REAL,
    UNIQUE (outbox_id, inbox)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at, id);

-- Health of remote hosts, to stop hammering a dead one (Mastodon: failures on 7 distinct days).
CREATE TABLE hosts (
    host TEXT PRIMARY KEY,
    last_success_at REAL,
    last_failure_at REAL,
    failure_days TEXT NOT NULL DEFAULT '[]',   -- JSON list of distinct UTC dates with failures
    unreachable_since REAL
);

-- Staff API tokens; only a hash is stored.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used_at REAL,
    revoked_at REAL
);
