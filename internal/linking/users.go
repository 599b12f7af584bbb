package linking

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
)

// clientUserNamespace scopes the UUIDv5s linkbff sends as client_user_id.
var clientUserNamespace = uuid.MustParse("7f0c1c2e-55b1-4d5e-9a3e-6c1b9d1e2f40")

// ClientUserID derives the client_user_id sent to Junction. It is stable,
// so creates by any replica hit Junction's uniqueness check and adopt the
// same user, and opaque, so Junction never sees the app's user id (which
// may be an e-mail address).
func ClientUserID(appUserID string) string {
	return uuid.NewSHA1(clientUserNamespace, []byte(appUserID)).String()
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
	m, err := s.store.UserMappingByAppUser(ctx, appUserID)
	if err == nil {
		return m, nil
	}
	if !IsCode(err, ENotFound) {
		return UserMapping{}, err
	}
	v, err, _ := s.userCreates.Do(appUserID, func() (any, error) {
		// Detached from the first caller's cancellation, since the others
		// share it, but still bounded.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sharedCallTimeout)
		defer cancel()
		clientUserID := ClientUserID(appUserID)
		u, err := s.junction.CreateUser(ctx, clientUserID)
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
		s.log.Info().Bool("adopted", u.Adopted).Str("junction_user_id", stored.JunctionUserID).Msg("junction user mapped")
		return stored, nil
	})
	if err != nil {
		return UserMapping{}, err
	}
	return v.(UserMapping), nil
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
	if err := s.junction.DeleteUser(ctx, m.JunctionUserID); err != nil && !isUnknownJunctionUser(err) {
		return err
	}
	if err := s.store.DeleteAppUser(ctx, appUserID); err != nil {
		return err
	}
	s.userProviders.forget(m.JunctionUserID)
	s.log.Info().Str("junction_user_id", m.JunctionUserID).Msg("app user deleted")
	return nil
}

// SignInToken returns a Junction mobile SDK sign-in token for the caller.
func (s *Service) SignInToken(ctx context.Context, appUserID string) (SignInToken, error) {
	m, err := s.EnsureJunctionUser(ctx, appUserID)
	if err != nil {
		return SignInToken{}, err
	}
	return s.junction.SignInToken(ctx, m.JunctionUserID)
}
