package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/auth"
)

// tokenSecret is the test's HS256 secret, 40 bytes.
const tokenSecret = "token-test-secret-0123456789-abcdefghijk"

// runToken runs "qcgate token" with args and returns its stdout.
func runToken(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newTokenCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	cmd.SilenceUsage = true
	err := cmd.Execute()
	return out.String(), err
}

// secretFile writes the test secret, with a final line break as an editor
// leaves it, and returns its path.
func secretFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "jwt-secret")
	if err := os.WriteFile(p, []byte(tokenSecret+"\n"), 0o600); err != nil {
		t.Fatalf("writing secret: %v", err)
	}
	return p
}

// TestTokenCommand mints tokens and verifies them as the gateway would.
func TestTokenCommand(t *testing.T) {
	secret := secretFile(t)
	verifier := func(t *testing.T, issuer, audience string) *auth.Verifier {
		t.Helper()
		v, err := auth.NewVerifier(context.Background(), auth.Config{
			HS256SecretFile: secret, Issuer: issuer, Audience: audience,
		})
		if err != nil {
			t.Fatalf("NewVerifier() = %v", err)
		}
		return v
	}

	tests := []struct {
		name     string
		args     []string
		issuer   string
		audience string
		want     *auth.Principal
	}{
		{
			name: "annotator",
			args: []string{"--secret-file", secret, "--sub", "ann", "--roles", "annotator"},
			want: &auth.Principal{Subject: "ann", Roles: []auth.Role{auth.RoleAnnotator}},
		},
		{
			name: "two roles, issuer and audience",
			args: []string{"--secret-file", secret, "--sub", "rev", "--roles", "reviewer,viewer",
				"--ttl", "10m", "--issuer", "qcgate-demo", "--audience", "qcgate"},
			issuer: "qcgate-demo", audience: "qcgate",
			want: &auth.Principal{Subject: "rev",
				Roles: []auth.Role{auth.RoleReviewer, auth.RoleViewer}},
		},
		{
			name: "no roles",
			args: []string{"--secret-file", secret, "--sub", "nobody"},
			want: &auth.Principal{Subject: "nobody"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := runToken(t, tt.args...)
			if err != nil {
				t.Fatalf("qcgate token %v = %v", tt.args, err)
			}
			if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") ||
				strings.Count(out, ".") != 2 {
				t.Fatalf("qcgate token printed %q, want one JWT and a line break", out)
			}
			got, err := verifier(t, tt.issuer, tt.audience).VerifyToken(context.Background(),
				strings.TrimSuffix(out, "\n"))
			if err != nil {
				t.Fatalf("VerifyToken() = %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("VerifyToken() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestTokenCommandErrors checks that bad input gives an error and prints
// no token.
func TestTokenCommandErrors(t *testing.T) {
	secret := secretFile(t)
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("too short"), 0o600); err != nil {
		t.Fatalf("writing secret: %v", err)
	}
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no secret file", []string{"--sub", "a"},
			"--secret-file or QCGATE_AUTH_HS256_SECRET_FILE"},
		{"no subject", []string{"--secret-file", secret}, "--sub is required"},
		{"missing secret file", []string{"--secret-file", "/nonexistent", "--sub", "a"},
			"reading HS256 secret"},
		{"short secret", []string{"--secret-file", short, "--sub", "a"}, "at least 32"},
		{"unknown role", []string{"--secret-file", secret, "--sub", "a", "--roles", "root"},
			`unknown role: "root"`},
		{"ttl too long", []string{"--secret-file", secret, "--sub", "a", "--ttl", "9999h"},
			"lifetime 9999h0m0s"},
		{"bad ttl", []string{"--secret-file", secret, "--sub", "a", "--ttl", "forever"},
			"invalid argument"},
		{"extra argument", []string{"--secret-file", secret, "--sub", "a", "x"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(auth.EnvHS256SecretFile, "")
			out, err := runToken(t, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("qcgate token %v = %v, want error containing %q", tt.args, err, tt.wantErr)
			}
			if out != "" {
				t.Errorf("qcgate token %v printed %q, want nothing", tt.args, out)
			}
		})
	}
}

// TestTokenCommandEnvDefaults checks that the secret file, issuer and
// audience default to the gateway's QCGATE_AUTH_* variables.
func TestTokenCommandEnvDefaults(t *testing.T) {
	secret := secretFile(t)
	t.Setenv(auth.EnvHS256SecretFile, secret)
	t.Setenv(auth.EnvIssuer, "env-issuer")
	t.Setenv(auth.EnvAudience, "env-audience")
	out, err := runToken(t, "--sub", "envuser", "--roles", "viewer")
	if err != nil {
		t.Fatalf("qcgate token = %v", err)
	}
	v, err := auth.NewVerifier(context.Background(), auth.Config{
		HS256SecretFile: secret, Issuer: "env-issuer", Audience: "env-audience",
	})
	if err != nil {
		t.Fatalf("NewVerifier() = %v", err)
	}
	if _, err := v.VerifyToken(context.Background(), strings.TrimSpace(out)); err != nil {
		t.Errorf("VerifyToken() = %v, want nil", err)
	}
}

// TestTokenRegistered checks that the command is one of the subcommands.
func TestTokenRegistered(t *testing.T) {
	for _, c := range subcommands {
		if c.Name() == "token" {
			return
		}
	}
	t.Errorf("subcommands have no token command")
}
