-- Events, skill-share sessions, recurring series and uploaded images.
-- Times are Unix seconds (REAL) for instants; local wall-clock times are ISO text
-- ('2026-12-06T14:00:00') read with the row's IANA timezone.

-- Uploaded images (event banners). The file lives at HOME/media/<file_name>.
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    file_name TEXT NOT NULL UNIQUE,      -- random, never the uploader's name
    content_type TEXT NOT NULL CHECK (content_type IN
        ('image/jpeg', 'image/png', 'image/webp', 'image/gif')),
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    alt_text TEXT NOT NULL DEFAULT '',
    sha256 TEXT NOT NULL,
    created_at REAL NOT NULL
);

-- A recurring series: the rule and the template its occurrences are made from.
-- template: the event fields as JSON (hub.events.model.draft_to_input), start/end being
-- the first occurrence's; rule: hub.events.recurrence.Recurrence.to_json().
CREATE TABLE event_series (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    template TEXT NOT NULL,
    rule TEXT NOT NULL,
    teacher_name TEXT,                  -- the template's teacher, resolved (see events)
    teacher_actor_id TEXT,
    created_at REAL NOT NULL,
    updated_at REAL,
    deleted_at REAL                     -- ended: no more occurrences are made
);

-- Events and skill-share sessions; each occurrence of a series is its own row (own uuid,
-- own federated Event, own RSVPs). A deleted event keeps its row, served as a Tombstone.
CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    series_id INTEGER REFERENCES event_series (id),
    occurrence_date TEXT,               -- the series date this row stands for (its key)
    kind TEXT NOT NULL CHECK (kind IN ('event', 'skillshare')),
    title TEXT NOT NULL,
    description_source TEXT NOT NULL DEFAULT '',   -- Markdown as typed
    description_html TEXT NOT NULL DEFAULT '',     -- sanitised HTML published
    timezone TEXT NOT NULL,
    start_local TEXT NOT NULL,
    end_local TEXT NOT NULL,
    start_at REAL NOT NULL,
    end_at REAL NOT NULL,
    place_name TEXT,
    street_address TEXT,
    locality TEXT,
    postal_code TEXT,
    region TEXT,
    country TEXT,
    latitude REAL,
    longitude REAL,
    online_url TEXT,
    capacity INTEGER CHECK (capacity IS NULL OR capacity >= 1),
    join_mode TEXT NOT NULL DEFAULT 'free'
        CHECK (join_mode IN ('free', 'restricted', 'none', 'external')),
    external_url TEXT,
    category TEXT,
    hashtags TEXT NOT NULL DEFAULT '[]',           -- JSON list, as typed (without '#')
    banner_id INTEGER REFERENCES media (id),
    language TEXT NOT NULL DEFAULT 'en',
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN
        ('scheduled', 'postponed', 'cancelled', 'moved_online', 'rescheduled')),
    previous_start_at REAL,             -- the start before the last reschedule
    learning_outcome TEXT,
    level TEXT,
    what_to_bring TEXT,
    teacher_name TEXT,                  -- a neighbour's name, or @user@host
    teacher_actor_id TEXT,              -- the teacher's actor, when on the fediverse
    published_at REAL NOT NULL,
    updated_at REAL,
    deleted_at REAL,
    CHECK (join_mode != 'external' OR external_url IS NOT NULL),
    CHECK (end_at > start_at)
);
CREATE INDEX events_upcoming ON events (end_at, start_at) WHERE deleted_at IS NULL;
CREATE INDEX events_series ON events (series_id, start_at);
CREATE UNIQUE INDEX events_occurrence ON events (series_id, occurrence_date)
    WHERE series_id IS NOT NULL AND deleted_at IS NULL;

