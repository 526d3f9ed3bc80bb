package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qcgate/qcgate/qc"
)

const exampleProfile = "../../docker/profiles/abdomen-ct-liver-spleen.yaml"

// TestProfileLint lints the shipped example and a profile with three
// problems, which must all be reported.
func TestProfileLint(t *testing.T) {
	data, err := os.ReadFile(exampleProfile)
	if err != nil {
		t.Fatalf("reading example: %v", err)
	}
	sum := sha256.Sum256(data)

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	err = os.WriteFile(bad, []byte("version: \"1\"\nrules:\n  nope.rule: {}\n"+
		"thresholds: {dice_min: -1}\n"), 0o600)
	if err != nil {
		t.Fatalf("writing profile: %v", err)
	}
	tests := []struct {
		name      string
		path      string
		wantCode  int
		wantOut   []string
		wantErrIn []string
	}{
		{
			name: "example", path: exampleProfile, wantCode: exitAccepted,
			wantOut: []string{"name: abdomen-ct-liver-spleen\n",
				"sha256: " + hex.EncodeToString(sum[:]) + "\n",
				"concepts: 2, requirements: 1"},
		},
		{
			name: "three problems", path: bad, wantCode: exitRejected,
			wantErrIn: []string{"invalid profile", "\n  name: empty",
				"\n  rules: \"nope.rule\": not a rule ID or family",
				"\n  thresholds: dice_min: -1"},
		},
		{name: "missing file", path: bad + ".none", wantCode: exitUsage,
			wantErrIn: []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runProfileLint(tt.path, &stdout, &stderr)
			if code != tt.wantCode {
				t.Errorf("runProfileLint() = %d, want %d; stderr:\n%s", code, tt.wantCode,
					stderr.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.wantErrIn {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}

// TestCheckWithExampleProfile runs check with the example profile on the
// real dcmqi liver SEG and its RLE copy written by pydicom, which share a
// source series: each is the other's peer. Both are rejected because the
// spleen the profile requires on CT is missing (an error by default: a
// case without a required organ is incomplete training data), and their
// livers agree exactly (the same mask in two encodings).
func TestCheckWithExampleProfile(t *testing.T) {
	code, out, errOut := runCheckTest(t, checkOptions{format: "json", profile: exampleProfile},
		filepath.Join(realDir, "dcmqi-ct-liver-binary"),
		filepath.Join(realDir, "pydicom-liver-rle"))
	if code != exitRejected {
		t.Errorf("exit code = %d, want %d; stderr:\n%s", code, exitRejected, errOut)
	}
	reps := decodeReports(t, out)
	if len(reps) != 2 {
		t.Fatalf("%d reports, want 2", len(reps))
	}
	for _, r := range reps {
		if r.Decision != qc.DecisionRejected || r.Profile.Name != "abdomen-ct-liver-spleen" {
			t.Errorf("%s: decision %s, profile %+v", r.SOPInstanceUID, r.Decision, r.Profile)
		}
		if len(r.Findings) == 0 || r.Findings[0].Rule != "completeness.required_segment" ||
			r.Findings[0].Severity != qc.SeverityError {
			t.Errorf("%s: first finding %+v, want the missing spleen", r.SOPInstanceUID,
				r.Findings)
		}
		if len(r.Agreement) != 1 || r.Agreement[0].Dice != 1 || *r.Agreement[0].HD95MM != 0 ||
			r.Agreement[0].Concept != "liver" {
			t.Errorf("%s: agreement %+v, want one exact match of the liver", r.SOPInstanceUID,
				r.Agreement)
		}
	}
}
