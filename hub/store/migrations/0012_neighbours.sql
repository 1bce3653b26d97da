-- Neighbourhood federation (docs/neighbours.md): the commonhub hubs this hub knows of, the
-- seeds staff added, and the domains staff blocked or allowed. Times are Unix seconds (REAL).

-- Hubs recognised as commonhub by their NodeInfo, with the area their actor publishes.
-- state: known (recognised, not paired) | paired (the hub follows it) | paused (staff stopped
-- following it for now; discovery leaves it be) | unpaired (staff ended the pairing both ways;
-- discovery does not pair it again until staff add it).
CREATE TABLE neighbours (
    actor_id TEXT PRIMARY KEY,
    authority TEXT NOT NULL,             -- host[:port] of the actor
    name TEXT,
    area_name TEXT,
    latitude REAL,
    longitude REAL,
    radius_km REAL,
    distance_km REAL,                    -- between the two centres, when both have an area
    peers_url TEXT,                      -- its peers collection
    state TEXT NOT NULL DEFAULT 'known'
        CHECK (state IN ('known', 'paired', 'paused', 'unpaired')),
    announce_events INTEGER NOT NULL DEFAULT 0,  -- staff relay its events to our followers
    source TEXT NOT NULL CHECK (source IN ('seed', 'staff', 'walk', 'follower')),
    first_seen_at REAL NOT NULL,
    last_visited_at REAL,
    last_ok_at REAL,                     -- last visit that fetched everything it asked for
    failures INTEGER NOT NULL DEFAULT 0, -- visits failed in a row
    last_error TEXT
);
CREATE INDEX neighbours_state ON neighbours (state, distance_km);

-- Hubs staff added to start discovery from (besides the neighbour_seeds setting).
CREATE TABLE neighbour_seeds (
    target TEXT PRIMARY KEY,             -- a handle or URL, as staff gave it
    added_at REAL NOT NULL
);

-- Domains staff blocked (never contacted, activities refused) or allowed (paired whatever
-- the distance). domain: a host (covers subdomains and every port) or host:port.
CREATE TABLE domain_policies (
    domain TEXT PRIMARY KEY,
    policy TEXT NOT NULL CHECK (policy IN ('block', 'allow')),
    created_at REAL NOT NULL
);
