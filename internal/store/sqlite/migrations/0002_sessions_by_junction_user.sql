-- The link session that led to a connection a webhook confirms is found by
-- its Junction user, newest first.
CREATE INDEX link_sessions_junction_user_idx ON link_sessions (junction_user_id, created_at);
