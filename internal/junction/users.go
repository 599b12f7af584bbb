package junction

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// User is a Junction user.
type User struct {
	UserID       string
	TeamID       string
	ClientUserID string
	CreatedOn    time.Time
	// Adopted is true when CreateUser found the user already existing.
	Adopted bool
}

// SignInToken lets the Junction Mobile SDK act for a user.
type SignInToken struct {
	UserID      string
	SignInToken string
}

// userWire is ClientFacingUser, reduced to what we use.
type userWire struct {
	UserID       string      `json:"user_id"`
	TeamID       string      `json:"team_id"`
	ClientUserID string      `json:"client_user_id"`
	CreatedOn    lenientTime `json:"created_on"`
}

func (w userWire) user() User {
	return User{UserID: w.UserID, TeamID: w.TeamID, ClientUserID: w.ClientUserID, CreatedOn: time.Time(w.CreatedOn)}
}

// CreateUser creates a Junction user for clientUserID, or adopts the
// existing one: Junction answers a duplicate with 400 naming its user_id;
// when that id is missing, the user is looked up by client_user_id.
// The adopted User carries UserID, ClientUserID and, when Junction sent it,
// CreatedOn; its TeamID is empty.
func (c *Client) CreateUser(ctx context.Context, clientUserID string) (User, error) {
	if err := requireField("client_user_id", clientUserID); err != nil {
		return User{}, err
	}
	body := struct {
		ClientUserID string `json:"client_user_id"`
	}{clientUserID}
	var out userWire
	// Safe to repeat: a retry after a lost response lands in the adoption path.
	err := c.do(ctx, request{op: "create_user", method: http.MethodPost, path: "/v2/user", body: body, retryPOST: true}, &out)
	if err == nil {
		return out.user(), nil
	}
	var conflict *Error
	if !errors.As(err, &conflict) || (conflict.StatusCode != http.StatusBadRequest && conflict.StatusCode != http.StatusConflict) {
		return User{}, err
	}
	if conflict.UserID != "" {
		return User{UserID: conflict.UserID, ClientUserID: clientUserID, CreatedOn: conflict.createdOn, Adopted: true}, nil
	}
	existing, resolveErr := c.ResolveUser(ctx, clientUserID)
	if resolveErr != nil {
		if IsNotFound(resolveErr) {
			// Not a duplicate after all: the 400 meant something else.
			return User{}, err
		}
		return User{}, resolveErr
	}
	existing.Adopted = true
	return existing, nil
}

// ResolveUser finds the user created for clientUserID.
func (c *Client) ResolveUser(ctx context.Context, clientUserID string) (User, error) {
	if err := requireField("client_user_id", clientUserID); err != nil {
		return User{}, err
	}
	var out userWire
	err := c.do(ctx, request{op: "resolve_user", method: http.MethodGet, path: escapedPath("v2", "user", "resolve", clientUserID)}, &out)
	return out.user(), err
}

// DeleteUser deletes a user and all its connections (Junction keeps a
// 7-day grace period).
func (c *Client) DeleteUser(ctx context.Context, userID string) error {
	if err := requireField("user_id", userID); err != nil {
		return err
	}
	return c.do(ctx, request{op: "delete_user", method: http.MethodDelete, path: escapedPath("v2", "user", userID)}, nil)
}

// SignInToken mints a token for the Junction Mobile SDK (Apple HealthKit,
// Health Connect). Not retried: each call mints a new credential.
func (c *Client) SignInToken(ctx context.Context, userID string) (SignInToken, error) {
	if err := requireField("user_id", userID); err != nil {
		return SignInToken{}, err
	}
	var out struct {
		UserID      string `json:"user_id"`
		SignInToken string `json:"sign_in_token"`
	}
	err := c.do(ctx, request{op: "sign_in_token", method: http.MethodPost, path: escapedPath("v2", "user", userID, "sign_in_token")}, &out)
	if err != nil {
		return SignInToken{}, err
	}
	return SignInToken{UserID: out.UserID, SignInToken: out.SignInToken}, nil
}

// requireField refuses, before any request is made, a value that would make
// a path address a different endpoint: DELETE /v2/user/{id}/{provider} with
// an empty or ".." provider must never reach DELETE /v2/user/{id}.
func requireField(field, value string) error {
	switch {
	case strings.TrimSpace(value) == "":
		return fmt.Errorf("junction: %s is required", field)
	case value == "." || value == "..":
		return fmt.Errorf("junction: %s is not a valid identifier", field)
	}
	return nil
}
