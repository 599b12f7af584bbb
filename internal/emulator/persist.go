package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/uuid"
)

// The emulator can keep its users and connections in a JSON file
// (Config.StatePath), so that a development server restarted on the same
// database still knows the Junction users its database maps to. Link
// tokens are not kept: they are single use and minutes long.

// stateFileVersion changes when the file's shape does.
const stateFileVersion = 1

type savedState struct {
	Version int         `json:"version"`
	TeamID  string      `json:"team_id"`
	Users   []savedUser `json:"users"`
}

type savedUser struct {
	ID                string            `json:"id"`
	ClientUserID      string            `json:"client_user_id"`
	CreatedOn         time.Time         `json:"created_on"`
	FallbackTimeZone  string            `json:"fallback_time_zone,omitempty"`
	FallbackBirthDate string            `json:"fallback_birth_date,omitempty"`
	IngestionStart    string            `json:"ingestion_start,omitempty"`
	IngestionEnd      string            `json:"ingestion_end,omitempty"`
	Connections       []savedConnection `json:"connections"`
}

type savedConnection struct {
	Provider       string      `json:"provider"`
	CreatedOn      time.Time   `json:"created_on"`
	Status         string      `json:"status"`
	ExternalUserID string      `json:"external_user_id,omitempty"`
	Error          *savedError `json:"error,omitempty"`
}

type savedError struct {
	Type      string    `json:"type"`
	Message   string    `json:"message"`
	ErroredAt time.Time `json:"errored_at"`
}

// snapshotLocked copies the state into its file form. Caller holds e.mu.
func (e *Emulator) snapshotLocked() savedState {
	out := savedState{Version: stateFileVersion, TeamID: e.cfg.TeamID, Users: make([]savedUser, 0, len(e.state.userOrder))}
	for _, u := range e.state.userOrder {
		su := savedUser{
			ID: u.id, ClientUserID: u.clientUserID, CreatedOn: u.createdOn,
			FallbackTimeZone: u.fallbackTimeZone, FallbackBirthDate: u.fallbackBirthDate,
			IngestionStart: u.ingestionStart, IngestionEnd: u.ingestionEnd,
			Connections: make([]savedConnection, 0, len(u.connectionOrder)),
		}
		for _, slug := range u.connectionOrder {
			c := u.connections[slug]
			sc := savedConnection{Provider: c.slug, CreatedOn: c.createdOn, Status: c.status, ExternalUserID: c.externalUserID}
			if d := c.errorDetails; d != nil {
				sc.Error = &savedError{Type: d.errorType, Message: d.message, ErroredAt: d.erroredAt}
			}
			su.Connections = append(su.Connections, sc)
		}
		out.Users = append(out.Users, su)
	}
	return out
}

// restore fills an empty state from a saved one, skipping what it cannot
// use (a malformed id, a provider no longer in the catalogue, duplicates).
func (e *Emulator) restore(saved savedState) (skipped int) {
	for _, su := range saved.Users {
		id, err := uuid.Parse(su.ID)
		_, dupID := e.state.usersByID[id.String()]
		_, dupClient := e.state.usersByClientID[su.ClientUserID]
		if err != nil || su.ClientUserID == "" || dupID || dupClient {
			skipped++
			continue
		}
		u := &user{
			id: id.String(), clientUserID: su.ClientUserID, createdOn: su.CreatedOn.UTC(),
			fallbackTimeZone: su.FallbackTimeZone, fallbackBirthDate: su.FallbackBirthDate,
			ingestionStart: su.IngestionStart, ingestionEnd: su.IngestionEnd,
			connections: map[string]*connection{},
		}
		for _, sc := range su.Connections {
			_, known := findProvider(sc.Provider)
			_, dup := u.connections[sc.Provider]
			if !known || dup || (sc.Status != statusConnected && sc.Status != statusError) {
				skipped++
				continue
			}
			c := u.connectionFor(sc.Provider, sc.CreatedOn.UTC())
			c.status, c.externalUserID = sc.Status, sc.ExternalUserID
			if sc.Error != nil {
				c.errorDetails = &connectionErrorDetails{errorType: sc.Error.Type, message: sc.Error.Message, erroredAt: sc.Error.ErroredAt.UTC()}
			}
		}
		e.state.usersByID[u.id] = u
		e.state.usersByClientID[u.clientUserID] = u
		e.state.userOrder = append(e.state.userOrder, u)
	}
	return skipped
}

// loadState reads Config.StatePath before the emulator serves. A missing
// file is a fresh start; an unreadable one is moved aside (nothing is
// deleted) and the emulator starts empty, saying so in the log.
func (e *Emulator) loadState() error {
	path := e.cfg.StatePath
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("emulator: read state file %s: %w", path, err)
	}
	var saved savedState
	err = json.Unmarshal(raw, &saved)
	if err == nil && saved.Version != stateFileVersion {
		err = fmt.Errorf("version %d, this emulator reads version %d", saved.Version, stateFileVersion)
	}
	if err != nil {
		aside := path + ".unreadable-" + time.Now().UTC().Format("20060102T150405")
		if renameErr := os.Rename(path, aside); renameErr != nil {
			return fmt.Errorf("emulator: state file %s is unreadable (%v) and cannot be moved aside: %w", path, err, renameErr)
		}
		e.cfg.Logger.Warn().Err(err).Str("state_file", path).Str("moved_to", aside).
			Msg("emulator state file unreadable: moved aside, starting with no users")
		return nil
	}
	if e.cfg.TeamID == "" {
		if _, err := uuid.Parse(saved.TeamID); err == nil {
			e.cfg.TeamID = saved.TeamID
		}
	}
	skipped := e.restore(saved)
	e.cfg.Logger.Info().Str("state_file", path).Int("users", len(e.state.userOrder)).Int("skipped", skipped).
		Msg("emulator state restored")
	return nil
}

// stateChanged asks the saver to write the state file soon. Bursts of
// changes coalesce into one write; it never blocks the request.
func (e *Emulator) stateChanged() {
	if e.saveRequests == nil {
		return
	}
	select {
	case e.saveRequests <- struct{}{}:
	default: // a save is already pending and will include this change
	}
}

// saveLoop writes the state file whenever asked, until Close.
func (e *Emulator) saveLoop() {
	defer close(e.saverDone)
	for {
		select {
		case <-e.saveRequests:
			e.saveState()
		case <-e.deliveryCtx.Done():
			return
		}
	}
}

// saveState writes the state file atomically: a temporary file in the same
// folder, synced, then renamed over the old one.
func (e *Emulator) saveState() {
	e.mu.RLock()
	snapshot := e.snapshotLocked()
	e.mu.RUnlock()
	if err := writeFileAtomic(e.cfg.StatePath, snapshot); err != nil {
		e.cfg.Logger.Error().Err(err).Str("state_file", e.cfg.StatePath).Msg("cannot save emulator state")
	}
}

func writeFileAtomic(path string, v any) (err error) {
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(data, '\n')); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
