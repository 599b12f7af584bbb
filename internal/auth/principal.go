// Package auth verifies the JWTs that apps send for their users and carries
// the verified identity through a request's context. It writes no HTTP
// responses: internal/handlers turns its errors into 401s.
package auth

import (
	"context"
	"time"
)

// Principal is the verified app user a request acts for.
type Principal struct {
	// UserID is the app's own id for its user, taken from Config.UserClaim.
	UserID string
	// ExpiresAt is when the token stops being valid (its exp): a long-lived
	// request, such as an event stream, ends then.
	ExpiresAt time.Time
}

type principalKey struct{}

// WithPrincipal returns a context carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFrom returns the principal stored by WithPrincipal, if any.
func PrincipalFrom(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
