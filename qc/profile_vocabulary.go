package qc

import (
	"slices"
	"strings"
)

// Concept is one entry of a profile's label vocabulary: a kind of segment
// the project allows, named by the codes of the Segment Description macro
// (PS3.3 Table 10-25), with the checks that apply to it.
type Concept struct {
	// ID is the short name the profile's requirements use, for example
	// "liver".
	ID string
	// Category and Type are the Segmented Property Category and Type codes.
	Category CodedConcept
	Type     CodedConcept
	// Modifier is the Segmented Property Type Modifier a segment must
	// carry, for example Right (SCT 24028007); zero means none allowed.
	Modifier CodedConcept
	// AnatomicRegion is the Anatomic Region a segment must carry; zero
	// means any or none.
	AnatomicRegion CodedConcept
	// AlsoCodedAs lists other codings that mean the same, for example the
	// retired SNOMED-RT codes (SRT) older writers use.
	AlsoCodedAs []Coding
	// Labels are Segment Label texts that map a segment to this concept
	// whatever its codes, compared without case and surrounding spaces. OHIF
	// 3 writes every segment as SRT T-D0050 "Tissue"; a project maps such
	// segments to its concepts by label.
	Labels []string
	// DisplayRGB is the recommended display colour, 0 to 255 per channel,
	// or nil.
	DisplayRGB []int
	// VolumeML is the plausible volume range in mL, or nil for no check.
	VolumeML *Range
	// MaxComponents is the number of 3D connected components a segment of
	// this concept may have; 0 takes [Thresholds.MaxComponents].
	MaxComponents int
}

// Coding is a pair of category and type codes.
type Coding struct {
	Category CodedConcept
	Type     CodedConcept
}

// Range is a closed interval; a nil bound is open.
type Range struct {
	Min *float64
	Max *float64
}

// Contains reports whether v lies in r.
func (r *Range) Contains(v float64) bool {
	return (r.Min == nil || v >= *r.Min) && (r.Max == nil || v <= *r.Max)
}

// Requirement says which concepts a kind of source must have.
type Requirement struct {
	// When selects the sources; the zero value selects every source.
	When SourceSelector
	// Concepts are concept IDs of the vocabulary.
	Concepts []string
}

// SourceSelector matches a kind of source. An empty list matches anything;
// values are compared without case.
type SourceSelector struct {
	// Modality lists source Modality (0008,0060) values, for example CT.
	Modality []string
	// BodyPartExamined lists Body Part Examined (0018,0015) values of the
	// source series, for example ABDOMEN; see [CheckOptions.BodyPartExamined].
	BodyPartExamined []string
}

// Matches reports whether a source of that modality and body part is
// selected. An unknown value (empty) matches only an empty list.
func (s SourceSelector) Matches(modality, bodyPart string) bool {
	in := func(list []string, v string) bool {
		return len(list) == 0 || slices.ContainsFunc(list, func(x string) bool {
			return strings.EqualFold(x, v)
		})
	}
	return in(s.Modality, modality) && in(s.BodyPartExamined, bodyPart)
}

// Selection says which SEGs a [ProfileSet] gives a profile.
type Selection struct {
	// ClinicalTrialProtocolIDs lists Clinical Trial Protocol ID (0012,0020)
	// values whose SEGs get the profile.
	ClinicalTrialProtocolIDs []string
	// Projects lists the project names of the gateway's path prefix
	// /projects/{name}/dicom-web that use the profile. The profile's Name is
	// a project name too.
	Projects []string
}

// sameCode reports whether two codes name the same concept: equal Code
// Value and Coding Scheme Designator; Code Meaning is free text.
func sameCode(a, b CodedConcept) bool {
	return a.CodeValue == b.CodeValue &&
		strings.EqualFold(a.CodingSchemeDesignator, b.CodingSchemeDesignator)
}

// matchHow says how a segment was mapped to a concept.
type matchHow int

const (
	matchNone matchHow = iota
	// matchCode: by category and type codes (and modifier).
	matchCode
	// matchLabel: by Segment Label text.
	matchLabel
)

// codesMatch reports whether d carries the codes of c: category and type
// (or one of the other codings), the modifier c requires or none, and the
// anatomic region c requires, if any.
func (c *Concept) codesMatch(d *SegmentDescription) bool {
	pairs := append([]Coding{{Category: c.Category, Type: c.Type}}, c.AlsoCodedAs...)
	ok := slices.ContainsFunc(pairs, func(p Coding) bool {
		return sameCode(p.Category, d.SegmentedPropertyCategory) &&
			sameCode(p.Type, d.SegmentedPropertyType)
	})
	if !ok || !sameCode(c.Modifier, d.SegmentedPropertyTypeModifier) {
		return false
	}
	return c.AnatomicRegion.IsZero() || sameCode(c.AnatomicRegion, d.AnatomicRegion)
}

// labelMatches reports whether d's label is one of c's labels.
func (c *Concept) labelMatches(d *SegmentDescription) bool {
	l := strings.TrimSpace(d.SegmentLabel)
	return l != "" && slices.ContainsFunc(c.Labels, func(x string) bool {
		return strings.EqualFold(strings.TrimSpace(x), l)
	})
}

// resolve maps a segment to a concept of the vocabulary: by codes first,
// else by label. It returns nil and matchNone when neither maps it.
func (p *Profile) resolve(d *SegmentDescription) (*Concept, matchHow) {
	for i := range p.Vocabulary {
		if p.Vocabulary[i].codesMatch(d) {
			return &p.Vocabulary[i], matchCode
		}
	}
	for i := range p.Vocabulary {
		if p.Vocabulary[i].labelMatches(d) {
			return &p.Vocabulary[i], matchLabel
		}
	}
	return nil, matchNone
}

// concept returns the concept with that ID, or nil.
func (p *Profile) concept(id string) *Concept {
	for i := range p.Vocabulary {
		if p.Vocabulary[i].ID == id {
			return &p.Vocabulary[i]
		}
	}
	return nil
}

// formatCode writes a code for messages as (value, scheme, "meaning").
func formatCode(c CodedConcept) string {
	if c.IsZero() {
		return "(none)"
	}
	return "(" + c.CodeValue + ", " + c.CodingSchemeDesignator + `, "` + c.CodeMeaning + `")`
}
