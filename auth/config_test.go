package auth

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestConfigValidate checks that Validate names every problem at once.
func TestConfigValidate(t *testing.T) {
	jwks := "https://idp.example/certs"
	tests := []struct {
		name string
		cfg  Config
		want []string // substrings, one per expected problem; nil: valid
	}{
		{name: "disabled", cfg: Config{Disabled: true}},
		{name: "secret only", cfg: Config{HS256SecretFile: "s"}},
		{name: "JWKS with issuer and audience",
			cfg: Config{JWKSURL: jwks, Issuer: "i", Audience: "a"}},
		{name: "JWKS on loopback http",
			cfg: Config{JWKSURL: "http://127.0.0.1:8080/certs", Issuer: "i", Audience: "a"}},
		{name: "JWKS on plain http allowed",
			cfg: Config{JWKSURL: "http://keycloak:8080/certs", JWKSAllowHTTP: true,
				Issuer: "i", Audience: "a"}},
		{name: "nothing", cfg: Config{}, want: []string{"no key configured"}},
		{name: "JWKS alone", cfg: Config{JWKSURL: jwks},
			want: []string{"auth.issuer: required", "auth.audience: required"}},
		{name: "issuer without audience", cfg: Config{HS256SecretFile: "s", Issuer: "i"},
			want: []string{"auth.audience: required"}},
		{name: "JWKS on plain http to another host",
			cfg:  Config{JWKSURL: "http://keycloak:8080/certs", Issuer: "i", Audience: "a"},
			want: []string{"auth.jwks_url: http to a host that is not loopback"}},
		{name: "JWKS not absolute", cfg: Config{JWKSURL: "/certs", Issuer: "i", Audience: "a"},
			want: []string{"auth.jwks_url: not an absolute URL"}},
		{name: "JWKS of another scheme",
			cfg:  Config{JWKSURL: "file://x/certs", Issuer: "i", Audience: "a"},
			want: []string{`scheme "file" is not https`}},
		{name: "many problems",
			cfg: Config{
				RSAPublicKeyFiles: []string{" "}, RolesClaim: "realm_access..roles",
				Leeway: time.Hour, MaxTokenBytes: -1, JWKSRefreshInterval: -1,
			},
			want: []string{
				"an entry is empty", "empty path element", "auth.leeway: 1h0m0s is outside",
				"auth.max_token_bytes: -1", "auth.jwks_refresh_interval",
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("Validate() = %v, want %v", err, ErrInvalidConfig)
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("Validate() gave %d problems, want %d:\n%s", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// TestConfigWithDefaults checks the defaults and that set values stay.
func TestConfigWithDefaults(t *testing.T) {
	got := Config{}.WithDefaults()
	want := Config{
		RolesClaim: "roles", Leeway: 30 * time.Second, MaxTokenBytes: 8192,
		JWKSRefreshInterval: time.Hour, JWKSMinRefreshInterval: 30 * time.Second,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Config{}.WithDefaults() mismatch (-want +got):\n%s", diff)
	}
	set := Config{RolesClaim: "r", Leeway: time.Second, MaxTokenBytes: 1,
		JWKSRefreshInterval: time.Minute, JWKSMinRefreshInterval: time.Second}
	if diff := cmp.Diff(set, set.WithDefaults()); diff != "" {
		t.Errorf("WithDefaults() changed set values (-want +got):\n%s", diff)
	}
}

// TestConfigApplyEnv checks every QCGATE_AUTH_* variable and the reporting
// of unreadable values.
func TestConfigApplyEnv(t *testing.T) {
	env := map[string]string{
		"QCGATE_AUTH_DISABLED":                  "false",
		"QCGATE_AUTH_HS256_SECRET_FILE":         "/run/secrets/jwt",
		"QCGATE_AUTH_RSA_PUBLIC_KEY_FILES":      "a.pem, b.pem,,",
		"QCGATE_AUTH_EC_PUBLIC_KEY_FILES":       "c.pem",
		"QCGATE_AUTH_JWKS_URL":                  "https://idp/certs",
		"QCGATE_AUTH_JWKS_ALLOW_HTTP":           "true",
		"QCGATE_AUTH_JWKS_REFRESH_INTERVAL":     "15m",
		"QCGATE_AUTH_JWKS_MIN_REFRESH_INTERVAL": "10s",
		"QCGATE_AUTH_ISSUER":                    "https://idp/realms/r",
		"QCGATE_AUTH_AUDIENCE":                  "qcgate",
		"QCGATE_AUTH_ROLES_CLAIM":               "realm_access.roles",
		"QCGATE_AUTH_LEEWAY":                    "5s",
		"QCGATE_AUTH_MAX_TOKEN_BYTES":           "4096",
		"QCGATE_AUTH_METRICS_PUBLIC":            "1",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	c := Config{Disabled: true, Audience: "old"}
	if err := c.ApplyEnv(lookup); err != nil {
		t.Fatalf("ApplyEnv() = %v", err)
	}
	want := Config{
		HS256SecretFile: "/run/secrets/jwt", RSAPublicKeyFiles: []string{"a.pem", "b.pem"},
		ECPublicKeyFiles: []string{"c.pem"}, JWKSURL: "https://idp/certs", JWKSAllowHTTP: true,
		JWKSRefreshInterval: 15 * time.Minute, JWKSMinRefreshInterval: 10 * time.Second,
		Issuer: "https://idp/realms/r", Audience: "qcgate", RolesClaim: "realm_access.roles",
		Leeway: 5 * time.Second, MaxTokenBytes: 4096, MetricsPublic: true,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("ApplyEnv() mismatch (-want +got):\n%s", diff)
	}

	bad := map[string]string{
		"QCGATE_AUTH_DISABLED": "maybe", "QCGATE_AUTH_LEEWAY": "30",
		"QCGATE_AUTH_MAX_TOKEN_BYTES": "8k",
	}
	err := (&Config{}).ApplyEnv(func(k string) (string, bool) { v, ok := bad[k]; return v, ok })
	if !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("ApplyEnv(bad) = %v, want %v", err, ErrInvalidConfig)
	}
	for name := range bad {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("ApplyEnv(bad) = %q, want it to name %s", err, name)
		}
	}
}
