package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/qcgate/qcgate/qc/plant"
)

// TestBenchDefectsRealCases runs the command on the real cases. Every
// family finds every planted defect, and highdicom-sm-dots-50seg has true
// tile position errors (its tiles name source frames whose row and column
// are swapped), so the exit status is 1.
func TestBenchDefectsRealCases(t *testing.T) {
	if testing.Short() {
		t.Skip("checks the real cases about 100 times")
	}
	var out, errOut bytes.Buffer
	code := runBenchDefects(context.Background(), benchDefectsOptions{format: "json"},
		realDir, &out, &errOut)
	if code != exitRejected {
		t.Fatalf("runBenchDefects() = %d, want %d; stderr %s", code, exitRejected, &errOut)
	}
	var res plant.Result
	if err := json.Unmarshal(out.Bytes(), &res); err != nil {
		t.Fatalf("decoding JSON output: %v", err)
	}
	if res.Cases != 15 {
		t.Errorf("cases = %d, want 15 (the 16 real cases but the one without sources)",
			res.Cases)
	}
	for _, f := range res.Families {
		if f.Planted == 0 || f.Found != f.Planted {
			t.Errorf("family %s: found %d of %d, want all", f.Family, f.Found, f.Planted)
		}
	}
	for _, f := range res.FalseErrors {
		if f.Case != "highdicom-sm-dots-50seg" || f.Rule != "geometry.tile_position" {
			t.Errorf("error on clean case %s: %s: %s", f.Case, f.Rule, f.Message)
		}
	}

	out.Reset()
	code = runBenchDefects(context.Background(), benchDefectsOptions{format: "text"},
		realDir, &out, &errOut)
	text := out.String()
	for _, want := range []string{"family        planted  found  recall",
		"overlap       2        2      1.00", "agreement     7        7      1.00"} {
		if code != exitRejected || !strings.Contains(text, want) {
			t.Errorf("text output (exit %d) lacks %q:\n%s", code, want, text)
		}
	}
}

// TestBenchDefectsUsage checks the usage errors.
func TestBenchDefectsUsage(t *testing.T) {
	tests := []struct {
		name string
		opts benchDefectsOptions
		dir  string
	}{
		{"bad format", benchDefectsOptions{format: "xml"}, realDir},
		{"missing profile", benchDefectsOptions{format: "text", profile: "nope.yaml"},
			realDir},
		{"no cases", benchDefectsOptions{format: "text"}, t.TempDir()},
		{"no folder", benchDefectsOptions{format: "text"}, "does-not-exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := runBenchDefects(context.Background(), tt.opts, tt.dir, &out, &errOut)
			if code != exitUsage || errOut.Len() == 0 {
				t.Errorf("runBenchDefects(%s) = %d, stderr %q; want %d and a message",
					tt.name, code, errOut.String(), exitUsage)
			}
		})
	}
}
