package qc

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// exampleProfile is the example profile the repository ships.
const exampleProfile = "../docker/profiles/abdomen-ct-liver-spleen.yaml"

// TestExampleProfile lints the shipped example and checks what it says.
func TestExampleProfile(t *testing.T) {
	p, err := LoadProfile(exampleProfile)
	if err != nil {
		t.Fatalf("LoadProfile(%s) error: %v", exampleProfile, err)
	}
	if p.Name != "abdomen-ct-liver-spleen" || p.Version == "" || len(p.SHA256) != 64 {
		t.Errorf("profile = %q %q %q, want name, version and a sha256", p.Name, p.Version,
			p.SHA256)
	}
	liver := p.concept("liver")
	spleen := p.concept("spleen")
	if liver == nil || spleen == nil {
		t.Fatalf("concepts liver and spleen missing: %+v", p.Vocabulary)
	}
	want := []struct {
		c        *Concept
		code     string
		min, max float64
	}{{liver, "10200004", 800, 3000}, {spleen, "78961009", 50, 600}}
	for _, w := range want {
		if w.c.Type.CodeValue != w.code || w.c.Type.CodingSchemeDesignator != "SCT" ||
			w.c.Category.CodeValue != "123037004" {
			t.Errorf("%s codes = %+v %+v, want SCT %s in SCT 123037004", w.c.ID,
				w.c.Category, w.c.Type, w.code)
		}
		if *w.c.VolumeML.Min != w.min || *w.c.VolumeML.Max != w.max {
			t.Errorf("%s volume = %v..%v, want %v..%v", w.c.ID, *w.c.VolumeML.Min,
				*w.c.VolumeML.Max, w.min, w.max)
		}
	}
	wantReq := []Requirement{{When: SourceSelector{Modality: []string{"CT"}},
		Concepts: []string{"liver", "spleen"}}}
	if diff := cmp.Diff(wantReq, p.Requirements); diff != "" {
		t.Errorf("requirements mismatch (-want +got):\n%s", diff)
	}
}

// TestParseProfileVocabulary checks the vocabulary's decoding and its
// problems, all reported at once.
func TestParseProfileVocabulary(t *testing.T) {
	good := `name: v
version: "1"
vocabulary:
  - id: kidney-right
    category: {scheme: SCT, code: "123037004", meaning: Anatomical Structure}
    type: {scheme: SCT, code: "64033007", meaning: Kidney}
    modifier: {scheme: SCT, code: "24028007", meaning: Right}
    labels: [Right kidney]
    volume_ml: {max: 300}
required:
  - when: {modality: [CT, MR], body_part_examined: [ABDOMEN]}
    segments: [kidney-right]
thresholds: {island_mm3: 5, segments_overlap: forbidden, dice_min: 0.9}
`
	p, err := ParseProfile([]byte(good))
	if err != nil {
		t.Fatalf("ParseProfile() error: %v", err)
	}
	wantConcept := []Concept{{
		ID:       "kidney-right",
		Category: CodedConcept{"123037004", "SCT", "Anatomical Structure"},
		Type:     CodedConcept{"64033007", "SCT", "Kidney"},
		Modifier: CodedConcept{"24028007", "SCT", "Right"},
		Labels:   []string{"Right kidney"},
		VolumeML: &Range{Max: ptr(300.0)},
	}}
	if diff := cmp.Diff(wantConcept, p.Vocabulary); diff != "" {
		t.Errorf("vocabulary mismatch (-want +got):\n%s", diff)
	}
	wantThr := Thresholds{IslandMM3: 5, SegmentsOverlap: OverlapForbidden, DiceMin: 0.9}
	if diff := cmp.Diff(wantThr, p.Thresholds); diff != "" {
		t.Errorf("thresholds mismatch (-want +got):\n%s", diff)
	}

	bad := `name: v
version: "1"
vocabulary:
  - id: a
    category: {scheme: SCT, code: "123037004"}
    type: {scheme: SCT, code: "1", meaning: A}
    labels: [Same]
    volume_ml: {min: 10, max: 5}
    display_rgb: [1, 2]
  - id: a
    type: {scheme: SCT, code: "2", meaning: B}
    labels: [same]
required:
  - segments: [nope]
thresholds: {dice_min: 2, segments_overlap: sometimes}
rules:
  segments: {severity: fatal}
`
	_, err = ParseProfile([]byte(bad))
	if !errors.Is(err, ErrInvalidProfile) {
		t.Fatalf("ParseProfile(bad) error = %v, want ErrInvalidProfile", err)
	}
	for _, part := range []string{
		"vocabulary[0] (a): category: meaning: empty",
		"volume_ml: min 10 above max 5",
		"display_rgb: [1 2]",
		`id: "a" used twice`,
		"vocabulary[1] (a): category: missing",
		`labels: "same" also maps to vocabulary[0]`,
		`required[0]: segments: "nope": not an id of the vocabulary`,
		"dice_min: 2: want a share",
		`segments_overlap: "sometimes"`,
		`"segments": severity "fatal"`,
	} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("ParseProfile(bad) error lacks %q:\n%v", part, err)
		}
	}
}

