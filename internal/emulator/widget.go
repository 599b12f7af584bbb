package emulator

import (
	_ "embed"
	"encoding/json"
	"net/http"
	"strings"
)

// The Link widget: Junction's https://link.tryvital.io/initialize.js defines
// window.Vital, which @tryvital/vital-link's useVitalLink hook drives. The
// emulator serves a look-alike at {PublicURL}/link/initialize.js: create()
// takes the hook's options, open(token) shows the emulator's Link pages in
// an overlay iframe, and the last page of a visit (page.js) tells the widget
// how it ended, which calls onSuccess, onError or onExit.
//
// Junction does not publish its widget nor the arguments of those callbacks,
// so their shape is the emulator's own: {state: "success"|"error"|"exit",
// provider?, error_type?, error?}, the same facts the redirect carries. Apps
// that must also work against Junction should treat them as hints and rely
// on the redirect and the webhooks.

//go:embed widget/initialize.js
var widgetSource string

//go:embed widget/page.js
var pageScriptSource string

// widgetMessageType marks the messages page.js posts to the widget.
const widgetMessageType = "junction-link-emulator"

// widgetScript is GET /link/initialize.js, with this emulator's Link URL
// written in.
func (e *Emulator) widgetScript(w http.ResponseWriter, r *http.Request) {
	linkURL, _ := json.Marshal(e.baseURL(r) + "/link/") // a JSON string is a safe JS string literal
	script := strings.Replace(widgetSource, "__LINK_URL__", string(linkURL), 1)
	writeScript(w, strings.Replace(script, "__MESSAGE_TYPE__", `"`+widgetMessageType+`"`, 1))
}

// pageScript is GET /link/page.js, loaded by result pages inside the widget.
func (e *Emulator) pageScript(w http.ResponseWriter, _ *http.Request) {
	writeScript(w, strings.Replace(pageScriptSource, "__MESSAGE_TYPE__", `"`+widgetMessageType+`"`, 1))
}

func writeScript(w http.ResponseWriter, source string) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write([]byte(source))
}
