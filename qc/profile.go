package qc

import "strings"

// Profile is a project's QC guideline: which rules run, how severe their
// findings are, the tolerances of the geometry rules, the label vocabulary,
// the segments each kind of source needs, and the thresholds of the
// boundary, plausibility and agreement rules. The zero value of every field
// means the built-in default. A Profile is read-only once loaded and safe
// for concurrent use.
type Profile struct {
	Name    string
	Version string
	// Description is free text for people; qc does not use it.
	Description string
	// SHA256 is the hex digest of the profile file, empty for the built-in
	// default.
	SHA256 string
	// Rules overrides rules by ID (see [Rules]) or by family, the part of
	// the ID before its first dot ("boundary" covers "boundary.islands"); an
	// ID entry wins over its family's. A rule not listed runs with its
	// default severity, except optional rules ([RuleInfo.Optional]), which
	// run only when enabled.
	Rules map[string]RuleSetting
	// Tolerances are the geometry tolerances; zero fields take the defaults.
	Tolerances Tolerances
	// Selection says which SEGs a [ProfileSet] gives this profile.
	Selection Selection
	// Vocabulary lists the segments the project allows, by coded concept;
	// empty means any code is allowed and the label rules have nothing to
	// check against.
	Vocabulary []Concept
	// Requirements list the concepts each kind of source must have.
	Requirements []Requirement
	// Thresholds are the limits of the boundary, overlap and agreement
	// rules.
	Thresholds Thresholds
}

// RuleSetting overrides one rule, or one family of rules, in a profile.
type RuleSetting struct {
	// Disabled turns the rule off: it runs no more and its findings,
	// decoder findings included, are dropped.
	Disabled bool
	// Enabled turns an optional rule on; core rules are on unless Disabled.
	Enabled bool
	// Severity replaces the rule's default severity; empty keeps it.
	Severity Severity
}

// Tolerances say how far geometry may differ and still count as equal.
type Tolerances struct {
	// OrientationCosine is the largest difference between two matching
	// direction cosines of Image Orientation (Patient). Default 1e-3, a
	// rotation of about 0.06 degrees.
	OrientationCosine float64
	// PixelSpacingRelative is the largest relative difference between two
	// Pixel Spacing values. Default 1e-3.
	PixelSpacingRelative float64
	// PositionFraction is the largest distance of a frame from where it
	// should be, as a fraction of the spacing concerned: of the pixel
	// spacing within the plane (a frame's origin on a source pixel) and of
	// the slice spacing along the normal (a frame on a source slice plane).
	// Default 0.05. Being relative, it holds for slide microscopy pixels of
	// half a micrometre as for CT slices of 5 mm, and it is far above the
	// rounding of positions written as Decimal Strings.
	PositionFraction float64
}

// Default tolerances; see [Tolerances].
const (
	DefaultOrientationCosine    = 1e-3
	DefaultPixelSpacingRelative = 1e-3
	DefaultPositionFraction     = 0.05
)

// withDefaults returns t with its zero fields set to the defaults.
func (t Tolerances) withDefaults() Tolerances {
	if t.OrientationCosine <= 0 {
		t.OrientationCosine = DefaultOrientationCosine
	}
	if t.PixelSpacingRelative <= 0 {
		t.PixelSpacingRelative = DefaultPixelSpacingRelative
	}
	if t.PositionFraction <= 0 {
		t.PositionFraction = DefaultPositionFraction
	}
	return t
}

// Overlap policies of [Thresholds.SegmentsOverlap].
const (
	// OverlapAsDeclared forbids overlap only where the SEG's Segments
	// Overlap (0062,0013) is NO. It is the default.
	OverlapAsDeclared = "as_declared"
	// OverlapForbidden forbids overlap between any two segments whatever
	// the SEG declares.
	OverlapForbidden = "forbidden"
)

// Thresholds are the limits of the boundary, overlap, plausibility and
// agreement rules. A zero field takes the default of its comment.
type Thresholds struct {
	// IslandMM3 is the volume in mm3 under which a connected component
	// that is not its segment's largest counts as an island. Default 10.
	IslandMM3 float64
	// HoleMM3 is the volume in mm3 from which an enclosed hole is
	// reported. Default 0: every hole.
	HoleMM3 float64
	// MaxComponents is the number of 3D connected components a segment
	// may have when its concept sets none. Default 0: no limit.
	MaxComponents int
	// AirHU is the value in Hounsfield units under which a CT voxel counts
	// as air. Default -900.
	AirHU float64
	// AirShareMax is the largest share (0 to 1) of a segment's voxels that
	// may lie on air. Default 0.05.
	AirShareMax float64
	// SegmentsOverlap is [OverlapAsDeclared] (default) or
	// [OverlapForbidden].
	SegmentsOverlap string
	// DiceMin is the lowest Dice coefficient between two annotators'
	// segments of one concept. Default 0.8.
	DiceMin float64
	// HD95MaxMM is the largest HD95 in mm between two annotators'
	// segments of one concept. Default 10.
	HD95MaxMM float64
	// NSDToleranceMM is the tolerance in mm of the normalized surface
	// Dice. Default 2.
	NSDToleranceMM float64
}

// withDefaults returns t with its zero fields set to the defaults.
func (t Thresholds) withDefaults() Thresholds {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&t.IslandMM3, 10)
	def(&t.AirHU, -900)
	def(&t.AirShareMax, 0.05)
	def(&t.DiceMin, 0.8)
	def(&t.HD95MaxMM, 10)
	def(&t.NSDToleranceMM, 2)
	if t.SegmentsOverlap == "" {
		t.SegmentsOverlap = OverlapAsDeclared
	}
	return t
}

// DefaultProfile returns the built-in profile: every core rule on, with its
// default severity, optional rules off, and the default tolerances.
func DefaultProfile() *Profile {
	return &Profile{Name: "default", Version: "1"}
}

// Info returns the identification of p for a report.
func (p *Profile) Info() ProfileInfo {
	return ProfileInfo{Name: p.Name, Version: p.Version, SHA256: p.SHA256}
}

// setting returns the setting of a rule: its own entry, else its family's.
func (p *Profile) setting(id string) (RuleSetting, bool) {
	if s, ok := p.Rules[id]; ok {
		return s, true
	}
	if fam, _, ok := strings.Cut(id, "."); ok {
		s, ok := p.Rules[fam]
		return s, ok
	}
	return RuleSetting{}, false
}

// enabled reports whether the rule with that ID runs.
func (p *Profile) enabled(id string) bool {
	s, ok := p.setting(id)
	if ok && s.Disabled {
		return false
	}
	if info, known := ruleInfo(id); known && info.Optional {
		return ok && s.Enabled
	}
	return true
}

// severity returns the severity of the rule's findings under p.
func (p *Profile) severity(id string, def Severity) Severity {
	if s, _ := p.setting(id); s.Severity != "" {
		return s.Severity
	}
	return def
}

// RuleEnabled reports whether the rule with that ID runs under p, so a
// caller can skip gathering what only that rule needs (peers, pixels).
func (p *Profile) RuleEnabled(id string) bool { return p.enabled(id) }
