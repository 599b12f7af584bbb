package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/linkbff/linkbff/internal/auth"
	"github.com/linkbff/linkbff/internal/config"
)

// Besides serving, the binary answers two questions an operator asks:
//
//	linkbff --version            which build is this?
//	linkbff token --user alice   a JWT to try the API with (HS256 setups)
//
// runSubcommand runs one of them when args name it; handled is false
// otherwise, and run serves as usual.
func runSubcommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) (handled bool, err error) {
	if len(args) < 2 {
		return false, nil
	}
	switch args[1] {
	case "--version", "-version", "version":
		info, ok := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionLine(stampedVersion, info, ok))
		return true, nil
	case "token":
		return true, runToken(ctx, args[2:], getenv, stdout, stderr)
	}
	return false, nil
}

// printCommands adds the subcommands to -h.
func printCommands(w io.Writer) {
	fmt.Fprint(w, `
Commands:
  --version                 print the version and VCS revision of this build
  token --user ID [--ttl D] print a JWT for user ID, signed with AUTH_HS256_SECRET
                            (with AUTH_ISSUER, AUTH_AUDIENCE, AUTH_USER_CLAIM): a
                            token to try the API, e.g. in deploy/compose.yaml
`)
}

// stampedVersion is set by scripts/build-static.sh (-ldflags -X) from git
// describe or LINKBFF_VERSION: the Docker build has no .git to read, and
// go build's own VCS stamp can be switched off (-buildvcs=false).
var stampedVersion string

// versionLine describes the build: the stamped version when there is one,
// else module version, VCS revision (and whether the tree had uncommitted
// changes), commit time; and the Go release.
func versionLine(stamped string, info *debug.BuildInfo, ok bool) string {
	if !ok {
		return "linkbff (no build information)"
	}
	if stamped != "" {
		return fmt.Sprintf("linkbff %s (%s)", stamped, info.GoVersion)
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	revision := settings["vcs.revision"]
	if revision == "" {
		return fmt.Sprintf("linkbff %s (no VCS information in this build; %s)", version, info.GoVersion)
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if settings["vcs.modified"] == "true" {
		revision += " with uncommitted changes"
	}
	if at := settings["vcs.time"]; at != "" {
		revision += ", committed " + at
	}
	return fmt.Sprintf("linkbff %s (revision %s; %s)", version, revision, info.GoVersion)
}

// maxTokenTTL bounds --ttl: a token to try things with, not a credential.
const maxTokenTTL = 24 * time.Hour

// runToken prints a JWT that this configuration accepts, for a user id.
func runToken(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	user := fs.String("user", "", "the app user id to put in the token (required)")
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid, at most 24h")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: linkbff token --user ID [--ttl 1h]\n\nPrints a JWT signed with AUTH_HS256_SECRET, with AUTH_ISSUER, AUTH_AUDIENCE and\nthe user in AUTH_USER_CLAIM: what your identity provider would issue.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("token: unexpected arguments %q", fs.Args())
	case strings.TrimSpace(*user) == "":
		return errors.New("token: --user is required (the app's own id for the user, e.g. --user alice)")
	case *ttl <= 0 || *ttl > maxTokenTTL:
		return fmt.Errorf("token: --ttl must be between 1s and %s", maxTokenTTL)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	if cfg.Auth.HS256Secret == "" {
		return errors.New("token: AUTH_HS256_SECRET is not set, so there is no key to sign with. " +
			"With AUTH_JWKS_URL, get tokens from your identity provider; in dev mode, POST /_dev/token {\"user\":\"alice\"}")
	}
	token, err := mintToken(cfg.Auth, *user, *ttl, time.Now())
	if err != nil {
		return err
	}
	// Check it the way the server will, so a token that prints also works.
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if _, err := verifier.Verify(ctx, token); err != nil {
		return fmt.Errorf("token: this configuration would refuse the token (%v); check AUTH_ALGORITHMS and AUTH_MAX_TOKEN_AGE", err)
	}
	fmt.Fprintln(stdout, token)
	return nil
}

// mintToken signs an HS256 JWT for user with the configured claims.
func mintToken(cfg auth.Config, user string, ttl time.Duration, now time.Time) (string, error) {
	userClaim := cfg.UserClaim
	if userClaim == "" {
		userClaim = "sub"
	}
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	claims := jwt.MapClaims{
		"iss": cfg.Issuer,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(ttl).Unix(),
		"jti": hex.EncodeToString(jti),
	}
	claims[userClaim] = user
	if cfg.Audience != "" {
		claims["aud"] = cfg.Audience
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(cfg.HS256Secret))
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return signed, nil
}
