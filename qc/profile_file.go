package qc

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// profileFile is the YAML form of a profile. docker/profiles holds a
// documented example; in short:
//
//	name: liver-study
//	version: "2"
//	selection: {clinical_trial_protocol_ids: [LIV-01], projects: [liver]}
//	vocabulary:
//	  - id: liver
//	    category: {scheme: SCT, code: "123037004", meaning: Anatomical Structure}
//	    type: {scheme: SCT, code: "10200004", meaning: Liver}
//	    labels: [Liver]
//	    volume_ml: {min: 800, max: 3000}
//	required:
//	  - when: {modality: [CT]}
//	    segments: [liver]
//	thresholds: {island_mm3: 100, dice_min: 0.85}
//	rules:
//	  segments.empty: {severity: error}
//	  boundary: {enabled: true}
//	tolerances:
//	  position_fraction: 0.1
type profileFile struct {
	Name        string                     `yaml:"name"`
	Version     string                     `yaml:"version"`
	Description string                     `yaml:"description"`
	Selection   selectionFile              `yaml:"selection"`
	Vocabulary  []conceptFile              `yaml:"vocabulary"`
	Required    []requirementFile          `yaml:"required"`
	Thresholds  thresholdsFile             `yaml:"thresholds"`
	Rules       map[string]ruleSettingFile `yaml:"rules"`
	Tolerances  struct {
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

// selectionFile is the YAML form of a [Selection].
type selectionFile struct {
	ClinicalTrialProtocolIDs []string `yaml:"clinical_trial_protocol_ids"`
	Projects                 []string `yaml:"projects"`
}

// codeFile is the YAML form of a [CodedConcept].
type codeFile struct {
	Scheme  string `yaml:"scheme"`
	Code    string `yaml:"code"`
	Meaning string `yaml:"meaning"`
}

// codingFile is the YAML form of a [Coding].
type codingFile struct {
	Category *codeFile `yaml:"category"`
	Type     *codeFile `yaml:"type"`
}

// rangeFile is the YAML form of a [Range].
type rangeFile struct {
	Min *float64 `yaml:"min"`
	Max *float64 `yaml:"max"`
}

// conceptFile is the YAML form of a [Concept].
type conceptFile struct {
	ID             string       `yaml:"id"`
	Category       *codeFile    `yaml:"category"`
	Type           *codeFile    `yaml:"type"`
	Modifier       *codeFile    `yaml:"modifier"`
	AnatomicRegion *codeFile    `yaml:"anatomic_region"`
	AlsoCodedAs    []codingFile `yaml:"also_coded_as"`
	Labels         []string     `yaml:"labels"`
	DisplayRGB     []int        `yaml:"display_rgb"`
	VolumeML       *rangeFile   `yaml:"volume_ml"`
	MaxComponents  int          `yaml:"max_components"`
}

// requirementFile is the YAML form of a [Requirement].
type requirementFile struct {
	When struct {
		Modality         []string `yaml:"modality"`
		BodyPartExamined []string `yaml:"body_part_examined"`
	} `yaml:"when"`
	Segments []string `yaml:"segments"`
}

// thresholdsFile is the YAML form of [Thresholds].
type thresholdsFile struct {
	IslandMM3       float64 `yaml:"island_mm3"`
	HoleMM3         float64 `yaml:"hole_mm3"`
	MaxComponents   int     `yaml:"max_components"`
	AirHU           float64 `yaml:"air_hu"`
	AirShareMax     float64 `yaml:"air_share_max"`
	SegmentsOverlap string  `yaml:"segments_overlap"`
	DiceMin         float64 `yaml:"dice_min"`
	HD95MaxMM       float64 `yaml:"hd95_max_mm"`
	NSDToleranceMM  float64 `yaml:"nsd_tolerance_mm"`
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
// IDs or families, unknown severities, incomplete codes, duplicate concept
// IDs, requirements naming no concept of the vocabulary and values out of
// range are errors wrapping [ErrInvalidProfile], all reported at once, one
// per line. The profile's SHA256 is the digest of data.
func ParseProfile(data []byte) (*Profile, error) {
	var pf profileFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&pf); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProfile, err)
	}

	v := &validator{}
	p := &Profile{
		Name:        pf.Name,
		Version:     pf.Version,
		Description: pf.Description,
		Rules:       v.rules(pf.Rules),
		Tolerances: Tolerances{
			OrientationCosine:    pf.Tolerances.OrientationCosine,
			PixelSpacingRelative: pf.Tolerances.PixelSpacingRelative,
			PositionFraction:     pf.Tolerances.PositionFraction,
		},
		Selection: Selection{
			ClinicalTrialProtocolIDs: pf.Selection.ClinicalTrialProtocolIDs,
			Projects:                 pf.Selection.Projects,
		},
		Thresholds: v.thresholds(pf.Thresholds),
	}
	if pf.Name == "" {
		v.addf("name: empty: a profile needs a name")
	}
	if pf.Version == "" {
		v.addf("version: empty: a profile needs a version, so reports say which one was used")
	}
	v.tolerances(p.Tolerances)
	p.Vocabulary = v.vocabulary(pf.Vocabulary)
	p.Requirements = v.requirements(pf.Required, p)
	for _, name := range p.Selection.Projects {
		if !validProjectName(name) {
			v.addf("selection: projects: %q: want letters, digits, '.', '_' or '-'", name)
		}
	}
	if len(v.errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidProfile, errors.Join(v.errs...))
	}

	sum := sha256.Sum256(data)
	p.SHA256 = hex.EncodeToString(sum[:])
	return p, nil
}

