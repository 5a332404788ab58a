-- Messages that are not plain channel posts: an update of an earlier post (the status message
-- kept current in place), a message only one person sees, or a reply through the response URL
-- a chat platform handed out with an interaction.

-- `state` gains `superseded`: a pending update made pointless by a newer update of the same
-- message. `action` (post | update | ephemeral | response) already names the action; the
-- columns below say what it acts on.
-- For `update`: the outbox row of the message to change (its `remote_id` once delivered).
ALTER TABLE outbox ADD COLUMN target_id INTEGER REFERENCES outbox (id);
-- For `ephemeral`: the user who sees it; for `response`: the URL to answer.
ALTER TABLE outbox ADD COLUMN address TEXT;
-- `status` for status posts (what later updates target), `message` for everything else.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'message';

CREATE INDEX outbox_status_posts ON outbox (deployment_id, id) WHERE kind = 'status';
