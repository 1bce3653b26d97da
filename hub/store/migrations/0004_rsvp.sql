-- RSVPs from every path (ActivityPub Join, Friendica answers, Mastodon replies and poll
-- votes, the web form, staff), one capacity and one waitlist per event.

-- One row per person and event, kept after they leave (state not_going) for the record.
-- A person is a fediverse actor or a web sign-up by email; `person_key` says which.
CREATE TABLE participants (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES events (id),
    person_key TEXT NOT NULL,           -- the actor's URI, or 'mailto:' + lower-cased email
    actor_id TEXT,                      -- fediverse actor, when there is one
    email TEXT,                         -- web sign-up by email: staff views only, never sent
    handle TEXT,                        -- @user@host, as shown to staff
    name TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL CHECK (state IN
        ('going', 'waitlisted', 'pending', 'maybe', 'not_going', 'declined')),
    via TEXT NOT NULL CHECK (via IN ('join', 'friendica', 'mention', 'poll', 'web', 'staff')),
    join_id TEXT,                       -- their Join: a later Accept (promotion) answers it
    reply_to TEXT,                      -- the note a direct message answers, to thread it
    message TEXT,                       -- Mobilizon's participationMessage
    token_hash TEXT UNIQUE,             -- SHA-256 of the private cancel link's token (web)
    requested_at REAL NOT NULL,         -- when they last asked: the waitlist is FIFO by this
    updated_at REAL NOT NULL,
    CHECK (actor_id IS NOT NULL OR email IS NOT NULL),
    UNIQUE (event_id, person_key)
);
CREATE INDEX participants_state ON participants (event_id, state, requested_at, id);
CREATE INDEX participants_join ON participants (join_id) WHERE join_id IS NOT NULL;

-- Events whose going count changed since followers were last sent an Update of them.
CREATE TABLE rsvp_count_changes (
    event_id INTEGER PRIMARY KEY REFERENCES events (id),
    changed_at REAL NOT NULL
);

-- What each participant was told, or is still to be told: email is sent by the mailer
-- (sent_at NULL until then; `detail` holds the private link it needs, cleared once sent).
CREATE TABLE rsvp_notifications (
    id INTEGER PRIMARY KEY,
    participant_id INTEGER NOT NULL REFERENCES participants (id),
    news TEXT NOT NULL,                 -- going, waitlisted, promoted, declined...
    channel TEXT NOT NULL CHECK (channel IN ('activitypub', 'dm', 'email')),
    detail TEXT,
    created_at REAL NOT NULL,
    sent_at REAL
);
CREATE INDEX rsvp_notifications_unsent ON rsvp_notifications (channel, id)
    WHERE sent_at IS NULL;

-- Polls ("Going / Maybe / Can't come") sent as a `Question`, and the votes that came back.
CREATE TABLE polls (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    event_id INTEGER NOT NULL REFERENCES events (id),
    audience TEXT NOT NULL,             -- JSON list: actor ids, or the followers collection
    end_at REAL NOT NULL,               -- the event's start
    created_at REAL NOT NULL,
    updated_at REAL
);
CREATE INDEX polls_event ON polls (event_id);

CREATE TABLE poll_votes (
    id INTEGER PRIMARY KEY,
    poll_id INTEGER NOT NULL REFERENCES polls (id),
    actor_id TEXT NOT NULL,
    choice TEXT NOT NULL CHECK (choice IN ('going', 'maybe', 'not_going')),
    note_id TEXT NOT NULL,
    voted_at REAL NOT NULL,
    UNIQUE (poll_id, actor_id)
);
