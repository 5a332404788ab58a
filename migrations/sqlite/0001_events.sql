-- Every deployment's history: an append-only event log chained by hashes, a projection of each
-- deployment for listing, and the chain head (so removing the newest events is detected too).

CREATE TABLE deployments (
    id          INTEGER PRIMARY KEY,
    release     TEXT    NOT NULL,
    plan        TEXT    NOT NULL,
    platform    TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    lead        TEXT    NOT NULL,
    lead_name   TEXT,
    status      TEXT    NOT NULL,
    progress    INTEGER NOT NULL,
    started_at  TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    ended_at    TEXT
);

-- One open deployment per channel, enforced here and not only in code.
CREATE UNIQUE INDEX deployments_one_open_per_channel
    ON deployments (platform, channel) WHERE ended_at IS NULL;
CREATE INDEX deployments_by_channel ON deployments (platform, channel, id);

CREATE TABLE events (
    id            INTEGER PRIMARY KEY,
    deployment_id INTEGER NOT NULL REFERENCES deployments (id),
    seq           INTEGER NOT NULL,
    at            TEXT    NOT NULL,
    actor         TEXT    NOT NULL,
    actor_name    TEXT,
    platform      TEXT    NOT NULL,
    channel       TEXT    NOT NULL,
    kind          TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    prev_hash     TEXT    NOT NULL,
    hash          TEXT    NOT NULL,
    UNIQUE (deployment_id, seq)
);

CREATE TABLE chain_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    event_id  INTEGER NOT NULL,
    hash      TEXT    NOT NULL
);
