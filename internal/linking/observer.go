package linking

import "time"

// Observer hears how Link flows go, for metrics: how many users start
// Link, how it ends for them, and which connections Junction confirms. It
// is told after the fact and must neither block nor fail; NopObserver is
// the default.
type Observer interface {
	// LinkStarted: a link token was minted, for provider or, when provider
	// is "", for the user's pick in Link.
	LinkStarted(provider string)
	// CallbackRecorded: the first outcome of a link session was recorded.
	CallbackRecorded(o Outcome)
	// WebhookHandled: a verified webhook of eventType ("" when its body was
	// unusable) was handled with result.
	WebhookHandled(eventType string, result WebhookResult)
	// ConnectionConfirmed: a webhook confirmed a connection to provider.
	// fromLink says whether a link session led to it, and sinceLinkStarted
	// how long before that session was opened.
	ConnectionConfirmed(provider string, sinceLinkStarted time.Duration, fromLink bool)
}

// NopObserver hears nothing.
type NopObserver struct{}

func (NopObserver) LinkStarted(string)                              {}
func (NopObserver) CallbackRecorded(Outcome)                        {}
func (NopObserver) WebhookHandled(string, WebhookResult)            {}
func (NopObserver) ConnectionConfirmed(string, time.Duration, bool) {}

// ConfirmationWindow is how long after a link session opened a confirmed
// connection is taken to have come from it.
const ConfirmationWindow = 2 * LinkTokenLifetime
