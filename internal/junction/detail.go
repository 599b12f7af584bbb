package junction

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxDetailLen bounds the text kept from an error body, so a huge or hostile
// body cannot bloat logs.
const maxDetailLen = 300

// detailInfo is what parseDetail extracts from an error body.
type detailInfo struct {
	Detail    string
	ErrorType string
	UserID    string
	CreatedOn time.Time
}

// parseDetail reads Junction's error body in any of its shapes:
//
//	{"detail":"text"}
//	{"detail":{"error_type","error_message","user_id","created_on"}}
//	{"detail":[{"type","loc","msg","input"}]}   (FastAPI validation)
//
// Anything else becomes a truncated raw snippet; it never fails.
func parseDetail(body []byte) detailInfo {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return detailInfo{}
	}
	var envelope map[string]json.RawMessage
	if err := json.Unmarshal(body, &envelope); err != nil {
		return detailInfo{Detail: snippet(string(body))}
	}
	raw := bytes.TrimSpace(envelope["detail"])
	if len(raw) == 0 {
		// Gateways in front of Junction sometimes answer {"message": "..."}.
		for _, key := range []string{"message", "error"} {
			if text := jsonString(envelope[key]); text != "" {
				return detailInfo{Detail: snippet(text)}
			}
		}
		return detailInfo{Detail: snippet(string(body))}
	}
	switch raw[0] {
	case '"':
		return detailInfo{Detail: snippet(jsonString(raw))}
	case '{':
		if info, ok := parseObjectDetail(raw); ok {
			return info
		}
	case '[':
		if text := parseValidationDetail(raw); text != "" {
			return detailInfo{Detail: snippet(text)}
		}
	}
	return detailInfo{Detail: snippet(string(raw))}
}

func parseObjectDetail(raw json.RawMessage) (detailInfo, bool) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return detailInfo{}, false
	}
	info := detailInfo{
		ErrorType: snippet(jsonString(fields["error_type"])),
		UserID:    snippet(jsonString(fields["user_id"])),
		CreatedOn: parseTime(jsonString(fields["created_on"])),
	}
	for _, key := range []string{"error_message", "message", "msg"} {
		if text := jsonString(fields[key]); text != "" {
			info.Detail = snippet(text)
			break
		}
	}
	if info.Detail == "" && info.ErrorType == "" && info.UserID == "" {
		return detailInfo{}, false
	}
	return info, true
}

// parseValidationDetail renders FastAPI's 422 list as "loc: msg; loc: msg".
// The echoed input is left out on purpose: it is the caller's data.
func parseValidationDetail(raw json.RawMessage) string {
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return ""
	}
	const maxItems = 5
	var parts []string
	for i, item := range items {
		if i == maxItems {
			parts = append(parts, "…")
			break
		}
		msg := jsonString(item["msg"])
		if msg == "" {
			msg = jsonString(item["type"])
		}
		if msg == "" {
			continue
		}
		if loc := joinLoc(item["loc"]); loc != "" {
			msg = loc + ": " + msg
		}
		parts = append(parts, msg)
	}
	return strings.Join(parts, "; ")
}

// joinLoc turns ["body","filter_on_providers",0] into body.filter_on_providers.0.
func joinLoc(raw json.RawMessage) string {
	var loc []json.RawMessage
	if err := json.Unmarshal(raw, &loc); err != nil {
		return ""
	}
	parts := make([]string, 0, len(loc))
	for _, element := range loc {
		if text := jsonString(element); text != "" {
			parts = append(parts, text)
			continue
		}
		var number json.Number
		if err := json.Unmarshal(element, &number); err == nil {
			parts = append(parts, number.String())
		}
	}
	return strings.Join(parts, ".")
}

// jsonString returns raw's value when it is a JSON string, else "".
func jsonString(raw json.RawMessage) string {
	var s string
	if len(raw) == 0 || json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// snippet makes text safe to log: valid UTF-8, no control characters, at
// most maxDetailLen runes.
func snippet(text string) string {
	text = strings.ToValidUTF8(text, "\uFFFD")
	text = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, text)
	text = strings.TrimSpace(text)
	if utf8.RuneCountInString(text) <= maxDetailLen {
		return text
	}
	runes := []rune(text)
	return string(runes[:maxDetailLen]) + "…"
}
