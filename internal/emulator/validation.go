package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// maxRequestBody caps request bodies; Junction's are tiny.
const maxRequestBody = 64 << 10

// validationIssue is one entry of FastAPI's 422 body
// {"detail":[{"type","loc","msg","input","ctx"?}]}.
type validationIssue struct {
	Type  string         `json:"type"`
	Loc   []any          `json:"loc"`
	Msg   string         `json:"msg"`
	Input any            `json:"input"`
	Ctx   map[string]any `json:"ctx,omitempty"`
}

func writeValidation(w http.ResponseWriter, issues []validationIssue) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"detail": issues})
}

// readJSONObject reads a JSON object body. On failure it has already written
// the 422 FastAPI would send and returns false.
func readJSONObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeDetail(w, http.StatusRequestEntityTooLarge, "Request body too large.")
			return nil, false
		}
		writeDetail(w, http.StatusBadRequest, "Cannot read request body.")
		return nil, false
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		writeValidation(w, []validationIssue{{Type: "missing", Loc: []any{"body"}, Msg: "Field required", Input: nil}})
		return nil, false
	}
	var decoded any
	if err := json.Unmarshal(raw, &decoded); err != nil {
		offset := 0
		var syntaxErr *json.SyntaxError
		if errors.As(err, &syntaxErr) {
			offset = int(syntaxErr.Offset)
		}
		writeValidation(w, []validationIssue{{
			Type: "json_invalid", Loc: []any{"body", offset}, Msg: "JSON decode error",
			Input: map[string]any{}, Ctx: map[string]any{"error": "Expecting value"},
		}})
		return nil, false
	}
	object, ok := decoded.(map[string]any)
	if !ok {
		writeValidation(w, []validationIssue{{
			Type: "model_attributes_type", Loc: []any{"body"},
			Msg: "Input should be a valid dictionary or object to extract fields from", Input: decoded,
		}})
		return nil, false
	}
	return object, true
}

// readFields reads a JSON object body for field-by-field validation; on
// failure it has already answered.
func readFields(w http.ResponseWriter, r *http.Request) (*bodyFields, bool) {
	body, ok := readJSONObject(w, r)
	return &bodyFields{body: body}, ok
}

// bodyFields validates fields of a decoded body, collecting every issue
// like pydantic does.
type bodyFields struct {
	body   map[string]any
	issues []validationIssue
}

func (f *bodyFields) add(typ, field, msg string, input any, ctx map[string]any) {
	f.issues = append(f.issues, validationIssue{Type: typ, Loc: []any{"body", field}, Msg: msg, Input: input, Ctx: ctx})
}

// requiredString reads a required non-empty string.
func (f *bodyFields) requiredString(field string) string {
	value, present := f.body[field]
	if !present {
		f.add("missing", field, "Field required", f.body, nil)
		return ""
	}
	s, ok := value.(string)
	if !ok {
		f.add("string_type", field, "Input should be a valid string", value, nil)
		return ""
	}
	if s == "" {
		f.add("string_too_short", field, "String should have at least 1 character", value, map[string]any{"min_length": 1})
	}
	return s
}

// optionalString reads a string that may be absent or null.
func (f *bodyFields) optionalString(field string) string {
	value := f.body[field]
	if value == nil {
		return ""
	}
	s, ok := value.(string)
	if !ok {
		f.add("string_type", field, "Input should be a valid string", value, nil)
	}
	return s
}

// optionalDate reads a YYYY-MM-DD date that may be absent or null.
func (f *bodyFields) optionalDate(field string) string {
	s := f.optionalString(field)
	if s == "" {
		return ""
	}
	if _, err := time.Parse(time.DateOnly, s); err != nil {
		f.add("date_from_datetime_parsing", field, "Input should be a valid date or datetime, invalid date format", s, map[string]any{"error": "invalid date format"})
		return ""
	}
	return s
}

