-- Matching volunteers to needs: asking volunteers, offers between hubs, matches and the hours
-- logged for them, and the hub's Ed25519 key that signs its statements of checks held.
-- Times are Unix seconds (REAL); dates are ISO 'YYYY-MM-DD' text. See docs/volunteers.md
-- (the flow) and docs/federation.md (the messages).

-- The hub's Ed25519 key for Object Integrity Proofs (FEP-8b32): it signs attestations of
-- checks held. Published as a Multikey in the hub actor's assertionMethod; HTTP signatures
-- keep using the RSA key in local_keys. Made at start-up when a hub has none.
CREATE TABLE local_assertion_keys (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL DEFAULT 'hub' CHECK (actor = 'hub'),
    private_pem TEXT NOT NULL,
    public_pem TEXT NOT NULL,
    created_at REAL NOT NULL,
    retired_at REAL
);
CREATE UNIQUE INDEX local_assertion_keys_current ON local_assertion_keys (actor)
    WHERE retired_at IS NULL;

-- A volunteer asked whether they will take a need: one of this hub's needs, or a neighbour's
-- need received into remote_needs. The private web link's token is stored hashed only.
-- channels: how the ask went (JSON list of "dm", "email"); dm_note_id is the id of the
-- direct message sent, so a reply to it ("yes") finds the ask, if it comes from dm_actor.
CREATE TABLE asks (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    need_id INTEGER REFERENCES needs (id) ON DELETE CASCADE,
    remote_need_id INTEGER REFERENCES remote_needs (id) ON DELETE CASCADE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL DEFAULT 'asked'
        CHECK (status IN ('asked', 'yes', 'no', 'expired', 'withdrawn')),
    asked_by TEXT NOT NULL CHECK (asked_by IN ('staff', 'policy')),
    channels TEXT NOT NULL DEFAULT '[]',
    answered_via TEXT CHECK (answered_via IS NULL OR answered_via IN ('web', 'dm', 'staff')),
    dm_note_id TEXT UNIQUE,
    dm_actor TEXT,                       -- the volunteer's actor the message went to
    asked_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    answered_at REAL,
    CHECK ((need_id IS NULL) != (remote_need_id IS NULL))
);
CREATE UNIQUE INDEX asks_local_once ON asks (need_id, volunteer_id) WHERE need_id IS NOT NULL;
CREATE UNIQUE INDEX asks_remote_once ON asks (remote_need_id, volunteer_id)
    WHERE remote_need_id IS NOT NULL;
CREATE INDEX asks_volunteer ON asks (volunteer_id, asked_at);
CREATE INDEX asks_open ON asks (expires_at) WHERE status = 'asked';

-- Offers this hub received for its needs from neighbouring hubs: pseudonymous, never a name,
-- contact or exact place. attestation is the home hub's signed statement of checks held,
-- verified on receipt and kept as received (JSON).
CREATE TABLE offers_received (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    offer_id TEXT NOT NULL UNIQUE,       -- the Offer's ActivityPub id
    actor TEXT NOT NULL,                 -- the volunteer's home hub
    need_id INTEGER NOT NULL REFERENCES needs (id) ON DELETE CASCADE,
    pseudonym TEXT NOT NULL,
    distance_band TEXT NOT NULL,
    skills TEXT NOT NULL DEFAULT '[]',
    availability TEXT NOT NULL DEFAULT '[]',   -- the need's weekly slots the volunteer is free in
    languages TEXT NOT NULL DEFAULT '[]',
    checks_held TEXT NOT NULL DEFAULT '[]',    -- from the verified attestation
    attestation TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'offered'
        CHECK (status IN ('offered', 'accepted', 'rejected', 'withdrawn', 'expired')),
    received_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    decided_at REAL,
    UNIQUE (need_id, actor, pseudonym)
);
CREATE INDEX offers_received_need ON offers_received (need_id, status);
CREATE INDEX offers_received_open ON offers_received (expires_at) WHERE status = 'offered';

-- Offers this hub sent for its volunteers (an ask answered yes for a neighbour's need).
CREATE TABLE offers_sent (
    id INTEGER PRIMARY KEY,
    ask_id INTEGER NOT NULL UNIQUE REFERENCES asks (id) ON DELETE CASCADE,
    offer_id TEXT NOT NULL UNIQUE,
    remote_need_id INTEGER NOT NULL REFERENCES remote_needs (id) ON DELETE CASCADE,
    to_actor TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'offered'
        CHECK (status IN ('offered', 'accepted', 'rejected', 'withdrawn', 'expired')),
    sent_at REAL NOT NULL,
    expires_at REAL NOT NULL,
    answered_at REAL
);
CREATE INDEX offers_sent_open ON offers_sent (expires_at) WHERE status = 'offered';

-- A volunteer matched to a need. At the need's hub: a local volunteer (volunteer_id) or an
-- accepted remote offer (offer_received_id). At a volunteer's home hub, for a neighbour's
-- need: the accepted offer it sent (offer_sent_id), so fairness and capacity count it.
-- contact: the other side's contact, handed over only after acceptance (JSON).
CREATE TABLE matches (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    need_id INTEGER REFERENCES needs (id) ON DELETE CASCADE,
    remote_need_id INTEGER REFERENCES remote_needs (id) ON DELETE CASCADE,
    volunteer_id INTEGER REFERENCES volunteers (id) ON DELETE SET NULL,
    offer_received_id INTEGER UNIQUE REFERENCES offers_received (id) ON DELETE SET NULL,
    offer_sent_id INTEGER UNIQUE REFERENCES offers_sent (id) ON DELETE SET NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'ended')),
    accepted_at REAL NOT NULL,
    contact TEXT,
    contact_at REAL,
    ended_at REAL,
    CHECK ((need_id IS NULL) != (remote_need_id IS NULL))
);
CREATE INDEX matches_need ON matches (need_id) WHERE need_id IS NOT NULL;
CREATE INDEX matches_volunteer ON matches (volunteer_id, accepted_at);

-- Sessions or hours done for a match, logged by the volunteer (their private link) or staff.
CREATE TABLE match_sessions (
    id INTEGER PRIMARY KEY,
    match_id INTEGER NOT NULL REFERENCES matches (id) ON DELETE CASCADE,
    on_date TEXT NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes > 0 AND minutes <= 1440),
    logged_by TEXT NOT NULL CHECK (logged_by IN ('volunteer', 'staff')),
    logged_at REAL NOT NULL
);
CREATE INDEX match_sessions_match ON match_sessions (match_id, on_date);