// validator collects every problem of a profile file.
type validator struct {
	errs []error
}

func (v *validator) addf(format string, args ...any) {
	v.errs = append(v.errs, fmt.Errorf(format, args...))
}

// rules checks the rule settings: IDs or families, severities.
func (v *validator) rules(in map[string]ruleSettingFile) map[string]RuleSetting {
	out := make(map[string]RuleSetting, len(in))
	for id, rs := range in {
		if _, ok := ruleInfo(id); !ok && !isRuleFamily(id) {
			v.addf("rules: %q: not a rule ID or family", id)
			continue
		}
		switch rs.Severity {
		case "", SeverityError, SeverityWarning, SeverityInfo:
		default:
			v.addf("rules: %q: severity %q: want error, warning or info", id, rs.Severity)
		}
		out[id] = RuleSetting{
			Disabled: rs.Enabled != nil && !*rs.Enabled,
			Enabled:  rs.Enabled != nil && *rs.Enabled,
			Severity: rs.Severity,
		}
	}
	return out
}

// isRuleFamily reports whether name is the family of some rule.
func isRuleFamily(name string) bool {
	for _, r := range Rules() {
		if fam, _, _ := strings.Cut(r.ID, "."); fam == name {
			return true
		}
	}
	return false
}

// tolerances checks that every tolerance lies in [0, 1).
func (v *validator) tolerances(t Tolerances) {
	tols := []struct {
		key string
		x   float64
	}{
		{"orientation_cosine", t.OrientationCosine},
		{"pixel_spacing_relative", t.PixelSpacingRelative},
		{"position_fraction", t.PositionFraction},
	}
	for _, tol := range tols {
		if tol.x < 0 || tol.x >= 1 {
			v.addf("tolerances: %s: %v: want at least 0 and below 1", tol.key, tol.x)
		}
	}
}

// thresholds checks the thresholds' ranges.
func (v *validator) thresholds(t thresholdsFile) Thresholds {
	nonNeg := []struct {
		key string
		x   float64
	}{
		{"island_mm3", t.IslandMM3}, {"hole_mm3", t.HoleMM3},
		{"max_components", float64(t.MaxComponents)}, {"hd95_max_mm", t.HD95MaxMM},
		{"nsd_tolerance_mm", t.NSDToleranceMM},
	}
	for _, n := range nonNeg {
		if n.x < 0 {
			v.addf("thresholds: %s: %v: want at least 0", n.key, n.x)
		}
	}
	for _, s := range []struct {
		key string
		x   float64
	}{{"air_share_max", t.AirShareMax}, {"dice_min", t.DiceMin}} {
		if s.x < 0 || s.x > 1 {
			v.addf("thresholds: %s: %v: want a share from 0 to 1", s.key, s.x)
		}
	}
	if t.AirHU < -2000 || t.AirHU > 0 {
		v.addf("thresholds: air_hu: %v: want Hounsfield units from -2000 to 0", t.AirHU)
	}
	switch t.SegmentsOverlap {
	case "", OverlapAsDeclared, OverlapForbidden:
	default:
		v.addf("thresholds: segments_overlap: %q: want %s or %s", t.SegmentsOverlap,
			OverlapAsDeclared, OverlapForbidden)
	}
	return Thresholds{
		IslandMM3: t.IslandMM3, HoleMM3: t.HoleMM3, MaxComponents: t.MaxComponents,
		AirHU: t.AirHU, AirShareMax: t.AirShareMax, SegmentsOverlap: t.SegmentsOverlap,
		DiceMin: t.DiceMin, HD95MaxMM: t.HD95MaxMM, NSDToleranceMM: t.NSDToleranceMM,
	}
}