// TestResolveConcept maps segments to the example's concepts.
func TestResolveConcept(t *testing.T) {
	p, err := LoadProfile(exampleProfile)
	if err != nil {
		t.Fatalf("LoadProfile() error: %v", err)
	}
	sct := func(v, m string) CodedConcept { return CodedConcept{v, "SCT", m} }
	srt := func(v, m string) CodedConcept { return CodedConcept{v, "SRT", m} }
	tests := []struct {
		name    string
		d       SegmentDescription
		want    string
		wantHow matchHow
	}{
		{"SCT codes", SegmentDescription{SegmentLabel: "organ",
			SegmentedPropertyCategory: sct("123037004", "Anatomical Structure"),
			SegmentedPropertyType:     sct("10200004", "Liver")}, "liver", matchCode},
		{"retired SRT codes (dcmqi)", SegmentDescription{SegmentLabel: "x",
			SegmentedPropertyCategory: srt("T-D0050", "Tissue"),
			SegmentedPropertyType:     srt("T-62000", "Liver")}, "liver", matchCode},
		{"OHIF Tissue by label", SegmentDescription{SegmentLabel: " spleen ",
			SegmentedPropertyCategory: srt("T-D0050", "Tissue"),
			SegmentedPropertyType:     srt("T-D0050", "Tissue")}, "spleen", matchLabel},
		{"modifier not allowed", SegmentDescription{SegmentLabel: "x",
			SegmentedPropertyCategory:     sct("123037004", "Anatomical Structure"),
			SegmentedPropertyType:         sct("10200004", "Liver"),
			SegmentedPropertyTypeModifier: sct("7771000", "Left")}, "", matchNone},
		{"unknown", SegmentDescription{SegmentLabel: "Tumor",
			SegmentedPropertyCategory: srt("T-D0050", "Tissue"),
			SegmentedPropertyType:     srt("T-D0050", "Tissue")}, "", matchNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, how := p.resolve(&tt.d)
			got := ""
			if c != nil {
				got = c.ID
			}
			if got != tt.want || how != tt.wantHow {
				t.Errorf("resolve(%+v) = %q, %d, want %q, %d", tt.d, got, how, tt.want,
					tt.wantHow)
			}
		})
	}
}

// TestProfileSetSelect checks the choice by project, protocol and default.
func TestProfileSetSelect(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.yaml": "name: liver\nversion: \"1\"\nselection: {clinical_trial_protocol_ids: " +
			"[LIV-1, LIV-2], projects: [hepar]}\n",
		"b.yml":  "name: brain\nversion: \"3\"\nselection: {clinical_trial_protocol_ids: [BR]}\n",
		"c.yaml": "name: site-default\nversion: \"1\"\n",
		"notes":  "not a profile",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatalf("writing %s: %v", name, err)
		}
	}
	set, err := LoadProfileSet(ProfileSetOptions{Dir: dir, Default: "site-default"})
	if err != nil {
		t.Fatalf("LoadProfileSet() error: %v", err)
	}
	tests := []struct {
		name     string
		protocol string
		project  string
		want     string
	}{
		{"protocol", "LIV-2", "", "liver"},
		{"other protocol", "BR", "", "brain"},
		{"unknown protocol", "XYZ", "", "site-default"},
		{"no protocol", "", "", "site-default"},
		{"project wins", "BR", "hepar", "liver"},
		{"project by profile name", "", "brain", "brain"},
		{"unknown project", "LIV-1", "nope", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg := &Segmentation{ClinicalTrialProtocolID: tt.protocol}
			p := set.Select(seg, tt.project)
			got := ""
			if p != nil {
				got = p.Name
			}
			if got != tt.want {
				t.Errorf("Select(%q, %q) = %q, want %q", tt.protocol, tt.project, got, tt.want)
			}
		})
	}

	if set, err := NewProfileSet(nil, ""); err != nil || set.Select(nil, "").Name != "default" {
		t.Errorf("NewProfileSet(nil) default = %v, %v, want the built-in", set, err)
	}
	l1, _ := ParseProfile([]byte("name: x\nversion: \"1\"\nselection: " +
		"{clinical_trial_protocol_ids: [P]}\n"))
	l2, _ := ParseProfile([]byte("name: y\nversion: \"1\"\nselection: " +
		"{clinical_trial_protocol_ids: [P], projects: [x]}\n"))
	_, err = NewProfileSet([]*Profile{l1, l2}, "z")
	for _, part := range []string{`protocol ID "P" claimed`, `project "x" claimed`,
		`default profile "z"`} {
		if !errors.Is(err, ErrInvalidProfile) || !strings.Contains(err.Error(), part) {
			t.Errorf("NewProfileSet(conflicts) error = %v, want it to contain %q", err, part)
		}
	}
}

// TestProfileFamilies checks that optional rules run only when enabled, by
// ID or family, and that an ID setting wins over its family's.
func TestProfileFamilies(t *testing.T) {
	p := &Profile{Rules: map[string]RuleSetting{
		"references":          {Severity: SeverityWarning},
		"references.study":    {Severity: SeverityInfo},
		"geometry":            {Disabled: true},
		"geometry.pixel_grid": {Enabled: true},
	}}
	tests := []struct {
		id      string
		enabled bool
		sev     Severity
	}{
		{"references.source_missing", true, SeverityWarning},
		{"references.study", true, SeverityInfo},
		{"geometry.orientation", false, SeverityError},
		{"geometry.pixel_grid", true, SeverityError},
		{"segments.empty", true, SeverityWarning},
	}
	for _, tt := range tests {
		info, _ := ruleInfo(tt.id)
		if got := p.enabled(tt.id); got != tt.enabled {
			t.Errorf("enabled(%s) = %v, want %v", tt.id, got, tt.enabled)
		}
		if got := p.severity(tt.id, info.DefaultSeverity); got != tt.sev {
			t.Errorf("severity(%s) = %v, want %v", tt.id, got, tt.sev)
		}
	}
}
