package emulator

import (
	"net/http"

	"github.com/google/uuid"
)

// defaultPageLimit and maxPageLimit follow GET /v2/user's query schema.
const (
	defaultPageLimit = 100
	maxPageLimit     = 500
)

func (e *Emulator) createUser(w http.ResponseWriter, r *http.Request) {
	fields, ok := readFields(w, r)
	if !ok {
		return
	}
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
	if existing, ok := e.state.usersByClientID[candidate.clientUserID]; ok {
		conflict := wireConflict{Detail: wireConflictDetail{
			ErrorType:    "INVALID_REQUEST",
			ErrorMessage: "Client user id already exists.",
			UserID:       existing.id,
			CreatedOn:    formatTime(existing.createdOn),
		}}
		e.mu.Unlock()
		writeJSON(w, http.StatusBadRequest, conflict)
		return
	}
	candidate.id = uuid.NewString()
	candidate.createdOn = e.now()
	e.state.usersByID[candidate.id] = candidate
	e.state.usersByClientID[candidate.clientUserID] = candidate
	e.state.userOrder = append(e.state.userOrder, candidate)
	out := e.userToWire(r, candidate)
	e.mu.Unlock()
	e.stateChanged()
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) listUsers(w http.ResponseWriter, r *http.Request) {
	var issues []validationIssue
	offset := queryInt(r, "offset", 0, 0, int(^uint(0)>>1), &issues)
	limit := queryInt(r, "limit", defaultPageLimit, 0, maxPageLimit, &issues)
	if len(issues) > 0 {
		writeValidation(w, issues)
		return
	}
	e.mu.RLock()
	page := wireUsersPage{Users: []wireUser{}, Total: len(e.state.userOrder), Offset: offset, Limit: limit}
	for i := offset; i < len(e.state.userOrder) && i < offset+limit; i++ {
		page.Users = append(page.Users, e.userToWire(r, e.state.userOrder[i]))
	}
	e.mu.RUnlock()
	writeJSON(w, http.StatusOK, page)
}

func (e *Emulator) getUser(w http.ResponseWriter, r *http.Request) {
	e.viewUser(w, r, func(u *user) any { return e.userToWire(r, u) })
}

func (e *Emulator) resolveUser(w http.ResponseWriter, r *http.Request) {
	e.mu.RLock()
	u, ok := e.state.usersByClientID[pathParam(r, "client_user_id")]
	var out wireUser
	if ok {
		out = e.userToWire(r, u)
	}
	e.mu.RUnlock()
	if !ok {
		writeDetail(w, http.StatusNotFound, userNotFound)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (e *Emulator) deleteUser(w http.ResponseWriter, r *http.Request) {
	e.updateUser(w, r, func(u *user) (int, any) {
		e.deleteUserLocked(u)
		return http.StatusOK, wireSuccess{Success: true}
	})
}

func (e *Emulator) connectedProviders(w http.ResponseWriter, r *http.Request) {
	e.viewUser(w, r, func(u *user) any {
		out := wireConnectedProviders{Providers: []wireProviderWithStatus{}}
		for _, slug := range u.connectionOrder {
			out.Providers = append(out.Providers, e.connectionToWire(r, u.connections[slug]))
		}
		return out
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
	e.updateUser(w, r, func(u *user) (int, any) {
		if _, ok := u.connections[slug]; !ok {
			return http.StatusNotFound, wireDetail{Detail: "Provider " + slug + " is not connected for this user."}
		}
		u.removeConnection(slug)
		return http.StatusOK, wireSuccess{Success: true}
	})
}

func (e *Emulator) signInToken(w http.ResponseWriter, r *http.Request) {
	e.viewUser(w, r, func(u *user) any {
		return wireSignInToken{UserID: u.id, SignInToken: randomToken(32)}
	})
}

// viewUser resolves the {user_id} path parameter and renders that user
// under a read lock, answering 422 for a malformed id and 404 for an
// unknown one. The answer is encoded after the lock is released.
func (e *Emulator) viewUser(w http.ResponseWriter, r *http.Request, render func(u *user) any) {
	id, ok := pathUUID(w, "user_id", pathParam(r, "user_id"))
	if !ok {
		return
	}
	e.mu.RLock()
	u, found := e.state.usersByID[id]
	var out any
	if found {
		out = render(u)
	}
	e.mu.RUnlock()
	if !found {
		writeDetail(w, http.StatusNotFound, userNotFound)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// updateUser is viewUser for changes: fn runs under the write lock and
// returns the status and body to send; a 200 also saves the state.
func (e *Emulator) updateUser(w http.ResponseWriter, r *http.Request, fn func(u *user) (int, any)) {
	id, ok := pathUUID(w, "user_id", pathParam(r, "user_id"))
	if !ok {
		return
	}
	e.mu.Lock()
	u, found := e.state.usersByID[id]
	status, out := http.StatusNotFound, any(wireDetail{Detail: userNotFound})
	if found {
		status, out = fn(u)
	}
	e.mu.Unlock()
	if status == http.StatusOK {
		e.stateChanged()
	}
	writeJSON(w, status, out)
}
