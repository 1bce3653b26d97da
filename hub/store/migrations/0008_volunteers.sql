-- Volunteers at this hub, their consents (with history), the checks staff record, training,
-- private access links, and tombstones of deleted volunteers. Times are Unix seconds (REAL);
-- dates are ISO 'YYYY-MM-DD' text. See docs/volunteers.md for what is kept and why.

-- A volunteer's profile. Location is coarse only: a postcode district and/or a point rounded
-- to 2 decimal places (~1 km); the exact point is never stored. pseudonym is random and is
-- the only identifier other hubs will ever see; uuid names the volunteer in staff URLs.
CREATE TABLE volunteers (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    pseudonym TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    handle TEXT,                         -- fediverse @user@host
    phone TEXT,
    district TEXT,                       -- UK postcode district (outward code), e.g. IG1
    latitude REAL,                       -- rounded to 0.01 degree
    longitude REAL,
    skills TEXT NOT NULL DEFAULT '[]',   -- JSON lists of concept ids
    interests TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',     -- JSON list of free tags
    languages TEXT NOT NULL DEFAULT '[]',
    availability TEXT NOT NULL DEFAULT '{}',  -- JSON {"mon": ["morning", ...], ...}
    max_commitments INTEGER NOT NULL DEFAULT 1 CHECK (max_commitments >= 1),
    match_here INTEGER NOT NULL DEFAULT 0,        -- current consents; history below
    match_neighbours INTEGER NOT NULL DEFAULT 0,
    contact_by_dm INTEGER NOT NULL DEFAULT 0,
    references_received INTEGER NOT NULL DEFAULT 0,  -- recorded by staff
    references_on TEXT,                   -- date the last reference arrived
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE INDEX volunteers_district ON volunteers (district);

-- Every consent given or withdrawn, in order: the volunteer's record of what they agreed to.
CREATE TABLE volunteer_consents (
    id INTEGER PRIMARY KEY,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    consent TEXT NOT NULL CHECK (consent IN ('match_here', 'match_neighbours', 'contact_by_dm')),
    given INTEGER NOT NULL CHECK (given IN (0, 1)),
    at REAL NOT NULL
);
CREATE INDEX volunteer_consents_volunteer ON volunteer_consents (volunteer_id, id);

-- Checks recorded by staff: the status only (type = level and workforce, dates, decision),
-- never certificate contents, so there is deliberately no certificate number or note column.
CREATE TABLE volunteer_checks (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    checked_on TEXT NOT NULL,
    renewal_on TEXT NOT NULL CHECK (renewal_on > checked_on),
    decision TEXT NOT NULL CHECK (decision IN ('clear', 'not_clear')),
    recorded_at REAL NOT NULL
);
CREATE INDEX volunteer_checks_volunteer ON volunteer_checks (volunteer_id);
CREATE INDEX volunteer_checks_renewal ON volunteer_checks (renewal_on);

-- Training done (safeguarding induction...), recorded by staff.
CREATE TABLE volunteer_training (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    course TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    recorded_at REAL NOT NULL
);
CREATE INDEX volunteer_training_volunteer ON volunteer_training (volunteer_id);

-- The volunteer's private link to see, correct, export and delete their data; only the
-- SHA-256 of the token is stored. One live link per volunteer: a new one replaces the old.
CREATE TABLE volunteer_access_links (
    volunteer_id INTEGER PRIMARY KEY REFERENCES volunteers (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    expires_at REAL NOT NULL
);

-- What is left of a deleted volunteer: random identifiers and the time, nothing personal.
-- Kept so a later federated message naming the pseudonym is answered "gone", not "unknown".
CREATE TABLE volunteer_tombstones (
    uuid TEXT PRIMARY KEY,
    pseudonym TEXT NOT NULL UNIQUE,
    deleted_at REAL NOT NULL
);
