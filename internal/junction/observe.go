package junction

import "context"

// Call is what an Observer learns when a call ends.
type Call struct {
	// Operation names the call: create_user, resolve_user, delete_user,
	// sign_in_token, link_token, oauth_provider, user_providers,
	// deregister_provider or providers.
	Operation string
	// Attempts counts the requests sent, retries included.
	Attempts int
	// StatusCode is the last response's; 0 when there was none.
	StatusCode int
	// Err is nil on success, else an *Error or the caller's cancellation.
	Err error
}

// Observer hears of every call, so metrics and tracing can watch the client
// without it knowing either: it is called as a call starts, may return a
// derived context (one holding a trace span, say), and the function it
// returns is called once when the call ends.
type Observer func(ctx context.Context, operation string) (context.Context, func(Call))

// observe starts a call with every observer; the function it returns ends it.
func (c *Client) observe(ctx context.Context, op string) (context.Context, func(Call)) {
	if len(c.observers) == 0 {
		return ctx, func(Call) {}
	}
	ends := make([]func(Call), 0, len(c.observers))
	for _, o := range c.observers {
		var end func(Call)
		ctx, end = o(ctx, op)
		ends = append(ends, end)
	}
	return ctx, func(call Call) {
		for i := len(ends) - 1; i >= 0; i-- {
			ends[i](call)
		}
	}
}
