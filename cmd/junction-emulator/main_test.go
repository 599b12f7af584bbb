package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func envOf(values map[string]string) func(string) string {
	return func(key string) string { return values[key] }
}

// startRun runs the command on a free port and returns its base URL, its
// stdout lines and a stop function that returns run's error.
func startRun(t *testing.T, args []string, env map[string]string) (string, <-chan string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdoutR, stdoutW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, args, envOf(env), stdoutW, io.Discard)
		stdoutW.Close()
		done <- err
	}()
	// Big enough that the scanner never blocks the server's logging: it is
	// the only reader of stdout, so no line is lost to another.
	lines := make(chan string, 10000)
	go func() {
		defer close(lines)
		scanner := bufio.NewScanner(stdoutR)
		for scanner.Scan() {
			lines <- scanner.Text()
		}
	}()
	var first struct {
		Addr    string `json:"addr"`
		Message string `json:"message"`
	}
	select {
	case line := <-lines:
		if err := json.Unmarshal([]byte(line), &first); err != nil || first.Message != "junction emulator listening" || first.Addr == "" {
			cancel()
			t.Fatalf("first stdout line = %q", line)
		}
	case err := <-done:
		cancel()
		t.Fatalf("run returned early: %v", err)
	}
	stop := func() error {
		cancel()
		return <-done
	}
	return "http://" + first.Addr, lines, stop
}

func TestRunServesAndShutsDown(t *testing.T) {
	base, lines, stop := startRun(t, []string{"-addr", "127.0.0.1:0"}, map[string]string{"EMULATOR_API_KEY": "sk_us_env"})

	req, _ := http.NewRequest("POST", base+"/v2/user", strings.NewReader(`{"client_user_id":"cmd-test"}`))
	req.Header.Set("x-vital-api-key", "sk_us_env")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var user struct {
		UserID string `json:"user_id"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&user)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || user.UserID == "" {
		t.Fatalf("create user: status %d", resp.StatusCode)
	}

	body, _ := json.Marshal(map[string]string{"user_id": user.UserID})
	req, _ = http.NewRequest("POST", base+"/v2/link/token", bytes.NewReader(body))
	req.Header.Set("x-vital-api-key", "sk_us_env")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var lt struct {
		LinkToken  string `json:"link_token"`
		LinkWebURL string `json:"link_web_url"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&lt)
	resp.Body.Close()
	if !strings.HasPrefix(lt.LinkWebURL, base+"/link/?token=") {
		t.Fatalf("link_web_url = %q, want it under %s", lt.LinkWebURL, base)
	}
	page, err := http.Get(lt.LinkWebURL)
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != http.StatusOK {
		t.Fatalf("hosted Link page: %d", page.StatusCode)
	}

	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	// Request lines name the path but never the query, which holds the token.
	sawLinkPage := false
	for line := range lines {
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
