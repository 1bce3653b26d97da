-- Volunteer needs posted by this hub's staff, and needs received from hubs it follows.
-- Times are Unix seconds (REAL) for instants; dates are ISO 'YYYY-MM-DD' text; local times
-- of day are 'HH:MM' read in the row's IANA timezone. List columns hold JSON arrays.
-- See docs/needs.md for what each field means and who sees it.

-- A need posted here. description is public (pages, federation); private_notes is for the
-- hub's coordinators only (the neighbour's details) and is never federated or shown publicly.
-- Location is coarse only, as for volunteers: a postcode district and/or a point rounded to
-- 0.01 degree. slots: the weekly slots of a regular need, {"tue": ["afternoon"], ...};
-- for a dated need they are derived from its time window and stored too.
CREATE TABLE needs (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('one_off', 'regular', 'group_role')),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    private_notes TEXT NOT NULL DEFAULT '',
    skills TEXT NOT NULL DEFAULT '[]',
    interests TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    checks_required TEXT NOT NULL DEFAULT '[]',
    languages_required TEXT NOT NULL DEFAULT '[]',
    languages_preferred TEXT NOT NULL DEFAULT '[]',
    accessibility TEXT NOT NULL DEFAULT '',
    district TEXT,
    latitude REAL,
    longitude REAL,
    max_distance_km REAL CHECK (max_distance_km IS NULL OR max_distance_km > 0),
    volunteers_wanted INTEGER NOT NULL DEFAULT 1 CHECK (volunteers_wanted >= 1),
    timezone TEXT NOT NULL,
    on_date TEXT,                        -- one-off tasks and group roles
    starts_on TEXT,                      -- regular commitments
    ends_on TEXT,                        -- regular commitments with an end; NULL: ongoing
    slots TEXT NOT NULL DEFAULT '{}',
    start_time TEXT,                     -- the time window of a dated need, local 'HH:MM'
    end_time TEXT,
    effort_minutes INTEGER CHECK (effort_minutes IS NULL OR effort_minutes > 0),
    event_id INTEGER REFERENCES events (id),   -- the group activity a role is for
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'matching', 'filled', 'closed', 'cancelled')),
    created_at REAL NOT NULL,
    updated_at REAL,
    published_at REAL NOT NULL,
    filled_at REAL,                      -- time to fill = filled_at - published_at
    closed_at REAL,                      -- closed or cancelled
    deleted_at REAL,                     -- removed: served as a Tombstone
    CHECK (kind = 'regular' OR on_date IS NOT NULL),
    CHECK (kind != 'regular' OR starts_on IS NOT NULL),
    CHECK (ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on)
);
CREATE INDEX needs_status ON needs (status, published_at) WHERE deleted_at IS NULL;
CREATE INDEX needs_event ON needs (event_id) WHERE event_id IS NOT NULL;

-- Needs published by hubs this hub follows, parsed from their ActivityPub objects by
-- hub/needs/remote.py (the structured fields the matcher reads), with the object as received.
-- Only the actor it came from may update or delete it; a deleted one is never revived.
CREATE TABLE remote_needs (
    id INTEGER PRIMARY KEY,
    object_id TEXT NOT NULL UNIQUE,      -- the need's ActivityPub id
    actor TEXT NOT NULL,                 -- the hub actor that published it
    url TEXT,                            -- its HTML page on the origin hub
    kind TEXT NOT NULL CHECK (kind IN ('one_off', 'regular', 'group_role')),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',   -- plain text, as the origin published it
    skills TEXT NOT NULL DEFAULT '[]',
    interests TEXT NOT NULL DEFAULT '[]',
    tags TEXT NOT NULL DEFAULT '[]',
    checks_required TEXT NOT NULL DEFAULT '[]',
    languages_required TEXT NOT NULL DEFAULT '[]',
    languages_preferred TEXT NOT NULL DEFAULT '[]',
    accessibility TEXT NOT NULL DEFAULT '',
    district TEXT,
    latitude REAL,
    longitude REAL,
    max_distance_km REAL,
    volunteers_wanted INTEGER NOT NULL DEFAULT 1,
    timezone TEXT NOT NULL,
    on_date TEXT,
    starts_on TEXT,
    ends_on TEXT,
    slots TEXT NOT NULL DEFAULT '{}',
    start_time TEXT,
    end_time TEXT,
    effort_minutes INTEGER,
    status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'matching', 'filled', 'closed', 'cancelled')),
    published_at REAL,                   -- as the origin says
    raw TEXT NOT NULL,                   -- the object as received (JSON)
    received_at REAL NOT NULL,
    updated_at REAL,
    deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
    deleted_at REAL
);
CREATE INDEX remote_needs_open ON remote_needs (status, received_at) WHERE deleted = 0;
CREATE INDEX remote_needs_actor ON remote_needs (actor);
