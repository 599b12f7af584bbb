package store

// queries are every statement the store runs, written once with ?
// placeholders and portable SQL, rebound for the dialect.
type queries struct {
	mappingByAppUser, mappingByJunctionUser, insertMapping, insertMappingStrict string
	deleteUserConnections, deleteMapping, deleteUserSessions                    string
	forgetMapping, deleteConnectionsOf                                          string

	insertSession, sessionByID, completeSession, latestSession string

	insertEvent, upsertConnection, connectionsOf, deleteConnection string

	pruneEvents, pruneSessions string
}

const mappingColumns = `app_user_id, junction_user_id, client_user_id, created_at`

const sessionColumns = `id, app_user_id, junction_user_id, provider, return_to, created_at, status, error_type, completed_at`

const connectionColumns = `junction_user_id, provider, status, error_type, error_message, external_user_id, connected_at, updated_at`

func newQueries(d Dialect) queries {
	q := queries{
		mappingByAppUser:      `SELECT ` + mappingColumns + ` FROM user_mappings WHERE app_user_id = ?`,
		mappingByJunctionUser: `SELECT ` + mappingColumns + ` FROM user_mappings WHERE junction_user_id = ?`,
		// DO NOTHING on any unique key: the lookup that follows tells a
		// repeat (the app user is mapped) from a clash (the Junction user is
		// taken).
		insertMapping:       `INSERT INTO user_mappings (` + mappingColumns + `) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		insertMappingStrict: `INSERT INTO user_mappings (` + mappingColumns + `) VALUES (?, ?, ?, ?)`,
		deleteUserConnections: `DELETE FROM connections WHERE junction_user_id IN
			(SELECT junction_user_id FROM user_mappings WHERE app_user_id = ?)`,
		deleteMapping:       `DELETE FROM user_mappings WHERE app_user_id = ?`,
		deleteUserSessions:  `DELETE FROM link_sessions WHERE app_user_id = ?`,
		forgetMapping:       `DELETE FROM user_mappings WHERE app_user_id = ? AND junction_user_id = ?`,
		deleteConnectionsOf: `DELETE FROM connections WHERE junction_user_id = ?`,

		insertSession: `INSERT INTO link_sessions (id, app_user_id, junction_user_id, provider, return_to, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`,
		sessionByID: `SELECT ` + sessionColumns + ` FROM link_sessions WHERE id = ?`,
		// A racing UPDATE waits for the first one's row lock, then rechecks
		// completed_at and changes nothing: the first outcome wins.
		completeSession: `UPDATE link_sessions SET status = ?, error_type = ?, completed_at = ?
			WHERE id = ? AND completed_at IS NULL`,
		latestSession: `SELECT ` + sessionColumns + ` FROM link_sessions
			WHERE junction_user_id = ? AND (provider = ? OR provider = '') AND created_at >= ?
			ORDER BY created_at DESC LIMIT 1`,

		insertEvent: `INSERT INTO webhook_events (event_id, received_at) VALUES (?, ?) ON CONFLICT (event_id) DO NOTHING`,
		// connected_at keeps the earliest instant either side knows.
		upsertConnection: `INSERT INTO connections (` + connectionColumns + `)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (junction_user_id, provider) DO UPDATE SET
				status = excluded.status,
				error_type = excluded.error_type,
				error_message = excluded.error_message,
				external_user_id = COALESCE(NULLIF(excluded.external_user_id, ''), connections.external_user_id),
				connected_at = CASE
					WHEN connections.connected_at IS NULL THEN excluded.connected_at
					WHEN excluded.connected_at IS NULL THEN connections.connected_at
					WHEN excluded.connected_at < connections.connected_at THEN excluded.connected_at
					ELSE connections.connected_at END,
				updated_at = excluded.updated_at`,
		connectionsOf:    `SELECT ` + connectionColumns + ` FROM connections WHERE junction_user_id = ?`,
		deleteConnection: `DELETE FROM connections WHERE junction_user_id = ? AND provider = ?`,

		pruneEvents:   `DELETE FROM webhook_events WHERE received_at < ?`,
		pruneSessions: `DELETE FROM link_sessions WHERE created_at < ?`,
	}
	for _, p := range q.all() {
		*p = rebind(d, *p)
	}
	return q
}

// all lists every statement, for rebinding and preparing.
func (q *queries) all() []*string {
	return []*string{
		&q.mappingByAppUser, &q.mappingByJunctionUser, &q.insertMapping, &q.insertMappingStrict,
		&q.deleteUserConnections, &q.deleteMapping, &q.deleteUserSessions,
		&q.forgetMapping, &q.deleteConnectionsOf,
		&q.insertSession, &q.sessionByID, &q.completeSession, &q.latestSession,
		&q.insertEvent, &q.upsertConnection, &q.connectionsOf, &q.deleteConnection,
		&q.pruneEvents, &q.pruneSessions,
	}
}
