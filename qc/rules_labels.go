package qc

import (
	"fmt"
	"strings"
)

var ruleLabelsVocabulary = &rule{
	RuleInfo: RuleInfo{
		ID:              "labels.vocabulary",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.2, Table 10-25; profile: vocabulary",
		Summary: "every segment maps to a concept of the profile's vocabulary, by its " +
			"category, type and modifier codes or by its Segment Label",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		if len(c.profile.Vocabulary) == 0 {
			return
		}
		for i := range c.seg.Segments {
			d := &c.seg.Segments[i]
			if isBackground(c.seg, d) {
				continue
			}
			if _, how := c.profile.resolve(d); how != matchNone {
				continue
			}
			c.addf(r, int(d.SegmentNumber), 0, "a segment must be a concept of profile %s's "+
				"vocabulary, by codes or label: segment %d (%q) has category %s, type %s, "+
				"modifier %s", c.profile.Name, d.SegmentNumber, d.SegmentLabel,
				formatCode(d.SegmentedPropertyCategory), formatCode(d.SegmentedPropertyType),
				formatCode(d.SegmentedPropertyTypeModifier))
		}
	},
}

var ruleLabelsUnique = &rule{
	RuleInfo: RuleInfo{
		ID:              "labels.unique",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.2 (Segment Label (0062,0005))",
		Summary: "no two segments of a SEG share a Segment Label (compared without case): " +
			"a label names one class of the training data",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		seen := make(map[string]uint16)
		for i := range c.seg.Segments {
			d := &c.seg.Segments[i]
			if isBackground(c.seg, d) {
				continue
			}
			key := labelKey(d.SegmentLabel)
			if first, ok := seen[key]; ok {
				c.addf(r, int(d.SegmentNumber), 0, "Segment Labels must be unique within a "+
					"SEG: segment %d has label %q, as segment %d has", d.SegmentNumber,
					d.SegmentLabel, first)
				continue
			}
			seen[key] = d.SegmentNumber
		}
	},
}

var ruleLabelsConsistent = &rule{
	RuleInfo: RuleInfo{
		ID:              "labels.consistent",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2, Table 10-25",
		Summary: "across the SEGs of a source series, one Segment Label goes with one " +
			"type code and one type code with one label",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		peers, err := c.peers()
		if err != nil {
			c.addInfo(r, "the other SEGs of the source series could not be listed: %v", err)
			return
		}
		for i := range c.seg.Segments {
			d := &c.seg.Segments[i]
			if isBackground(c.seg, d) {
				continue
			}
			for _, p := range peers {
				for j := range p.Segmentation.Segments {
					o := &p.Segmentation.Segments[j]
					if isBackground(p.Segmentation, o) {
						continue
					}
					checkLabelPair(c, r, d, o, p.Segmentation.SOPInstanceUID)
				}
			}
		}
	},
}

// checkLabelPair compares a segment with one of a peer.
func checkLabelPair(c *checkContext, r *rule, d, o *SegmentDescription, peer string) {
	sameLabel := labelKey(d.SegmentLabel) == labelKey(o.SegmentLabel)
	sameType := sameCode(d.SegmentedPropertyType, o.SegmentedPropertyType) &&
		sameCode(d.SegmentedPropertyTypeModifier, o.SegmentedPropertyTypeModifier)
	switch {
	case sameLabel && !sameType:
		c.addf(r, int(d.SegmentNumber), 0, "one label must mean one code across the SEGs "+
			"of a source series: label %q is type %s here and %s in SEG %s (segment %d)",
			d.SegmentLabel, formatTypeMod(d), formatTypeMod(o), peer, o.SegmentNumber)
	case sameType && !sameLabel && !isGenericType(d.SegmentedPropertyType):
		c.addf(r, int(d.SegmentNumber), 0, "one code must carry one label across the SEGs "+
			"of a source series: type %s is labelled %q here and %q in SEG %s (segment %d)",
			formatTypeMod(d), d.SegmentLabel, o.SegmentLabel, peer, o.SegmentNumber)
	}
}

// isGenericType reports whether a type code is the generic "Tissue" that
// OHIF writes for every segment (SRT T-D0050, SCT 85756007); such segments
// are told apart by label only.
func isGenericType(t CodedConcept) bool {
	return sameCode(t, CodedConcept{CodeValue: "T-D0050", CodingSchemeDesignator: "SRT"}) ||
		sameCode(t, CodedConcept{CodeValue: "85756007", CodingSchemeDesignator: "SCT"})
}

// formatTypeMod writes a segment's type code and modifier, if any.
func formatTypeMod(d *SegmentDescription) string {
	s := formatCode(d.SegmentedPropertyType)
	if !d.SegmentedPropertyTypeModifier.IsZero() {
		s += " with modifier " + formatCode(d.SegmentedPropertyTypeModifier)
	}
	return s
}

// labelKey normalises a label for comparison.
func labelKey(l string) string { return strings.ToLower(strings.TrimSpace(l)) }

// isBackground reports whether d is a LABELMAP's background segment 0.
func isBackground(seg *Segmentation, d *SegmentDescription) bool {
	return seg.SegmentationType == SegmentationTypeLabelmap && d.SegmentNumber == 0
}

// RuleSkipped is the rule ID of the info finding that an enabled rule could
// not run, and why (no source pixels, no peers, no 3D geometry). Its
// severity is always info, whatever the profile sets for the rule.
const RuleSkipped = "check.skipped"

// addInfo records that r could not run, and why.
func (c *checkContext) addInfo(r *rule, format string, args ...any) {
	c.findings = append(c.findings, Finding{
		Rule:      RuleSkipped,
		Severity:  SeverityInfo,
		Message:   r.ID + " did not run: " + fmt.Sprintf(format, args...),
		Reference: r.Reference,
	})
}
