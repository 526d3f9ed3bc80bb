package plant

import (
	_ "embed"

	"github.com/qcgate/qcgate/qc"
)

// benchProfile is the benchmark profile; its comments say why each
// threshold has its value.
//
//go:embed testdata/bench-profile.yaml
var benchProfile []byte

// BenchProfile returns the benchmark profile (testdata/bench-profile.yaml):
// every rule family on, a vocabulary of the real cases' concepts, and
// thresholds that suit their small sizes.
func BenchProfile() (*qc.Profile, error) { return qc.ParseProfile(benchProfile) }
