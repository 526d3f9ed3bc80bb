package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// writeFile writes content to name in a temporary folder and returns its
// path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatalf("writing %s: %v", p, err)
	}
	return p
}

func TestLoadConfigPrecedence(t *testing.T) {
	file := writeFile(t, "c.yaml", `
listen: 127.0.0.1:9000
upstream: http://file.example:8042/dicom-web
upstream_user: fileuser
store: /var/lib/qcgate/file.db
max_seg_part_bytes: 64MiB
upstream_timeout: 45s
log_uids: true
`)
	cfg, err := LoadConfig(LoadOptions{
		File: file,
		Env: []string{
			"QCGATE_LISTEN=127.0.0.1:9100",
			"QCGATE_STORE=/tmp/env.db",
			"QCGATE_UPSTREAM_PASSWORD=s3cret",
			"QCGATE_AUTH_HS256_SECRET_FILE=/run/secrets/env-jwt",
			"QCGATE_AUTH_LEEWAY=10s",
			"HOME=/root",
		},
		Flags: map[string]string{"listen": "127.0.0.1:9200", "max_request_bytes": "1GB",
			"auth_leeway": "20s", "rate_limit": "2.5"},
	})
	if err != nil {
		t.Fatalf("LoadConfig = %v", err)
	}

	want := DefaultConfig()
	want.Listen = "127.0.0.1:9200"                       // flag beats env and file
	want.Upstream = "http://file.example:8042/dicom-web" // file only
	want.UpstreamUser = "fileuser"
	want.UpstreamPassword = "s3cret"
	want.Store = "/tmp/env.db" // env beats file
	want.MaxSEGPartBytes = 64 * MiB
	want.MaxRequestBytes = 1000 * 1000 * 1000
	want.UpstreamTimeout = 45 * time.Second
	want.LogUIDs = true
	want.Auth.HS256SecretFile = "/run/secrets/env-jwt"
	want.Auth.Leeway = 20 * time.Second // flag beats env
	want.RateLimit = 2.5
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("LoadConfig mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadConfigPasswordFile(t *testing.T) {
	pw := writeFile(t, "pw", "from-file\n")
	cfg, err := LoadConfig(LoadOptions{Env: []string{
		"QCGATE_UPSTREAM=http://127.0.0.1:8042/dicom-web",
		"QCGATE_UPSTREAM_USER=u",
		"QCGATE_UPSTREAM_PASSWORD_FILE=" + pw,
		"QCGATE_AUTH_DISABLED=true",
	}})
	if err != nil {
		t.Fatalf("LoadConfig = %v", err)
	}
	if cfg.UpstreamPassword != "from-file" {
		t.Errorf("UpstreamPassword = %q, want from-file", string(cfg.UpstreamPassword))
	}

	_, err = LoadConfig(LoadOptions{Env: []string{
		"QCGATE_UPSTREAM=http://127.0.0.1:8042/dicom-web",
		"QCGATE_UPSTREAM_USER=u",
		"QCGATE_UPSTREAM_PASSWORD=x",
		"QCGATE_UPSTREAM_PASSWORD_FILE=" + pw,
	}})
	if err == nil || !strings.Contains(err.Error(), "both set") {
		t.Errorf("LoadConfig with password and file = %v, want a 'both set' error", err)
	}
}

func TestLoadConfigEnvNames(t *testing.T) {
	base := []string{"QCGATE_UPSTREAM=http://127.0.0.1:8042/dicom-web",
		"QCGATE_AUTH_HS256_SECRET_FILE=/run/secrets/jwt"}
	tests := []struct {
		name    string
		env     string
		wantErr string
	}{
		{"other component", "QCGATE_TEST_ORTHANC=/usr/sbin/Orthanc", ""},
		{"auth section", "QCGATE_AUTH_LEEWAY=1m", ""},
		{"auth name unknown", "QCGATE_AUTH_SECRET=x", "QCGATE_AUTH_SECRET: unknown setting"},
		{"auth value bad", "QCGATE_AUTH_LEEWAY=soon", "QCGATE_AUTH_LEEWAY"},
		{"auth audience without issuer is fine", "QCGATE_AUTH_AUDIENCE=qcgate", ""},
		{"auth issuer needs audience", "QCGATE_AUTH_ISSUER=https://idp.example",
			"auth.audience: required"},
		{"typo", "QCGATE_LISTN=127.0.0.1:9", "did you mean QCGATE_LISTEN?"},
		{"typo of the password", "QCGATE_UPSTREAM_PASWORD=x",
			"did you mean QCGATE_UPSTREAM_PASSWORD?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(LoadOptions{Env: append(base, tt.env)})
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("LoadConfig(%s) = %v, want nil", tt.env, err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("LoadConfig(%s) = %v, want an error with %q", tt.env, err, tt.wantErr)
			}
		})
	}
}

