-- golive on PostgreSQL: the same tables as the SQLite migrations 0001–0007 (see
-- migrations/sqlite/ for what each table and column is for), in one step.
--
-- Kept as SQLite has them, on purpose:
-- * Times are RFC 3339 UTC text with milliseconds, taken from golive's clock (never the
--   database's), so they sort as text and hash as text: an event's hash is the same on both
--   backends. Text columns compare byte-wise (COLLATE "C"), as SQLite compares them, whatever
--   the database's own collation.
-- * Ids are BIGINT given by golive inside the write transaction (the next after the largest),
--   not sequences: every write holds one transaction-scoped advisory lock, so ids run 1, 2, 3 …
--   without gaps, as the keyed chain head expects of event ids.

CREATE TABLE deployments (
    id          BIGINT PRIMARY KEY,
    release     TEXT COLLATE "C" NOT NULL,
    plan        TEXT COLLATE "C" NOT NULL,
    platform    TEXT COLLATE "C" NOT NULL,
    channel     TEXT COLLATE "C" NOT NULL,
    lead        TEXT COLLATE "C" NOT NULL,
    lead_name   TEXT COLLATE "C",
    status      TEXT COLLATE "C" NOT NULL,
    progress    BIGINT NOT NULL,
    started_at  TEXT COLLATE "C" NOT NULL,
    updated_at  TEXT COLLATE "C" NOT NULL,
    ended_at    TEXT COLLATE "C"
);

CREATE UNIQUE INDEX deployments_one_open_per_channel
    ON deployments (platform, channel) WHERE ended_at IS NULL;
CREATE INDEX deployments_by_channel ON deployments (platform, channel, id);

CREATE TABLE events (
    id            BIGINT PRIMARY KEY,
    deployment_id BIGINT NOT NULL REFERENCES deployments (id),
    seq           BIGINT NOT NULL,
    at            TEXT COLLATE "C" NOT NULL,
    actor         TEXT COLLATE "C" NOT NULL,
    actor_name    TEXT COLLATE "C",
    platform      TEXT COLLATE "C" NOT NULL,
    channel       TEXT COLLATE "C" NOT NULL,
    kind          TEXT COLLATE "C" NOT NULL,
    payload       TEXT COLLATE "C" NOT NULL,
    prev_hash     TEXT COLLATE "C" NOT NULL,
    hash          TEXT COLLATE "C" NOT NULL,
    UNIQUE (deployment_id, seq)
);

CREATE TABLE chain_head (
    id         BIGINT PRIMARY KEY CHECK (id = 1),
    event_id   BIGINT NOT NULL,
    hash       TEXT COLLATE "C" NOT NULL,
    keyed_from BIGINT,
    seal       TEXT COLLATE "C"
);

CREATE TABLE outbox (
    id              BIGINT PRIMARY KEY,
    deployment_id   BIGINT REFERENCES deployments (id),
    platform        TEXT COLLATE "C" NOT NULL,
    channel         TEXT COLLATE "C" NOT NULL,
    action          TEXT COLLATE "C" NOT NULL,
    payload         TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    state           TEXT COLLATE "C" NOT NULL DEFAULT 'pending',
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT COLLATE "C" NOT NULL,
    last_error      TEXT COLLATE "C",
    sent_at         TEXT COLLATE "C",
    remote_id       TEXT COLLATE "C",
    target_id       BIGINT REFERENCES outbox (id),
    address         TEXT COLLATE "C",
    kind            TEXT COLLATE "C" NOT NULL DEFAULT 'message'
);

CREATE INDEX outbox_pending ON outbox (platform, channel, id) WHERE state = 'pending';
CREATE INDEX outbox_status_posts ON outbox (deployment_id, id) WHERE kind = 'status';

CREATE TABLE timers (
    deployment_id BIGINT PRIMARY KEY REFERENCES deployments (id),
    due_at        TEXT COLLATE "C" NOT NULL
);

CREATE INDEX timers_by_due ON timers (due_at);

CREATE TABLE inbound_requests (
    key         TEXT COLLATE "C" PRIMARY KEY,
    received_at TEXT COLLATE "C" NOT NULL,
    response    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE health_probe (
    id  BIGINT PRIMARY KEY CHECK (id = 1),
    at  TEXT COLLATE "C" NOT NULL
);

CREATE TABLE outbox_claims (
    platform   TEXT COLLATE "C" NOT NULL,
    channel    TEXT COLLATE "C" NOT NULL,
    holder     TEXT COLLATE "C" NOT NULL,
    fence      BIGINT NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (platform, channel)
);
