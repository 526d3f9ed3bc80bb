package gateway

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exampleConfig is the documented example configuration of the repository.
const exampleConfig = "../docker/qcgate.example.yaml"

func TestExampleConfig(t *testing.T) {
	// The example loads, and its values are the defaults (plus the upstream
	// it must name), so it documents them truthfully.
	cfg, err := LoadConfig(LoadOptions{File: exampleConfig})
	if err != nil {
		t.Fatalf("LoadConfig(example) = %v", err)
	}
	want := defaultsWithUpstream()
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("example differs from the defaults (-want +got):\n%s", diff)
	}

	// Every setting is documented: its key appears, with a comment above.
	text, err := os.ReadFile(exampleConfig)
	if err != nil {
		t.Fatalf("reading example: %v", err)
	}
	for _, key := range Settings() {
		// Keys of the auth and review sections are indented under "auth:"
		// and "review:".
		indent := ""
		if k, ok := strings.CutPrefix(key, "auth_"); ok {
			indent, key = "  ", k
		} else if k, ok := strings.CutPrefix(key, reviewPrefix); ok {
			indent, key = "  ", k
		}
		re := regexp.MustCompile(`(?m)^` + indent + `# .*\n(` + indent + `#.*\n)*` +
			indent + `#? ?` + key + `:`)
		if !re.Match(text) {
			t.Errorf("example config does not document %s", key)
		}
	}
	if !strings.Contains(string(text), "QCGATE_UPSTREAM_PASSWORD") {
		t.Errorf("example config does not say where the password comes from")
	}
}
