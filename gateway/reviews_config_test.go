package gateway

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestReviewConfig(t *testing.T) {
	seedFile := filepath.Join(t.TempDir(), "seed")
	if err := os.WriteFile(seedFile, []byte("s3cret-seed\n"), 0o600); err != nil {
		t.Fatalf("writing seed: %v", err)
	}
	base := map[string]string{"upstream": "http://127.0.0.1:8042/dicom-web",
		"auth_disabled": "true"}
	tests := []struct {
		name    string
		env     []string
		flags   map[string]string
		want    ReviewConfig
		wantErr string
	}{
		{name: "defaults", want: ReviewConfig{}},
		{
			name: "environment and seed file",
			env: []string{"QCGATE_REVIEW_ENABLED=true", "QCGATE_REVIEW_AUDIT_SHARE=0.25",
				"QCGATE_REVIEW_AUDIT_RECALL_WINDOW=168h",
				"QCGATE_REVIEW_STORE=postgres://qc@db/qc"},
			flags: map[string]string{"review_audit_seed_file": seedFile},
			want: ReviewConfig{Enabled: true, AuditShare: 0.25, AuditSeed: "s3cret-seed",
				AuditSeedFile: seedFile, AuditRecallWindow: 168 * time.Hour,
				Store: "postgres://qc@db/qc"},
		},
		{
			name:  "seed from the environment",
			env:   []string{"QCGATE_REVIEW_AUDIT_SEED=abc"},
			flags: map[string]string{"review_audit_share": "0.5"},
			want:  ReviewConfig{AuditShare: 0.5, AuditSeed: "abc"},
		},
		{
			name:    "share without a seed",
			flags:   map[string]string{"review_audit_share": "0.5"},
			wantErr: "needs a seed",
		},
		{
			name:    "share over 1",
			flags:   map[string]string{"review_audit_share": "1.5"},
			wantErr: "must be from 0 to 1",
		},
		{
			name:    "seed twice",
			env:     []string{"QCGATE_REVIEW_AUDIT_SEED=abc"},
			flags:   map[string]string{"review_audit_seed_file": seedFile},
			wantErr: "both set",
		},
		{
			name: "self review with authentication on",
			flags: map[string]string{"review_allow_self_review": "true",
				"auth_disabled": "false", "auth_hs256_secret_file": seedFile},
			wantErr: "review.allow_self_review",
		},
		{
			name:    "unknown review variable",
			env:     []string{"QCGATE_REVIEW_AUDIT_SHAR=0.5"},
			wantErr: "QCGATE_REVIEW_AUDIT_SHAR",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			flags := map[string]string{}
			for k, v := range base {
				flags[k] = v
			}
			for k, v := range tt.flags {
				flags[k] = v
			}
			cfg, err := LoadConfig(LoadOptions{Env: tt.env, Flags: flags})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) ||
					!errors.Is(err, ErrConfig) {
					t.Fatalf("LoadConfig = %v, want an ErrConfig with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadConfig = %v", err)
			}
			if diff := cmp.Diff(tt.want, cfg.Review); diff != "" {
				t.Errorf("LoadConfig review section (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReviewSeedRedacted(t *testing.T) {
	cfg, err := LoadConfig(LoadOptions{
		Env: []string{"QCGATE_REVIEW_AUDIT_SEED=do-not-print-me"},
		Flags: map[string]string{"upstream": "http://127.0.0.1:8042/dicom-web",
			"auth_disabled": "true", "review_audit_share": "0.1"}})
	if err != nil {
		t.Fatalf("LoadConfig = %v", err)
	}
	for _, out := range []string{cfg.String(), fmt.Sprintf("%+v %#v", cfg, cfg.Review),
		fmt.Sprint(cfg.LogValue())} {
		if strings.Contains(out, "do-not-print-me") {
			t.Errorf("the audit seed is printed: %s", out)
		}
	}
}

func TestIncludeRejectedQuery(t *testing.T) {
	tests := []struct {
		raw       string
		wantAsk   bool
		wantStrip string
	}{
		{"", false, ""},
		{"Modality=SEG", false, "Modality=SEG"},
		{"Modality=SEG&includerejected=true", true, "Modality=SEG"},
		{"includeRejected=1&includefield=00081030%2C00080060", true,
			"includefield=00081030%2C00080060"},
		{"includerejected=false&limit=5", false, "limit=5"},
		{"include%72ejected=true&limit=5", true, "limit=5"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			if got := asksIncludeRejected(tt.raw); got != tt.wantAsk {
				t.Errorf("asksIncludeRejected(%q) = %v, want %v", tt.raw, got, tt.wantAsk)
			}
			if got := stripIncludeRejected(tt.raw); got != tt.wantStrip {
				t.Errorf("stripIncludeRejected(%q) = %q, want %q", tt.raw, got, tt.wantStrip)
			}
		})
	}
}
