package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/MicahParks/jwkset"
)

// maxJWKSBytes bounds what a misbehaving JWKS endpoint can make us read.
const maxJWKSBytes = 1 << 20

// fetch downloads the JWKS and replaces the stored keys. On any failure the
// previous keys stay in place: a JWKS hiccup must not log every user out.
func (s *remoteKeySet) fetch(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return fmt.Errorf("build JWKS request for %s: %w", s.redactedURL, stripURL(err))
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("fetch JWKS from %s: %w", s.redactedURL, stripURL(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch JWKS from %s: HTTP status %d", s.redactedURL, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return fmt.Errorf("read JWKS from %s: %w", s.redactedURL, stripURL(err))
	}
	if len(body) > maxJWKSBytes {
		return fmt.Errorf("JWKS from %s exceeds %d bytes", s.redactedURL, maxJWKSBytes)
	}
	keys, err := parseSigningKeys(body)
	if err != nil {
		return fmt.Errorf("JWKS from %s: %w", s.redactedURL, err)
	}
	return s.MemoryJWKSet.KeyReplaceAll(ctx, keys)
}

// parseSigningKeys keeps the public signature keys of a JWKS document.
// Encryption keys, symmetric keys and keys this library cannot parse are
// skipped rather than failing the whole set, so one odd key published by the
// IdP does not block the others.
func parseSigningKeys(body []byte) ([]jwkset.JWK, error) {
	var set jwkset.JWKSMarshal
	if err := json.Unmarshal(body, &set); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	keys := make([]jwkset.JWK, 0, len(set.Keys))
	for _, marshal := range set.Keys {
		if marshal.USE == jwkset.UseEnc || marshal.KTY == jwkset.KtyOct {
			continue
		}
		jwk, err := jwkset.NewJWKFromMarshal(marshal, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil {
			continue
		}
		keys = append(keys, jwk)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no usable signing keys among %d published", len(set.Keys))
	}
	return keys, nil
}

// redactURL keeps scheme, host and path: enough to tell which JWKS failed,
// without credentials or query parameters that may carry secrets.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the JWKS URL"
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// stripURL drops the *url.Error wrapper, whose text repeats the full URL.
func stripURL(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err
	}
	return err
}
