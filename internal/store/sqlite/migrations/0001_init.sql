-- Timestamps are INTEGER unix microseconds in UTC: they sort and compare
-- as numbers and match PostgreSQL's timestamptz precision.

CREATE TABLE user_mappings (
    app_user_id      TEXT    NOT NULL PRIMARY KEY,
    junction_user_id TEXT    NOT NULL UNIQUE,
    client_user_id   TEXT    NOT NULL,
    created_at       INTEGER NOT NULL
);

CREATE TABLE link_sessions (
    id               TEXT    NOT NULL PRIMARY KEY,
    app_user_id      TEXT    NOT NULL,
    junction_user_id TEXT    NOT NULL,
    provider         TEXT    NOT NULL DEFAULT '',
    return_to        TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    status           TEXT    NOT NULL DEFAULT 'pending',
    error_type       TEXT    NOT NULL DEFAULT '',
    completed_at     INTEGER
);
CREATE INDEX link_sessions_created_at_idx ON link_sessions (created_at);
CREATE INDEX link_sessions_app_user_id_idx ON link_sessions (app_user_id);

CREATE TABLE connections (
    junction_user_id TEXT    NOT NULL,
    provider         TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    error_type       TEXT    NOT NULL DEFAULT '',
    error_message    TEXT    NOT NULL DEFAULT '',
    external_user_id TEXT    NOT NULL DEFAULT '',
    connected_at     INTEGER,
    updated_at       INTEGER NOT NULL,
    PRIMARY KEY (junction_user_id, provider)
);

CREATE TABLE webhook_events (
    event_id    TEXT    NOT NULL PRIMARY KEY,
    received_at INTEGER NOT NULL
);
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);
