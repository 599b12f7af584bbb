package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/linkbff/linkbff/internal/testkit"
)

func envOf(values map[string]string) func(string) string {
	return func(key string) string { return values[key] }
}

func TestRunServesAndShutsDown(t *testing.T) {
	s := testkit.StartRun(t, run, []string{"-addr", "127.0.0.1:0"}, map[string]string{"EMULATOR_API_KEY": "sk_us_env"}, testkit.EmulatorListening)
	// The first line says where it listens; with no -public-url, links
	// point there.
	first := s.Logs.Lines()[0]
	var listening struct {
		Addr    string `json:"addr"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(first), &listening); err != nil || listening.Message != testkit.EmulatorListening || listening.Addr == "" {
		t.Fatalf("first stdout line = %q", first)
	}
	base := "http://" + listening.Addr

	r := s.Do("POST", "/v2/user", map[string]string{"client_user_id": "cmd-test"}, "x-vital-api-key", "sk_us_env")
	var user struct {
		UserID string `json:"user_id"`
	}
	r.JSON(t, &user)
	if r.Status != http.StatusOK || user.UserID == "" {
		t.Fatalf("create user: status %d", r.Status)
	}

	r = s.Do("POST", "/v2/link/token", map[string]string{"user_id": user.UserID}, "x-vital-api-key", "sk_us_env")
	var lt testkit.LinkToken
	r.JSON(t, &lt)
	if !strings.HasPrefix(lt.LinkWebURL, base+"/link/?token=") {
		t.Fatalf("link_web_url = %q, want it under %s", lt.LinkWebURL, base)
	}
	if page := s.Do("GET", lt.LinkWebURL, nil); page.Status != http.StatusOK {
		t.Fatalf("hosted Link page: %d", page.Status)
	}

	s.Stop()
	// Request lines name the path but never the query, which holds the token.
	sawLinkPage := false
	for _, line := range s.Logs.Lines() {
		if strings.Contains(line, lt.LinkToken) || strings.Contains(line, url.QueryEscape(lt.LinkToken)) || strings.Contains(line, "sk_us_env") {
			t.Fatalf("a log line leaks a secret: %s", line)
		}
		if strings.Contains(line, `"path":"/link/"`) {
			sawLinkPage = true
		}
	}
	if !sawLinkPage {
		t.Fatal("no request line for the hosted Link page")
	}
}

func TestRunFlagErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string
	}{
		{"no API key", []string{"-addr", "127.0.0.1:0"}, nil, "API key"},
		{"webhook URL without secret", []string{"-addr", "127.0.0.1:0", "-api-key", "k", "-webhook-url", "http://127.0.0.1:1/hook"}, nil, "WebhookSecret"},
		{"bad env", []string{"-addr", "127.0.0.1:0", "-api-key", "k", "-env", "staging"}, nil, "Env"},
		{"stray argument", []string{"-api-key", "k", "extra"}, nil, "unexpected"},
		{"unknown flag", []string{"-nope"}, nil, "nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			err := run(ctx, tt.args, envOf(tt.env), io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestRunHelpListsFlags(t *testing.T) {
	var stderr bytes.Buffer
	env := envOf(map[string]string{"EMULATOR_API_KEY": "sk_us_secret", "EMULATOR_WEBHOOK_SECRET": "whsec_c2VjcmV0"})
	if err := run(context.Background(), []string{"-h"}, env, io.Discard, &stderr); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if strings.Contains(stderr.String(), "sk_us_secret") || strings.Contains(stderr.String(), "whsec_c2VjcmV0") {
		t.Fatalf("usage shows a secret from the environment:\n%s", stderr.String())
	}
	for _, flagName := range []string{"-addr", "-api-key", "-public-url", "-webhook-url", "-webhook-secret", "-env", "-region", "EMULATOR_API_KEY", "EMULATOR_WEBHOOK_SECRET"} {
		if !strings.Contains(stderr.String(), flagName) {
			t.Errorf("usage does not mention %s:\n%s", flagName, stderr.String())
		}
	}
}

func TestStateFlagKeepsUsersAcrossRestarts(t *testing.T) {
	args := []string{"-addr", "127.0.0.1:0", "-state", t.TempDir() + "/emulator.json"}
	env := map[string]string{"EMULATOR_API_KEY": "sk_us_env"}
	first := testkit.StartRun(t, run, args, env, testkit.EmulatorListening)
	created := first.Do("POST", "/v2/user", map[string]string{"client_user_id": "kept"}, "x-vital-api-key", "sk_us_env")
	if created.Status != http.StatusOK {
		t.Fatalf("create user: %d %s", created.Status, created.Body)
	}
	first.Stop()

	second := testkit.StartRun(t, run, args, env, testkit.EmulatorListening)
	if r := second.Do("GET", "/v2/user/resolve/kept", nil, "x-vital-api-key", "sk_us_env"); r.Status != http.StatusOK {
		t.Fatalf("after a restart with -state, resolve: %d %s", r.Status, r.Body)
	}
}
