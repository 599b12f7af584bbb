-- The outbox: every event kept for the app's backend (delivery) or the
-- user's live stream (streamed), in seq order. A delivery is leased to one
-- worker at a time (lease_owner, lease_until; claims skip rows another
-- replica is claiming), so a dead replica's events come back when its lease
-- ends.
CREATE TABLE events (
    seq              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               text        NOT NULL UNIQUE,
    type             text        NOT NULL,
    app_user_id      text        NOT NULL DEFAULT '',
    junction_user_id text        NOT NULL DEFAULT '',
    provider         text        NOT NULL DEFAULT '',
    status           text        NOT NULL DEFAULT '',
    error_type       text        NOT NULL DEFAULT '',
    reason           text        NOT NULL DEFAULT '',
    junction_body    bytea,
    streamed         boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL,
    delivery         text        NOT NULL DEFAULT 'none',
    attempts         integer     NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    lease_owner      text        NOT NULL DEFAULT '',
    lease_until      timestamptz,
    last_status      integer     NOT NULL DEFAULT 0,
    last_error       text        NOT NULL DEFAULT '',
    delivered_at     timestamptz
);
-- A stream resuming after its Last-Event-ID.
CREATE INDEX events_user_seq_idx ON events (app_user_id, seq);
-- The worker's due deliveries.
CREATE INDEX events_due_idx ON events (next_attempt_at) WHERE delivery = 'pending';
-- Pruning, and the admin's list by state.
CREATE INDEX events_created_at_idx ON events (created_at);
CREATE INDEX events_delivery_seq_idx ON events (delivery, seq);
