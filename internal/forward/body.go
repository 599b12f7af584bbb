package forward

import (
	"encoding/json"
	"errors"
	"time"

	"github.com/linkbff/linkbff/internal/linking"
)

// Body is the JSON the app's backend receives for e. A Junction event is
// Junction's body with app_user_id added next to Junction's user_id (null
// when linkbff does not know the user); linkbff's own events have the same
// envelope: {event_type, user_id, app_user_id, created_at, data}.
func Body(e linking.Event) ([]byte, error) {
	appUserID := any(nil)
	if e.AppUserID != "" {
		appUserID = e.AppUserID
	}
	if e.Junction != nil {
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(e.Junction, &fields); err != nil || fields == nil {
			return nil, errors.New("the stored Junction body is not a JSON object")
		}
		raw, _ := json.Marshal(appUserID)
		fields["app_user_id"] = raw
		return json.Marshal(fields)
	}
	var data any
	switch e.Type {
	case linking.EventLinkCompleted:
		data = linkCompletedData{Provider: nullable(e.Provider), Status: e.Status, ErrorType: nullable(e.ErrorType), ReportedBy: linking.ReportedByBrowser}
	case linking.EventConnectionDisconnected:
		data = disconnectedData{Provider: e.Provider, Reason: e.Reason}
	default:
		return nil, errors.New("no body for event type " + e.Type)
	}
	return json.Marshal(envelope{
		EventType: e.Type, UserID: e.JunctionUserID, AppUserID: appUserID,
		CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339Nano), Data: data,
	})
}

// envelope is linkbff's own events, shaped like Junction's.
type envelope struct {
	EventType string `json:"event_type"`
	UserID    string `json:"user_id"` // Junction's user id
	AppUserID any    `json:"app_user_id"`
	CreatedAt string `json:"created_at"`
	Data      any    `json:"data"`
}

// linkCompletedData is how Link ended as the user's browser reported it
// at the callback: what the user saw, not proof of a connection.
type linkCompletedData struct {
	Provider   *string `json:"provider"` // null when the user picked in Link
	Status     string  `json:"status"`   // connected | cancelled | error
	ErrorType  *string `json:"error_type"`
	ReportedBy string  `json:"reported_by"` // always "browser"
}

type disconnectedData struct {
	Provider string `json:"provider"`
	Reason   string `json:"reason"` // disconnected | user_deleted
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
