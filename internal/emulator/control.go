package emulator

import (
	"net/http"
	"slices"
)

// connectionErrorTypes is the spec's enum for provider.connection.error.
var connectionErrorTypes = []string{
	"token_refresh_failed", "webhook_registration_failed", "user_not_found", "deregistered_per_provider",
	"required_scopes_not_granted", "provider_credential_error", "provider_password_expired", "unknown",
}

// controlConnectionError is POST /_emulator/connection-error
// {"user_id","provider","error_type","message"}: it puts a connection in
// status "error" and sends provider.connection.error. A provider the user
// has not connected is recorded as an errored connection too, which is
// what Junction reports when a first connection fails server-side.
func (e *Emulator) controlConnectionError(w http.ResponseWriter, r *http.Request) {
	fields, ok := readFields(w, r)
	if !ok {
		return
	}
	userID := fields.requiredUUID("user_id")
	slug := fields.requiredString("provider")
	errorType := fields.optionalString("error_type")
	message := fields.optionalString("message")
	if len(fields.issues) > 0 {
		writeValidation(w, fields.issues)
		return
	}
	if errorType == "" {
		errorType = "token_refresh_failed"
	}
	if !slices.Contains(connectionErrorTypes, errorType) {
		writeDetail(w, http.StatusBadRequest, "error_type must be one of the spec's connection error types.")
		return
	}
	if message == "" {
		message = "We are having issues fetching information for user. Please reconnect device."
	}
	p, found := findProvider(slug)
	if !found {
		writeDetail(w, http.StatusBadRequest, "Unknown provider "+slug+".")
		return
	}

	e.mu.Lock()
	u, ok := e.state.usersByID[userID]
	if !ok {
		e.mu.Unlock()
		writeDetail(w, http.StatusNotFound, userNotFound)
		return
	}
	now := e.now()
	c := u.connectionFor(slug, now)
	c.status = statusError
	c.errorDetails = &connectionErrorDetails{errorType: errorType, message: message, erroredAt: now}
	view := e.connectionToWire(r, c)
	event := wireConnectionErrorEvent{
		EventType:    "provider.connection.error",
		UserID:       u.id,
		ClientUserID: u.clientUserID,
		TeamID:       e.cfg.TeamID,
		Data: wireConnectionErrorData{
			Provider: p.slug, UserID: u.id, Message: message, ErrorType: errorType, ErrorDetails: message,
		},
	}
	e.mu.Unlock()
	e.stateChanged()
	e.sendWebhook(event.EventType, event)
	writeJSON(w, http.StatusOK, view)
}

// controlDeliveries is GET /_emulator/deliveries: every delivery attempt.
func (e *Emulator) controlDeliveries(w http.ResponseWriter, _ *http.Request) {
	e.delivery.mu.Lock()
	out := append([]deliveryAttempt{}, e.delivery.attempts...)
	e.delivery.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
