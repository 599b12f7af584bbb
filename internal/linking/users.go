package linking

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
)

// LegacyClientUserNamespace is the namespace linkbff used before it could
// be configured, and stays the default.
var LegacyClientUserNamespace = uuid.MustParse("7f0c1c2e-55b1-4d5e-9a3e-6c1b9d1e2f40")

// ClientUserIDs derives the client_user_id linkbff sends Junction for an app
// user: UUIDv5(Namespace, Issuer + "\n" + app user id). It is stable, so
// creates by any replica hit Junction's uniqueness check and adopt the same
// user; opaque, so Junction never sees the app's user id (which may be an
// e-mail address); and scoped, so two deployments on one Junction team
// with different identity providers (or namespaces) never share a user.
type ClientUserIDs struct {
	Namespace uuid.UUID // LegacyClientUserNamespace when zero
	Issuer    string    // the iss of the app's tokens
}

// For returns the client_user_id of appUserID. attempt 0 is the id an app
// backend can compute; a higher attempt is used only when Junction still
// holds a deleted user under the previous one.
func (c ClientUserIDs) For(appUserID string, attempt int) string {
	ns := c.Namespace
	if ns == uuid.Nil {
		ns = LegacyClientUserNamespace
	}
	name := c.Issuer + "\n" + appUserID
	if attempt > 0 {
		name += "\n" + strconv.Itoa(attempt+1)
	}
	return uuid.NewSHA1(ns, []byte(name)).String()
}

// sharedCallTimeout bounds a Junction call shared by several requests
// (singleflight), retries included.
const sharedCallTimeout = 20 * time.Second

// maxAppUserID bounds the user ids linkbff stores; identity providers' ids
// are far shorter.
const maxAppUserID = 255

// EnsureJunctionUser returns the caller's Junction user, creating it once.
// Concurrent first calls in this process share one create; across processes
// Junction's client_user_id uniqueness and the store's first-writer-wins
// insert make them agree.
func (s *Service) EnsureJunctionUser(ctx context.Context, appUserID string) (UserMapping, error) {
	if len(appUserID) > maxAppUserID {
		return UserMapping{}, Errorf(EInvalid, "the token's user id is longer than %d bytes", maxAppUserID)
	}
	if m, ok := s.mappings.get(appUserID); ok {
		return m, nil
	}
	epoch := s.mappings.begin()
	m, err := s.store.UserMappingByAppUser(ctx, appUserID)
	if err == nil {
		s.mappings.add(m, epoch)
		return m, nil
	}
	if !IsCode(err, ENotFound) {
		return UserMapping{}, err
	}
	return s.createJunctionUser(ctx, appUserID, UserMapping{})
}

// createJunctionUser creates (or adopts) the app user's Junction user and
// stores the mapping. gone, when set, is a mapping whose Junction user
// Junction says no longer exists: its client_user_id is reused, so the user
// keeps the id it had, unless Junction still holds the deleted user under it.
func (s *Service) createJunctionUser(ctx context.Context, appUserID string, gone UserMapping) (UserMapping, error) {
	v, err, _ := s.userCreates.Do(appUserID, func() (any, error) {
		epoch := s.mappings.begin()
		// Detached from the first caller's cancellation, since the others
		// share it, but still bounded.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCallTimeout)
		defer cancel()
		clientUserID := gone.ClientUserID
		if clientUserID == "" {
			clientUserID = s.clientUserIDs.For(appUserID, 0)
		}
		u, err := s.junction.CreateUser(ctx, clientUserID)
		if err == nil && gone.JunctionUserID != "" && u.ID == gone.JunctionUserID {
			// Junction adopted the very user it said is gone (it keeps
			// deleted users for a grace period): take a new id.
			clientUserID = s.clientUserIDs.For(appUserID, 1)
			u, err = s.junction.CreateUser(ctx, clientUserID)
		}
		if err != nil {
			return UserMapping{}, err
		}
		stored, err := s.store.SaveUserMapping(ctx, UserMapping{
			AppUserID:      appUserID,
			JunctionUserID: u.ID,
			ClientUserID:   clientUserID,
			CreatedAt:      s.now().UTC(),
		})
		if err != nil {
			return UserMapping{}, err
		}
		s.mappings.add(stored, epoch)
		s.log.Info().Bool("adopted", u.Adopted).Bool("replaces_deleted", gone.JunctionUserID != "").
			Str("junction_user_id", stored.JunctionUserID).Msg("junction user mapped")
		return stored, nil
	})
	if err != nil {
		return UserMapping{}, err
	}
	return v.(UserMapping), nil
}

