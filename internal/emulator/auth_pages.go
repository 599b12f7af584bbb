package emulator

import (
	"net/http"
	"net/mail"
	"strings"
)

// One page per auth type, as Junction's Link has: the provider's OAuth
// consent, a username/password form (with a verification code step for
// providers that use MFA), an email form, and, for providers that live on
// the phone, an explanation. What the emulator accepts is written on each
// page, so anyone can make a sign-in fail on purpose.
const (
	// DemoPassword is the one password the emulated providers accept.
	DemoPassword = "demo-password"
	// DemoMFACode is the one verification code they accept.
	DemoMFACode = "123456"
	// unknownEmailUser is the local part an email provider does not know.
	unknownEmailUser = "unknown"
)

// providerVisit starts a provider's page: visit, then the {provider} of
// the path, which must have authType.
func (e *Emulator) providerVisit(w http.ResponseWriter, r *http.Request, authType string) (flow, linkToken, provider, bool) {
	f, t, ok := e.visit(w, r)
	if !ok {
		return flow{}, linkToken{}, provider{}, false
	}
	p, ok := e.pathProvider(w, r, f, t, authType)
	return f, t, p, ok
}

// consentScreen imitates a provider's OAuth consent page.
func (e *Emulator) consentScreen(w http.ResponseWriter, r *http.Request) {
	f, _, p, ok := e.providerVisit(w, r, authOAuth)
	if !ok {
		return
	}
	base := "../complete?" + f.query() + "&provider=" + p.slug + "&action="
	e.renderPage(w, r, f, http.StatusOK, "consent", pageData{
		Title:       "Connect " + p.name,
		Provider:    providerItemOf(p, "../../"),
		ApproveHref: base + "approve",
		DenyHref:    base + "deny",
		CloseHref:   base + "close",
	})
}

// formPage is the data of the password, code, email and SDK pages.
func formPage(p provider, f flow, action, inlineError string) pageData {
	return pageData{
		Title:       "Connect " + p.name,
		Provider:    providerItemOf(p, "../../"),
		InlineError: inlineError,
		FormAction:  action,
		Token:       f.token,
		Origin:      f.origin,
		CloseHref:   "../complete?" + f.query() + "&provider=" + p.slug + "&action=close",
	}
}

// showForm returns how to show a form page (again) with a message, the
// user's input kept; an empty message is the first showing.
func (e *Emulator) showForm(w http.ResponseWriter, r *http.Request, f flow, p provider, page, action, input string) func(message string) {
	return func(message string) {
		data := formPage(p, f, action, message)
		data.Username = input
		e.renderPage(w, r, f, http.StatusOK, page, data)
	}
}

func (e *Emulator) passwordForm(w http.ResponseWriter, r *http.Request) {
	if f, _, p, ok := e.providerVisit(w, r, authPassword); ok {
		e.showForm(w, r, f, p, "password", p.slug, "")("")
	}
}

// passwordSubmit checks the form: DemoPassword connects (or leads to the
// code step for an MFA provider); any other password is rejected.
func (e *Emulator) passwordSubmit(w http.ResponseWriter, r *http.Request) {
	f, t, p, ok := e.providerVisit(w, r, authPassword)
	if !ok {
		return
	}
	username, password := strings.TrimSpace(r.PostFormValue("username")), r.PostFormValue("password")
	showForm := e.showForm(w, r, f, p, "password", p.slug, username)
	switch {
	case username == "" || password == "":
		showForm("Enter your " + p.name + " email and password.")
	case password != DemoPassword:
		e.formError(w, r, f, t, p, "provider_credential_error", showForm)
	case p.mfa:
		e.tokens.passPassword(f.token, p.slug)
		e.showForm(w, r, f, p, "mfa", "../mfa/"+p.slug, "")("")
	default:
		e.succeed(w, r, f, p)
	}
}

// mfaSubmit is the verification code step after a right password.
func (e *Emulator) mfaSubmit(w http.ResponseWriter, r *http.Request) {
	f, t, p, ok := e.providerVisit(w, r, authPassword)
	if !ok {
		return
	}
	if !p.mfa || t.passwordPassed != p.slug {
		e.renderResult(w, r, f, http.StatusBadRequest, resultPage{Heading: "Sign in first",
			Message: "The verification code comes after the password.", ErrorType: "invalid_request", BackHref: "../" + providerPage(p, f)})
		return
	}
	showForm := e.showForm(w, r, f, p, "mfa", "../mfa/"+p.slug, "")
	switch code := strings.TrimSpace(r.PostFormValue("code")); code {
	case "":
		showForm("Enter the verification code.")
	case DemoMFACode:
		e.succeed(w, r, f, p)
	default:
		e.formError(w, r, f, t, p, "incorrect_mfa_code", showForm)
	}
}

func (e *Emulator) emailForm(w http.ResponseWriter, r *http.Request) {
	if f, _, p, ok := e.providerVisit(w, r, authEmail); ok {
		e.showForm(w, r, f, p, "email", p.slug, "")("")
	}
}

// emailSubmit connects any well-formed address except unknown@…, which
// the provider does not know.
func (e *Emulator) emailSubmit(w http.ResponseWriter, r *http.Request) {
	f, t, p, ok := e.providerVisit(w, r, authEmail)
	if !ok {
		return
	}
	address := strings.TrimSpace(r.PostFormValue("email"))
	showForm := e.showForm(w, r, f, p, "email", p.slug, address)
	parsed, err := mail.ParseAddress(address)
	switch {
	case err != nil || parsed.Address != address || !strings.Contains(address[strings.LastIndex(address, "@")+1:], "."):
		showForm("Enter a valid email address.")
	case strings.EqualFold(address[:strings.LastIndex(address, "@")], unknownEmailUser):
		e.formError(w, r, f, t, p, "provider_credential_error", showForm)
	default:
		e.succeed(w, r, f, p)
	}
}

// sdkExplanation is what Link says about HealthKit and Health Connect:
// their data lives on the phone, so the app connects them with the
// Junction Mobile SDK. Nothing is consumed or connected here.
func (e *Emulator) sdkExplanation(w http.ResponseWriter, r *http.Request) {
	if f, _, p, ok := e.providerVisit(w, r, authSDK); ok {
		data := formPage(p, f, "", "")
		data.BackHref = "../?" + f.query()
		e.renderPage(w, r, f, http.StatusOK, "sdk", data)
	}
}
