CREATE TABLE user_mappings (
    app_user_id      text        NOT NULL PRIMARY KEY,
    junction_user_id text        NOT NULL UNIQUE,
    client_user_id   text        NOT NULL,
    created_at       timestamptz NOT NULL
);

CREATE TABLE link_sessions (
    id               text        NOT NULL PRIMARY KEY,
    app_user_id      text        NOT NULL,
    junction_user_id text        NOT NULL,
    provider         text        NOT NULL DEFAULT '',
    return_to        text        NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL,
    status           text        NOT NULL DEFAULT 'pending',
    error_type       text        NOT NULL DEFAULT '',
    completed_at     timestamptz
);
CREATE INDEX link_sessions_created_at_idx ON link_sessions (created_at);
CREATE INDEX link_sessions_app_user_id_idx ON link_sessions (app_user_id);

CREATE TABLE connections (
    junction_user_id text        NOT NULL,
    provider         text        NOT NULL,
    status           text        NOT NULL,
    error_type       text        NOT NULL DEFAULT '',
    error_message    text        NOT NULL DEFAULT '',
    external_user_id text        NOT NULL DEFAULT '',
    connected_at     timestamptz,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (junction_user_id, provider)
);

CREATE TABLE webhook_events (
    event_id    text        NOT NULL PRIMARY KEY,
    received_at timestamptz NOT NULL
);
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);
