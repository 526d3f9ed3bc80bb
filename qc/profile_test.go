package qc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseProfile(t *testing.T) {
	tests := []struct {
		name    string
		yaml    string
		want    *Profile
		wantErr string
	}{
		{
			name: "full",
			yaml: `name: liver-study
version: "2"
rules:
  segments.empty: {severity: error}
  geometry.matrix_size: {enabled: false}
  structure.transfer_syntax: {severity: warning}
  references: {enabled: true}
tolerances:
  position_fraction: 0.1
`,
			want: &Profile{
				Name: "liver-study", Version: "2",
				Rules: map[string]RuleSetting{
					"segments.empty":            {Severity: SeverityError},
					"geometry.matrix_size":      {Disabled: true},
					"references":                {Enabled: true},
					"structure.transfer_syntax": {Severity: SeverityWarning},
				},
				Tolerances: Tolerances{PositionFraction: 0.1},
			},
		},
		{
			name: "name and version only",
			yaml: "name: plain\nversion: \"1\"\n",
			want: &Profile{Name: "plain", Version: "1", Rules: map[string]RuleSetting{}},
		},
		{
			name:    "no version",
			yaml:    "name: plain\n",
			wantErr: "version: empty",
		},
		{name: "unknown key", yaml: "name: x\nrule: {}\n", wantErr: "field rule not found"},
		{
			name:    "unknown rule",
			yaml:    "name: x\nrules:\n  geometry.nope: {enabled: false}\n",
			wantErr: `"geometry.nope": not a rule ID or family`,
		},
		{
			name:    "unknown severity",
			yaml:    "name: x\nrules:\n  segments.empty: {severity: fatal}\n",
			wantErr: `severity "fatal": want error, warning or info`,
		},
		{
			name:    "every problem at once",
			yaml:    "rules:\n  a.b: {}\ntolerances:\n  orientation_cosine: -1\n",
			wantErr: "name: empty",
		},
		{name: "not YAML", yaml: "name: [", wantErr: "invalid profile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseProfile([]byte(tt.yaml))
			if tt.wantErr != "" {
				if !errors.Is(err, ErrInvalidProfile) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseProfile() error = %v, want ErrInvalidProfile with %q",
						err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseProfile() error: %v", err)
			}
			sum := sha256.Sum256([]byte(tt.yaml))
			tt.want.SHA256 = hex.EncodeToString(sum[:])
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseProfile() mismatch (-want +got):\n%s", diff)
			}
		})
	}

	_, err := ParseProfile([]byte("rules:\n  a.b: {}\ntolerances:\n  orientation_cosine: -1\n"))
	for _, part := range []string{"name: empty", `"a.b": not a rule ID`,
		"orientation_cosine: -1"} {
		if err == nil || !strings.Contains(err.Error(), part) {
			t.Errorf("ParseProfile(three faults) error = %v, want it to contain %q", err, part)
		}
	}
}

// TestProfileChangesDecision checks rule overrides on real cases.
func TestProfileChangesDecision(t *testing.T) {
	tests := []struct {
		name, caseName, yaml string
		want                 Decision
	}{
		{
			"empty segments off", "highdicom-sm-control-labelmap",
			"name: p\nversion: \"1\"\nrules:\n  segments.empty: {enabled: false}\n", DecisionAccepted,
		},
		{
			"empty segments as errors", "highdicom-sm-control-labelmap",
			"name: p\nversion: \"1\"\nrules:\n  segments.empty: {severity: error}\n", DecisionRejected,
		},
		{
			"crop as information", "pydicom-liver-nonbyte-aligned-510",
			"name: p\nversion: \"1\"\nrules:\n  geometry.matrix_size: {severity: info}\n", DecisionAccepted,
		},
		{
			"missing sources as warnings", "orthanc-tcga-gbm-brats-3seg-source-missing",
			"name: p\nversion: \"1\"\nrules:\n  references.source_missing: {severity: warning}\n",
			DecisionAcceptedWithWarnings,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := ParseProfile([]byte(tt.yaml))
			if err != nil {
				t.Fatalf("ParseProfile() error: %v", err)
			}
			data, sources := loadCase(t, tt.caseName)
			rep, err := NewEngine(p).CheckBytes(context.Background(), data, sources)
			if err != nil {
				t.Fatalf("CheckBytes() error: %v", err)
			}
			if rep.Decision != tt.want {
				t.Errorf("decision = %s, want %s; findings %+v",
					rep.Decision, tt.want, rep.Findings)
			}
			if rep.Profile != p.Info() || len(rep.Profile.SHA256) != 64 {
				t.Errorf("report profile = %+v, want %+v", rep.Profile, p.Info())
			}
		})
	}
}
