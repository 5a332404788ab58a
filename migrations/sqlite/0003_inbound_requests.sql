-- Requests from chat platforms already handled, by the platform's own id (Slack's event_id, a
-- slash command's trigger_id), with the answer given: a retried delivery gets the same answer
-- and has no second effect.

CREATE TABLE inbound_requests (
    key         TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    response    TEXT NOT NULL
);
