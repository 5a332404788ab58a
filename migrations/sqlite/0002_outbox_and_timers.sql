-- What the bot has decided to post, written in the same transaction as the events that caused
-- it and delivered by a worker; and each open deployment's next timer, so the scheduler reads
-- one small table instead of folding every open deployment on each tick.

CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    deployment_id   INTEGER REFERENCES deployments (id),
    platform        TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    -- post | update | ephemeral | response
    action          TEXT    NOT NULL,
    -- JSON: what to send, already rendered for the platform
    payload         TEXT    NOT NULL,
    created_at      TEXT    NOT NULL,
    -- pending | sent | failed
    state           TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    last_error      TEXT,
    sent_at         TEXT,
    -- the platform's id for the delivered message (Slack `ts`), for later updates
    remote_id       TEXT
);

CREATE INDEX outbox_pending ON outbox (platform, channel, id) WHERE state = 'pending';

CREATE TABLE timers (
    deployment_id INTEGER PRIMARY KEY REFERENCES deployments (id),
    due_at        TEXT    NOT NULL
);

CREATE INDEX timers_by_due ON timers (due_at);