// code checks one code; required codes must be present.
func (v *validator) code(where string, c *codeFile, required bool) CodedConcept {
	if c == nil {
		if required {
			v.addf("%s: missing: a code needs scheme, code and meaning", where)
		}
		return CodedConcept{}
	}
	for _, f := range []struct{ key, val string }{
		{"scheme", c.Scheme}, {"code", c.Code}, {"meaning", c.Meaning},
	} {
		if strings.TrimSpace(f.val) == "" {
			v.addf("%s: %s: empty: a code needs scheme, code and meaning", where, f.key)
		}
	}
	return CodedConcept{CodeValue: c.Code, CodingSchemeDesignator: c.Scheme,
		CodeMeaning: c.Meaning}
}

// vocabulary checks the concepts.
func (v *validator) vocabulary(in []conceptFile) []Concept {
	var out []Concept
	ids := make(map[string]bool)
	labels := make(map[string]int)
	for i, cf := range in {
		at := fmt.Sprintf("vocabulary[%d]", i)
		if cf.ID == "" {
			v.addf("%s: id: empty: a concept needs an id", at)
		} else {
			at = fmt.Sprintf("vocabulary[%d] (%s)", i, cf.ID)
		}
		if ids[cf.ID] && cf.ID != "" {
			v.addf("%s: id: %q used twice", at, cf.ID)
		}
		ids[cf.ID] = true
		c := Concept{
			ID:             cf.ID,
			Category:       v.code(at+": category", cf.Category, true),
			Type:           v.code(at+": type", cf.Type, true),
			Modifier:       v.code(at+": modifier", cf.Modifier, false),
			AnatomicRegion: v.code(at+": anatomic_region", cf.AnatomicRegion, false),
			Labels:         cf.Labels,
			DisplayRGB:     cf.DisplayRGB,
			MaxComponents:  cf.MaxComponents,
		}
		for j, a := range cf.AlsoCodedAs {
			w := fmt.Sprintf("%s: also_coded_as[%d]", at, j)
			c.AlsoCodedAs = append(c.AlsoCodedAs, Coding{
				Category: v.code(w+": category", a.Category, true),
				Type:     v.code(w+": type", a.Type, true),
			})
		}
		for _, l := range cf.Labels {
			key := strings.ToLower(strings.TrimSpace(l))
			if other, ok := labels[key]; ok && other != i {
				v.addf("%s: labels: %q also maps to vocabulary[%d]: a label maps to one "+
					"concept", at, l, other)
			}
			labels[key] = i
		}
		if cf.DisplayRGB != nil && (len(cf.DisplayRGB) != 3 ||
			slices.ContainsFunc(cf.DisplayRGB, func(x int) bool { return x < 0 || x > 255 })) {
			v.addf("%s: display_rgb: %v: want three values from 0 to 255", at, cf.DisplayRGB)
		}
		if cf.MaxComponents < 0 {
			v.addf("%s: max_components: %d: want at least 0", at, cf.MaxComponents)
		}
		if r := cf.VolumeML; r != nil {
			c.VolumeML = &Range{Min: r.Min, Max: r.Max}
			switch {
			case r.Min == nil && r.Max == nil:
				v.addf("%s: volume_ml: needs min, max or both", at)
			case r.Min != nil && *r.Min < 0, r.Max != nil && *r.Max <= 0:
				v.addf("%s: volume_ml: bounds must be positive", at)
			case r.Min != nil && r.Max != nil && *r.Min > *r.Max:
				v.addf("%s: volume_ml: min %v above max %v", at, *r.Min, *r.Max)
			}
		}
		out = append(out, c)
	}
	return out
}

// requirements checks that each requirement names concepts of p.
func (v *validator) requirements(in []requirementFile, p *Profile) []Requirement {
	var out []Requirement
	for i, rf := range in {
		if len(rf.Segments) == 0 {
			v.addf("required[%d]: segments: empty: a requirement lists concept ids", i)
		}
		for _, id := range rf.Segments {
			if p.concept(id) == nil {
				v.addf("required[%d]: segments: %q: not an id of the vocabulary", i, id)
			}
		}
		out = append(out, Requirement{
			When: SourceSelector{
				Modality:         rf.When.Modality,
				BodyPartExamined: rf.When.BodyPartExamined,
			},
			Concepts: rf.Segments,
		})
	}
	return out
}

// validProjectName reports whether name can be a path segment of
// /projects/{name}/dicom-web without escaping.
func validProjectName(name string) bool {
	if name == "" || name == "." || name == ".." {
		return false
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '.' || r == '_' || r == '-'
		if !ok {
			return false
		}
	}
	return true
}
