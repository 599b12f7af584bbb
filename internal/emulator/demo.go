package emulator

import (
	"net/http"
	"slices"
	"strings"
)

// demoProviders is the spec's DemoProviders enum: what Junction's sandbox
// can connect without any Link UI, with generated data.
var demoProviders = []string{"apple_health_kit", "fitbit", "freestyle_libre", "oura"}

// connectDemo is POST /v2/link/connect/demo {"user_id","provider"}: it
// connects a demo provider (sandbox only), which then shows in the user's
// providers and sends provider.connection.created, like a Link connection.
func (e *Emulator) connectDemo(w http.ResponseWriter, r *http.Request) {
	fields, ok := readFields(w, r)
	if !ok {
		return
	}
	userID := fields.requiredUUID("user_id")
	slug := fields.requiredEnum("provider", demoProviders)
	if len(fields.issues) > 0 {
		writeValidation(w, fields.issues)
		return
	}
	if e.cfg.Env != "sandbox" {
		writeDetail(w, http.StatusBadRequest, "Demo connections are only available in the sandbox environment.")
		return
	}
	p, _ := findProvider(slug) // every demo provider is in the catalogue
	if !e.connect(r, userID, p) {
		writeDetail(w, http.StatusNotFound, userNotFound)
		return
	}
	writeJSON(w, http.StatusOK, wireDemoConnectionStatus{Success: true, Detail: "Connected user " + userID + " to provider " + slug})
}

// requiredEnum reads a required string that must be one of allowed.
func (f *bodyFields) requiredEnum(field string, allowed []string) string {
	s := f.requiredString(field)
	if s != "" && !slices.Contains(allowed, s) {
		quoted := make([]string, len(allowed))
		for i, a := range allowed {
			quoted[i] = "'" + a + "'"
		}
		expected := strings.Join(quoted[:len(quoted)-1], ", ") + " or " + quoted[len(quoted)-1]
		f.add("enum", field, "Input should be "+expected, s, map[string]any{"expected": expected})
		return ""
	}
	return s
}
