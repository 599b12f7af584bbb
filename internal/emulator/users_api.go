package emulator

import (
	"github.com/google/uuid"
	"net/http"
)

// defaultPageLimit and maxPageLimit follow GET /v2/user's query schema.
const (
	defaultPageLimit = 100
	maxPageLimit     = 500
)

func (e *Emulator) createUser(w http.ResponseWriter, r *http.Request) {
	body, ok := readJSONObject(w, r)
	if !ok {
		return
	}
	fields := bodyFields{body: body}
	candidate := &user{
		clientUserID:      fields.requiredString("client_user_id"),
		fallbackTimeZone:  fields.optionalString("fallback_time_zone"),
		fallbackBirthDate: fields.optionalDate("fallback_birth_date"),
		ingestionStart:    fields.optionalDate("ingestion_start"),
		ingestionEnd:      fields.optionalDate("ingestion_end"),
		connections:       map[string]*connection{},
	}
	if len(fields.issues) > 0 {
		writeValidation(w, fields.issues)
		return
	}

	e.mu.Lock()
	defer e.mu.Unlock()
	if existing, ok := e.state.usersByClientID[candidate.clientUserID]; ok {
		writeJSON(w, http.StatusBadRequest, wireConflict{Detail: wireConflictDetail{
			ErrorType:    "INVALID_REQUEST",
			ErrorMessage: "Client user id already exists.",
			UserID:       existing.id,
			CreatedOn:    formatTime(existing.createdOn),
		}})
		return
	}
	candidate.id = uuid.NewString()
	candidate.createdOn = e.now()
	e.state.usersByID[candidate.id] = candidate
	e.state.usersByClientID[candidate.clientUserID] = candidate
	e.state.userOrder = append(e.state.userOrder, candidate)
	writeJSON(w, http.StatusOK, e.userToWire(r, candidate))
}

func (e *Emulator) listUsers(w http.ResponseWriter, r *http.Request) {
	var issues []validationIssue
	offset := queryInt(r, "offset", 0, 0, int(^uint(0)>>1), &issues)
	limit := queryInt(r, "limit", defaultPageLimit, 0, maxPageLimit, &issues)
	if len(issues) > 0 {
		writeValidation(w, issues)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	page := wireUsersPage{Users: []wireUser{}, Total: len(e.state.userOrder), Offset: offset, Limit: limit}
	for i := offset; i < len(e.state.userOrder) && i < offset+limit; i++ {
		page.Users = append(page.Users, e.userToWire(r, e.state.userOrder[i]))
	}
	writeJSON(w, http.StatusOK, page)
}

func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request) {
	e.withUser(w, r, func(u *user) {
		writeJSON(w, http.StatusOK, e.userToWire(r, u))
	})
}

func (e *Emulator) resolveUser(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.state.usersByClientID[pathParam(r, "client_user_id")]
	if !ok {
		writeDetail(w, http.StatusNotFound, userNotFound)
		return
	}
	writeJSON(w, http.StatusOK, e.userToWire(r, u))
}

func (e *Emulator) deleteUser(w http.ResponseWriter, r *http.Request) {
	e.withUser(w, r, func(u *user) {
		e.deleteUserLocked(u)
		writeJSON(w, http.StatusOK, wireSuccess{Success: true})
	})
}

func (e *Emulator) connectedProviders(w http.ResponseWriter, r *http.Request) {
	e.withUser(w, r, func(u *user) {
		out := wireConnectedProviders{Providers: []wireProviderWithStatus{}}
		for _, slug := range u.connectionOrder {
			out.Providers = append(out.Providers, e.connectionToWire(r, u.connections[slug]))
		}
		writeJSON(w, http.StatusOK, out)
	})
}

func (e *Emulator) deregisterProvider(w http.ResponseWriter, r *http.Request) {
	slug := pathParam(r, "provider")
	if !isKnownProviderSlug(slug) {
		writeValidation(w, []validationIssue{{
			Type: "enum", Loc: []any{"path", "provider"}, Msg: "Input should be a valid provider slug", Input: slug,
		}})
		return
	}
	e.withUser(w, r, func(u *user) {
		if _, ok := u.connections[slug]; !ok {
			writeDetail(w, http.StatusNotFound, "Provider "+slug+" is not connected for this user.")
			return
		}
		u.removeConnection(slug)
		writeJSON(w, http.StatusOK, wireSuccess{Success: true})
	})
}

func (e *Emulator) signInToken(w http.ResponseWriter, r *http.Request) {
	e.withUser(w, r, func(u *user) {
		writeJSON(w, http.StatusOK, wireSignInToken{UserID: u.id, SignInToken: randomToken(32)})
	})
}

// withUser resolves the {user_id} path parameter and runs fn under e.mu,
// answering 422 for a malformed id and 404 for an unknown one.
func (e *Emulator) withUser(w http.ResponseWriter, r *http.Request, fn func(u *user)) {
	id, ok := pathUUID(w, "user_id", pathParam(r, "user_id"))
	if !ok {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.state.usersByID[id]
	if !ok {
		writeDetail(w, http.StatusNotFound, userNotFound)
		return
	}
	fn(u)
}
