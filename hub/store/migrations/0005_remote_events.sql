-- Events published by servers the hub follows (peer hubs, Mobilizon, Gancio...), normalised
-- from their Event JSON by hub/events/remote.py, for the "nearby" calendar. The object as
-- received is kept in remote_objects, written in the same transaction.
-- Times are Unix seconds (REAL) for instants.
CREATE TABLE remote_events (
    id TEXT PRIMARY KEY,                 -- the Event's id (URI)
    origin_actor_id TEXT NOT NULL,       -- the followed actor it came from; only it may update it
    origin_host TEXT NOT NULL,
    organiser_id TEXT,                   -- the object's own `actor` (Mobilizon's organiser), who may delete it
    url TEXT NOT NULL,                   -- its HTML page, on the origin's host
    name TEXT NOT NULL,
    summary_html TEXT NOT NULL DEFAULT '',   -- sanitised
    content_html TEXT NOT NULL DEFAULT '',   -- sanitised
    start_at REAL NOT NULL,
    end_at REAL,
    timezone TEXT,                       -- IANA zone, when the sender gave a valid one
    utc_offset INTEGER,                  -- seconds east of UTC of the start as written
    place_name TEXT,
    address TEXT,                        -- one line, from a PostalAddress or a string
    latitude REAL,
    longitude REAL,
    online_url TEXT,
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN
        ('scheduled', 'tentative', 'postponed', 'cancelled', 'moved_online', 'rescheduled')),
    capacity INTEGER,
    remaining INTEGER,
    participants INTEGER,
    category TEXT,
    tags TEXT NOT NULL DEFAULT '[]',     -- JSON list, without '#'
    banner_url TEXT,
    received_at REAL NOT NULL,
    updated_at REAL,
    deleted_at REAL,
    CHECK (end_at IS NULL OR end_at >= start_at)
);
-- "Upcoming" means not yet over: the end, or the start when there is no end.
CREATE INDEX remote_events_upcoming ON remote_events (COALESCE(end_at, start_at))
    WHERE deleted_at IS NULL;
CREATE INDEX remote_events_origin ON remote_events (origin_actor_id, start_at);
