-- One row that `/readyz` rewrites to learn whether the database can still be written (a full
-- disk, a read-only remount): a read would succeed, a write is the only honest probe.
CREATE TABLE health_probe (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    at  TEXT NOT NULL
);
