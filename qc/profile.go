package qc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"
)

// Profile is a project's QC guideline: which rules run, how severe their
// findings are, and the tolerances of the geometry rules. The zero value of
// every field means the built-in default.
type Profile struct {
	Name    string
	Version string
	// SHA256 is the hex digest of the profile file, empty for the built-in
	// default.
	SHA256 string
	// Rules overrides rules by ID (see [Rules]); a rule not listed runs with
	// its default severity.
	Rules map[string]RuleSetting
	// Tolerances are the geometry tolerances; zero fields take the defaults.
	Tolerances Tolerances
}

// RuleSetting overrides one rule in a profile.
type RuleSetting struct {
	// Disabled turns the rule off: it runs no more and its findings,
	// decoder findings included, are dropped.
	Disabled bool
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

// DefaultProfile returns the built-in profile: every core rule on, with its
// default severity, and the default tolerances.
func DefaultProfile() *Profile {
	return &Profile{Name: "default", Version: "1"}
}

// Info returns the identification of p for a report.
func (p *Profile) Info() ProfileInfo {
	return ProfileInfo{Name: p.Name, Version: p.Version, SHA256: p.SHA256}
}

// enabled reports whether the rule with that ID runs.
func (p *Profile) enabled(id string) bool {
	return !p.Rules[id].Disabled
}

// severity returns the severity of the rule's findings under p.
func (p *Profile) severity(id string, def Severity) Severity {
	if s := p.Rules[id].Severity; s != "" {
		return s
	}
	return def
}

// profileFile is the YAML form of a profile:
//
//	name: liver-study
//	version: "2"
//	rules:
//	  segments.empty: {severity: error}
//	  geometry.matrix_size: {enabled: false}
//	tolerances:
//	  position_fraction: 0.1
type profileFile struct {
	Name       string                     `yaml:"name"`
	Version    string                     `yaml:"version"`
	Rules      map[string]ruleSettingFile `yaml:"rules"`
	Tolerances struct {
		OrientationCosine    float64 `yaml:"orientation_cosine"`
		PixelSpacingRelative float64 `yaml:"pixel_spacing_relative"`
		PositionFraction     float64 `yaml:"position_fraction"`
	} `yaml:"tolerances"`
}

// ruleSettingFile is the YAML form of a [RuleSetting].
type ruleSettingFile struct {
	Enabled  *bool    `yaml:"enabled"`
	Severity Severity `yaml:"severity"`
}

// LoadProfile reads a YAML profile file; see [ParseProfile].
func LoadProfile(path string) (*Profile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading profile: %w", err)
	}
	return ParseProfile(data)
}

// ParseProfile decodes a YAML profile strictly: unknown keys, unknown rule
// IDs, unknown severities and negative tolerances are errors wrapping
// [ErrInvalidProfile], all reported at once. The profile's SHA256 is the
// digest of data.
func ParseProfile(data []byte) (*Profile, error) {
	var pf profileFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&pf); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProfile, err)
	}

	var errs []error
	if pf.Name == "" {
		errs = append(errs, errors.New("name: empty: a profile needs a name"))
	}
	p := &Profile{
		Name:    pf.Name,
		Version: pf.Version,
		Rules:   make(map[string]RuleSetting, len(pf.Rules)),
		Tolerances: Tolerances{
			OrientationCosine:    pf.Tolerances.OrientationCosine,
			PixelSpacingRelative: pf.Tolerances.PixelSpacingRelative,
			PositionFraction:     pf.Tolerances.PositionFraction,
		},
	}
	for id, rs := range pf.Rules {
		if _, ok := ruleInfo(id); !ok {
			errs = append(errs, fmt.Errorf("rules: %q: not a rule ID", id))
			continue
		}
		switch rs.Severity {
		case "", SeverityError, SeverityWarning, SeverityInfo:
		default:
			errs = append(errs, fmt.Errorf("rules: %q: severity %q: want error, warning or info",
				id, rs.Severity))
		}
		p.Rules[id] = RuleSetting{
			Disabled: rs.Enabled != nil && !*rs.Enabled,
			Severity: rs.Severity,
		}
	}
	tols := []struct {
		key string
		v   float64
	}{
		{"orientation_cosine", p.Tolerances.OrientationCosine},
		{"pixel_spacing_relative", p.Tolerances.PixelSpacingRelative},
		{"position_fraction", p.Tolerances.PositionFraction},
	}
	for _, t := range tols {
		if t.v < 0 || t.v >= 1 {
			errs = append(errs, fmt.Errorf("tolerances: %s: %v: want at least 0 and below 1",
				t.key, t.v))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProfile, errors.Join(errs...))
	}

	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	return p, nil
}
