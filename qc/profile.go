package qc

// Profile is a project's QC guideline: which rules run and how severe their
// findings are.
type Profile struct {
	Name    string
	Version string
	// SHA256 is the hex digest of the profile file, empty for the built-in
	// default.
	SHA256 string
}

// DefaultProfile returns the built-in profile: every core rule on, with its
// default severity.
func DefaultProfile() *Profile {
	return &Profile{Name: "default", Version: "1"}
}
