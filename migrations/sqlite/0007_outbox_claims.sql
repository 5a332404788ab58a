-- Which process delivers each destination's posts now (several `golive serve` processes on one
-- database). A process claims a destination before it sends that destination's pending posts,
-- keeps the claim while it has posts for it (renewing `expires_at`), and releases it when its
-- queue there is empty; a claim not renewed (its process died or stalled) is free once
-- `expires_at` has passed, and the next process to claim it takes over.
--
-- `fence` grows by one every time the claim changes hands and never goes back (a row is never
-- deleted, a release only empties `holder`): marking a post sent counts only while the claim
-- still has the fence the post was sent under, so a process that lost its claim while stalled
-- cannot record over the one that took over.
--
-- Plain SQL that PostgreSQL reads the same way; times are RFC 3339 UTC text, sortable as text,
-- taken from golive's clock (never the database's), so tests move them with a manual clock.
CREATE TABLE outbox_claims (
    platform   TEXT    NOT NULL,
    channel    TEXT    NOT NULL,
    -- the process's random id while held; '' once released
    holder     TEXT    NOT NULL,
    fence      INTEGER NOT NULL,
    expires_at TEXT    NOT NULL,
    PRIMARY KEY (platform, channel)
);
