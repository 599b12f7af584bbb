-- The outbox: every event kept for the app's backend (delivery) or the
-- user's live stream (streamed), in seq order. A delivery is leased to one
-- worker at a time (lease_owner, lease_until), so a dead worker's events
-- come back when its lease ends.
CREATE TABLE events (
    seq              INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
    id               TEXT    NOT NULL UNIQUE,
    type             TEXT    NOT NULL,
    app_user_id      TEXT    NOT NULL DEFAULT '',
    junction_user_id TEXT    NOT NULL DEFAULT '',
    provider         TEXT    NOT NULL DEFAULT '',
    status           TEXT    NOT NULL DEFAULT '',
    error_type       TEXT    NOT NULL DEFAULT '',
    reason           TEXT    NOT NULL DEFAULT '',
    junction_body    BLOB,
    streamed         INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    delivery         TEXT    NOT NULL DEFAULT 'none',
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    lease_owner      TEXT    NOT NULL DEFAULT '',
    lease_until      INTEGER,
    last_status      INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT    NOT NULL DEFAULT '',
    delivered_at     INTEGER
);
-- A stream resuming after its Last-Event-ID.
CREATE INDEX events_user_seq_idx ON events (app_user_id, seq);
-- The worker's due deliveries.
CREATE INDEX events_due_idx ON events (next_attempt_at) WHERE delivery = 'pending';
-- Pruning, and the admin's list by state.
CREATE INDEX events_created_at_idx ON events (created_at);
CREATE INDEX events_delivery_seq_idx ON events (delivery, seq);
