package junction

import (
	"encoding/json"
	"time"
)

// timeLayouts are the timestamp forms Junction has been seen to send: RFC
// 3339 with an offset, and naive ISO 8601 (Python's isoformat of a UTC time).
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// parseTime reads a Junction timestamp; naive times are taken as UTC. An
// unreadable value gives the zero time rather than failing a whole response
// over a field we only display.
func parseTime(value string) time.Time {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, value); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// lenientTime decodes with parseTime and accepts null or any non-string.
type lenientTime time.Time

func (t *lenientTime) UnmarshalJSON(data []byte) error {
	var s string
	if json.Unmarshal(data, &s) == nil {
		*t = lenientTime(parseTime(s))
	}
	return nil
}
