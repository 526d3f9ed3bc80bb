package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qcgate/qcgate/gateway"
)

func TestServeFlagsCoverSettings(t *testing.T) {
	cmd := newServeCommand()
	for _, key := range gateway.Settings() {
		f := cmd.Flags().Lookup(gateway.FlagName(key))
		if f == nil {
			t.Errorf("no flag for setting %s", key)
			continue
		}
		if _, ok := settingHelp[key]; !ok {
			t.Errorf("setting %s has no help text", key)
		}
		if !strings.Contains(f.Usage, gateway.EnvName(key)) {
			t.Errorf("flag --%s help %q does not name %s", f.Name, f.Usage, gateway.EnvName(key))
		}
	}
	if len(settingHelp) != len(gateway.Settings()) {
		t.Errorf("settingHelp has %d entries for %d settings", len(settingHelp),
			len(gateway.Settings()))
	}
}

func TestServeRefusesBadSettings(t *testing.T) {
	t.Setenv("QCGATE_UPSTREAM", "")
	t.Setenv("QCGATE_LOG_LEVEL", "loud")
	cmd := newServeCommand()
	cmd.SetArgs([]string{"--listen", "nowhere", "--max-seg-part-bytes", "lots"})
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	err := cmd.ExecuteContext(context.Background())
	if !errors.Is(err, gateway.ErrConfig) {
		t.Fatalf("serve with bad settings = %v, want ErrConfig", err)
	}
	// Every problem at once, each naming its source.
	for _, want := range []string{"flag --max-seg-part-bytes", "listen \"nowhere\"",
		"upstream: missing", "log_level \"loud\"", "no key configured"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestServeStartsAndStops(t *testing.T) {
	cfg := gateway.DefaultConfig()
	cfg.Upstream = "http://127.0.0.1:1/dicom-web"
	cfg.Listen = "127.0.0.1:0"
	cfg.Store = filepath.Join(t.TempDir(), "r.db")
	cfg.LogUIDs = true
	cfg.Auth.Disabled = true
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var logs bytes.Buffer
	if err := serve(ctx, cfg, &logs); err != nil {
		t.Fatalf("serve = %v, want nil after a stop", err)
	}
	for _, want := range []string{`"level":"WARN","msg":"unsafe configuration"`,
		`"level":"WARN","msg":"authentication disabled","setting":"auth.disabled"`,
		`"msg":"starting"`, `"msg":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %s:\n%s", want, logs.String())
		}
	}
}
