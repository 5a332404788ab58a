-- The chain head becomes a keyed record of the whole log: with GOLIVE_AUDIT_KEY set, `seal` is
-- an HMAC-SHA256 of the newest event's id (the number of events, as ids run 1, 2, 3, …), its
-- hash and `keyed_from`, so removing the newest events and rewriting the head to match is
-- detected without the key being stored anywhere. `keyed_from`: the first event whose hash is
-- keyed (NULL: the chain is plain SHA-256, written without a key).
ALTER TABLE chain_head ADD COLUMN keyed_from INTEGER;
ALTER TABLE chain_head ADD COLUMN seal TEXT;