// requiredUUID reads a required uuid string.
func (f *bodyFields) requiredUUID(field string) string {
	value, present := f.body[field]
	if !present {
		f.add("missing", field, "Field required", f.body, nil)
		return ""
	}
	s, ok := value.(string)
	if !ok {
		f.add("uuid_type", field, "UUID input should be a string, bytes or UUID object", value, nil)
		return ""
	}
	id, err := uuid.Parse(s)
	if err != nil {
		f.add("uuid_parsing", field, "Input should be a valid UUID, "+uuidProblem(s), s, map[string]any{"error": uuidProblem(s)})
		return ""
	}
	return id.String()
}

// optionalConst reads a string that must equal want when present.
func (f *bodyFields) optionalConst(field, want string) string {
	value := f.body[field]
	if value == nil {
		return ""
	}
	if value != want {
		f.add("literal_error", field, fmt.Sprintf("Input should be '%s'", want), value, map[string]any{"expected": "'" + want + "'"})
		return ""
	}
	return want
}

// optionalProviderSlug reads a Providers enum value that may be absent or null.
func (f *bodyFields) optionalProviderSlug(field string) string {
	s := f.optionalString(field)
	if s != "" && !isKnownProviderSlug(s) {
		f.addEnum([]any{"body", field}, s)
		return ""
	}
	return s
}

// optionalProviderList reads a non-empty list of Providers, absent or null.
func (f *bodyFields) optionalProviderList(field string) []string {
	value := f.body[field]
	if value == nil {
		return nil
	}
	items, ok := value.([]any)
	if !ok {
		f.add("list_type", field, "Input should be a valid list", value, nil)
		return nil
	}
	if len(items) == 0 {
		f.add("too_short", field, "List should have at least 1 item after validation, not 0", value, map[string]any{"field_type": "List", "min_length": 1, "actual_length": 0})
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		s, ok := item.(string)
		if !ok || !isKnownProviderSlug(s) {
			f.addEnum([]any{"body", field, i}, item)
			continue
		}
		out = append(out, s)
	}
	return out
}

func (f *bodyFields) addEnum(loc []any, input any) {
	f.issues = append(f.issues, validationIssue{
		Type: "enum", Loc: loc, Msg: "Input should be a valid provider slug", Input: input,
		Ctx: map[string]any{"expected": strings.Join(knownProviderSlugs, ", ")},
	})
}

// uuidProblem explains why s is not a uuid, in pydantic's words.
func uuidProblem(s string) string {
	if len(s) != 32 && len(s) != 36 {
		return fmt.Sprintf("invalid length: expected length 32 for simple format, found %d", len(s))
	}
	return "invalid character"
}

// pathUUID validates a uuid path parameter, writing FastAPI's 422 if needed.
func pathUUID(w http.ResponseWriter, name, value string) (string, bool) {
	id, err := uuid.Parse(value)
	if err != nil {
		writeValidation(w, []validationIssue{{
			Type: "uuid_parsing", Loc: []any{"path", name}, Msg: "Input should be a valid UUID, " + uuidProblem(value),
			Input: value, Ctx: map[string]any{"error": uuidProblem(value)},
		}})
		return "", false
	}
	return id.String(), true
}

// queryInt reads an optional integer query parameter bounded by [min, max].
func queryInt(r *http.Request, name string, fallback, min, max int, issues *[]validationIssue) int {
	raw := r.URL.Query().Get(name)
	if raw == "" {
		return fallback
	}
	n, err := strconv.Atoi(raw)
	switch {
	case err != nil:
		*issues = append(*issues, validationIssue{Type: "int_parsing", Loc: []any{"query", name},
			Msg: "Input should be a valid integer, unable to parse string as an integer", Input: raw})
	case n < min:
		*issues = append(*issues, validationIssue{Type: "greater_than_equal", Loc: []any{"query", name},
			Msg: fmt.Sprintf("Input should be greater than or equal to %d", min), Input: raw, Ctx: map[string]any{"ge": min}})
	case n > max:
		*issues = append(*issues, validationIssue{Type: "less_than_equal", Loc: []any{"query", name},
			Msg: fmt.Sprintf("Input should be less than or equal to %d", max), Input: raw, Ctx: map[string]any{"le": max}})
	default:
		return n
	}
	return fallback
}
