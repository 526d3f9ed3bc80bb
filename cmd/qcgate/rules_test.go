package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/qcgate/qcgate/qc"
)

// TestRulesTableInREADME checks that the README's rule table is the one
// "qcgate rules --format markdown" prints, so the documented IDs, severities
// and clauses are those the engine uses.
func TestRulesTableInREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatalf("reading README: %v", err)
	}
	var out bytes.Buffer
	if err := writeRules(&out, "markdown"); err != nil {
		t.Fatalf("writeRules(markdown) = %v", err)
	}
	if !bytes.Contains(readme, out.Bytes()) {
		t.Errorf("README.md lacks the rule table of `qcgate rules --format markdown`; "+
			"paste it in:\n%s", out.String())
	}
}

// TestRulesFormats checks the text and JSON forms and a bad format.
func TestRulesFormats(t *testing.T) {
	var out bytes.Buffer
	if err := writeRules(&out, "json"); err != nil {
		t.Fatalf("writeRules(json) = %v", err)
	}
	var got []qc.RuleInfo
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("decoding JSON: %v", err)
	}
	if len(got) != len(qc.Rules()) || got[0].ID != qc.Rules()[0].ID {
		t.Errorf("JSON lists %d rules starting %q, want %d starting %q", len(got),
			got[0].ID, len(qc.Rules()), qc.Rules()[0].ID)
	}

	out.Reset()
	if err := writeRules(&out, "text"); err != nil {
		t.Fatalf("writeRules(text) = %v", err)
	}
	if !strings.Contains(out.String(), "geometry.frame_of_reference") {
		t.Errorf("text output lacks geometry.frame_of_reference:\n%s", out.String())
	}

	err := writeRules(&out, "xml")
	if ee, ok := errors.AsType[*exitError](err); !ok || ee.code != exitUsage {
		t.Errorf("writeRules(xml) = %v, want a usage error", err)
	}
}