// withJunctionUser runs call for the caller's Junction user. When Junction
// says that user no longer exists (deleted in Junction's dashboard, or an
// emulator that forgot it), the stale mapping is dropped, a new Junction
// user is mapped, and call runs once more: a user is never locked out.
func (s *Service) withJunctionUser(ctx context.Context, appUserID string, call func(UserMapping) error) error {
	m, err := s.EnsureJunctionUser(ctx, appUserID)
	if err != nil {
		return err
	}
	if err = call(m); !isUnknownJunctionUser(err) {
		return err
	}
	if err := s.forgetJunctionUser(ctx, m); err != nil {
		return err
	}
	if m, err = s.createJunctionUser(ctx, appUserID, m); err != nil {
		return err
	}
	return call(m)
}

// forgetJunctionUser drops a mapping whose Junction user is gone, unless
// another request has replaced it already.
func (s *Service) forgetJunctionUser(ctx context.Context, m UserMapping) error {
	err := s.store.ForgetJunctionUser(ctx, m)
	// After the store has changed, so no lookup can cache the old row again.
	s.mappings.forget(m.AppUserID)
	if err != nil {
		return err
	}
	s.userProviders.forget(m.JunctionUserID)
	s.log.Warn().Str("junction_user_id", m.JunctionUserID).Msg("junction user no longer exists; mapping dropped")
	return nil
}

// existingJunctionUser returns the mapping without creating one; ok is false
// when the app user has none yet.
func (s *Service) existingJunctionUser(ctx context.Context, appUserID string) (m UserMapping, ok bool, err error) {
	m, err = s.store.UserMappingByAppUser(ctx, appUserID)
	if IsCode(err, ENotFound) {
		return m, false, nil
	}
	return m, err == nil, err
}

// isUnknownJunctionUser reports whether Junction said the user is gone.
func isUnknownJunctionUser(err error) bool { return errors.Is(err, ErrUnknownJunctionUser) }

// DeleteAppUser deletes the caller's Junction user and everything linkbff
// keeps about them. Deleting twice is fine.
func (s *Service) DeleteAppUser(ctx context.Context, appUserID string) error {
	m, ok, err := s.existingJunctionUser(ctx, appUserID)
	if err != nil || !ok {
		return err
	}
	var events []*Event
	for _, provider := range s.connectedProviders(ctx, m) {
		events = append(events, keep(s.disconnectedEvent(m, provider, ReasonUserDeleted))...)
	}
	if err := s.junction.DeleteUser(ctx, m.JunctionUserID); err != nil && !isUnknownJunctionUser(err) {
		return err
	}
	err = s.store.DeleteAppUser(ctx, appUserID, events...)
	s.mappings.forget(appUserID) // after the store, as in forgetJunctionUser
	if err != nil {
		return err
	}
	s.publish(ctx, events...)
	s.userProviders.forget(m.JunctionUserID)
	s.log.Info().Str("junction_user_id", m.JunctionUserID).Msg("app user deleted")
	return nil
}

// connectedProviders are the providers m's Junction user has, by Junction's
// list and by the webhooks linkbff kept; Junction's part is skipped when it
// cannot be asked, since the user is being deleted either way.
func (s *Service) connectedProviders(ctx context.Context, m UserMapping) []string {
	seen := map[string]bool{}
	var out []string
	add := func(provider string) {
		if !seen[provider] {
			seen[provider] = true
			out = append(out, provider)
		}
	}
	if remote, err := s.userProviders.get(ctx, m.JunctionUserID); err == nil {
		for _, c := range remote {
			add(c.Provider)
		}
	} else if !isUnknownJunctionUser(err) {
		s.log.Warn().Err(err).Msg("could not list the connections of a user being deleted; reporting those webhooks announced")
	}
	if reported, err := s.store.ReportedConnections(ctx, m.JunctionUserID); err == nil {
		for _, c := range reported {
			add(c.Provider)
		}
	}
	sort.Strings(out)
	return out
}

// SignInToken returns a Junction mobile SDK sign-in token for the caller.
func (s *Service) SignInToken(ctx context.Context, appUserID string) (SignInToken, error) {
	var t SignInToken
	err := s.withJunctionUser(ctx, appUserID, func(m UserMapping) (err error) {
		t, err = s.junction.SignInToken(ctx, m.JunctionUserID)
		return err
	})
	return t, err
}