func TestLoadConfigStrict(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		wantSub string
	}{
		{"unknown key", "upstream: http://h/dicom-web\nlisten_port: 80\n", "listen_port"},
		{"password in file", "upstream: http://h/dicom-web\nupstream_password: x\n",
			"upstream_password"},
		{"bad size", "upstream: http://h/dicom-web\nmax_seg_part_bytes: lots\n", "lots"},
		{"bad duration", "upstream: http://h/dicom-web\nupstream_timeout: soon\n", "soon"},
		{"unknown auth key", "upstream: http://h/dicom-web\nauth:\n  secret: x\n",
			"field secret not found"},
		{"no auth key", "upstream: http://h/dicom-web\n", "no key configured"},
		{"auth disabled off", "upstream: http://h/dicom-web\nauth:\n  disabled: false\n",
			"no key configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadConfig(LoadOptions{File: writeFile(t, "c.yaml", tt.yaml)})
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.wantSub) {
				t.Errorf("LoadConfig = %v, want ErrConfig naming %q", err, tt.wantSub)
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := DefaultConfig()
	c.Listen = "nowhere"
	c.Upstream = "ftp://h/x"
	c.UpstreamKind = "pacs"
	c.PublicURL = "https://gw.example/?q=1"
	c.UpstreamTimeout = 0
	c.MaxSEGPartBytes = 0
	c.MaxRequestBytes = -1
	c.LogLevel = "loud"
	c.MetadataCacheSize = -3
	c.Store = ""
	c.UpstreamPassword = "p"
	c.RateLimit = -1
	c.MaxHeaderBytes = 10
	before := fmt.Sprintf("%#v", *c)

	err := c.Validate()
	if err == nil {
		t.Fatalf("Validate = nil, want errors")
	}
	for _, key := range []string{"listen", "upstream ", "upstream_kind", "public_url",
		"upstream_timeout", "max_seg_part_bytes", "max_request_bytes", "log_level",
		"metadata_cache_size", "store", "upstream_user", "rate_limit", "max_header_bytes",
		"no key configured"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("Validate() = %q, want it to name %s", err, key)
		}
	}
	if after := fmt.Sprintf("%#v", *c); after != before {
		t.Errorf("Validate changed the config:\n%s\n%s", before, after)
	}
	if err := defaultsWithUpstream().Validate(); err != nil {
		t.Errorf("Validate(defaults) = %v, want nil", err)
	}
}

// defaultsWithUpstream returns the defaults plus the one required setting.
func defaultsWithUpstream() *Config {
	c := DefaultConfig()
	c.Upstream = "http://127.0.0.1:8042/dicom-web"
	c.Auth.HS256SecretFile = "/run/secrets/qcgate-jwt"
	return c
}

func TestSecretRedacted(t *testing.T) {
	c := defaultsWithUpstream()
	c.UpstreamUser = "orthanc"
	c.UpstreamPassword = "hunter2-very-secret"

	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "config", c)
	outputs := map[string]string{
		"String":  c.String(),
		"%v":      fmt.Sprintf("%v", c),
		"%+v":     fmt.Sprintf("%+v", *c),
		"%#v":     fmt.Sprintf("%#v", *c),
		"slog":    buf.String(),
		"field %": fmt.Sprint(c.UpstreamPassword),
	}
	for name, out := range outputs {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s output holds the password: %s", name, out)
		}
	}
	if !strings.Contains(buf.String(), `"upstream_password":"[redacted]"`) {
		t.Errorf("slog output = %s, want the password shown as [redacted]", buf.String())
	}
	if !strings.Contains(buf.String(), `"upstream_user":"orthanc"`) {
		t.Errorf("slog output = %s, want the user", buf.String())
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{"1024", 1024, false},
		{"64KiB", 64 << 10, false},
		{"512MiB", 512 << 20, false},
		{"2 GiB", 2 << 30, false},
		{"1GB", 1e9, false},
		{"10kb", 10000, false},
		{"0", 0, false},
		{"", 0, true},
		{"MiB", 0, true},
		{"1.5GiB", 0, true},
		{"-1", 0, true},
		{"12 parsecs", 0, true},
		{"99999999999999999999", 0, true},
		{"9999999999GiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseByteSize(tt.in)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("ParseByteSize(%q) = %d, %v, want %d, error %v",
					tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSetCoversEverySetting(t *testing.T) {
	samples := map[string]string{}
	for _, k := range Settings() {
		samples[k] = "1"
	}
	c := DefaultConfig()
	for k := range samples {
		// "1" parses as every type: string, bool, int, size; durations
		// need a unit.
		v := "1"
		if strings.HasSuffix(k, "timeout") || strings.HasSuffix(k, "ttl") ||
			strings.HasSuffix(k, "interval") || strings.HasSuffix(k, "window") ||
			strings.HasSuffix(k, "wait") ||
			k == "auth_leeway" {
			v = "1s"
		}
		if err := c.Set(k, v); err != nil {
			t.Errorf("Set(%s, %s) = %v", k, v, err)
		}
	}
	if err := c.Set("nope", "1"); !errors.Is(err, ErrUnknownSetting) {
		t.Errorf("Set(nope) = %v, want ErrUnknownSetting", err)
	}
	if !strings.Contains(strings.Join(Settings(), " "), "max_seg_part_bytes") {
		t.Errorf("Settings() = %v, want max_seg_part_bytes among them", Settings())
	}
}

func TestTaggingEnabled(t *testing.T) {
	off, on := false, true
	tests := []struct {
		name string
		kind string
		flag *bool
		want bool
	}{
		{"orthanc default", UpstreamOrthanc, nil, true},
		{"dicomweb default", UpstreamDICOMweb, nil, false},
		{"orthanc off", UpstreamOrthanc, &off, false},
		{"orthanc on", UpstreamOrthanc, &on, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultsWithUpstream()
			c.UpstreamKind, c.OrthancTagging = tt.kind, tt.flag
			if got := c.TaggingEnabled(); got != tt.want {
				t.Errorf("TaggingEnabled() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWarnings(t *testing.T) {
	c := defaultsWithUpstream()
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Warnings(defaults) = %q, want none", w)
	}
	c.Listen = "0.0.0.0:8080"
	c.Upstream = "http://pacs.example:8042/dicom-web"
	c.UpstreamUser, c.UpstreamPassword = "u", "p"
	c.LogUIDs = true
	c.Auth.Disabled = true
	w := c.Warnings()
	if len(w) != 3 || !strings.Contains(w[0], "authentication is disabled") {
		t.Errorf("Warnings() = %q, want 3, the first about authentication", w)
	}
}
