package qc

import (
	"fmt"
	"math"
)

var ruleVolumeRange = &rule{
	RuleInfo: RuleInfo{
		ID:              "plausibility.volume",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2; profile: vocabulary volume_ml",
		Summary: "a segment's volume in mL lies in the range the profile gives its concept " +
			"(ranges are indicative: a finding asks for a look, not a rejection)",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		for i := range c.seg.Segments {
			d := &c.seg.Segments[i]
			if isBackground(c.seg, d) {
				continue
			}
			con, _ := c.profile.resolve(d)
			if con == nil || con.VolumeML == nil {
				continue
			}
			ml := segmentVolume(c, d.SegmentNumber)
			if ml == nil || c.stats.voxels[d.SegmentNumber] == 0 || con.VolumeML.Contains(*ml) {
				continue
			}
			c.addf(r, int(d.SegmentNumber), 0, "the volume of a %q segment must be within "+
				"%s mL: segment %d (%q) measures %.4g mL", con.ID, formatRange(con.VolumeML),
				d.SegmentNumber, d.SegmentLabel, *ml)
		}
	},
}

// formatRange writes a range for messages.
func formatRange(r *Range) string {
	lo, hi := "-inf", "+inf"
	if r.Min != nil {
		lo = fmt.Sprintf("%g", *r.Min)
	}
	if r.Max != nil {
		hi = fmt.Sprintf("%g", *r.Max)
	}
	return "[" + lo + ", " + hi + "]"
}

// Laterality modifiers (CID 244): Right and Left, in SNOMED CT and the
// retired SNOMED-RT codes.
var (
	lateralityRight = []CodedConcept{
		{CodeValue: "24028007", CodingSchemeDesignator: "SCT"},
		{CodeValue: "G-A100", CodingSchemeDesignator: "SRT"},
	}
	lateralityLeft = []CodedConcept{
		{CodeValue: "7771000", CodingSchemeDesignator: "SCT"},
		{CodeValue: "G-A101", CodingSchemeDesignator: "SRT"},
	}
)

// lateralityMarginMM is how far past the midline a segment's centre must lie
// before its side counts as wrong: organs near the midline (or a patient
// lying off centre) must not raise findings.
const lateralityMarginMM = 10.0

// hasCode reports whether c is one of codes.
func hasCode(codes []CodedConcept, c CodedConcept) bool {
	for _, x := range codes {
		if sameCode(x, c) {
			return true
		}
	}
	return false
}

var ruleLaterality = &rule{
	RuleInfo: RuleInfo{
		ID:              "plausibility.laterality",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2 (Segmented Property Type Modifier), C.7.6.2.1.1",
		Summary: "a segment whose modifier is Right (SCT 24028007) has its centre on the " +
			"patient's right (-x in LPS), one whose modifier is Left (SCT 7771000) on the " +
			"left (+x); the midline is the x of the source image's centre, with a 10 mm margin",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		g := c.frameGrid()
		if !g.ok {
			return
		}
		mid, ok := midlineX(c)
		if !ok {
			return
		}
		for i := range c.seg.Segments {
			d := &c.seg.Segments[i]
			right := hasCode(lateralityRight, d.SegmentedPropertyTypeModifier)
			left := hasCode(lateralityLeft, d.SegmentedPropertyTypeModifier)
			if isBackground(c.seg, d) || !right && !left {
				continue
			}
			sh := c.shape(d.SegmentNumber)
			if sh == nil {
				continue
			}
			x := g.point(sh.extent.mean[0], sh.extent.mean[1], sh.extent.mean[2])[0]
			side, wrong := "right", x > mid+lateralityMarginMM
			if left {
				side, wrong = "left", x < mid-lateralityMarginMM
			}
			if !wrong {
				continue
			}
			c.addf(r, int(d.SegmentNumber), 0, "a segment with laterality %s must lie on the "+
				"patient's %s (x %s %.4g mm in LPS, the image centre): segment %d (%q) has its "+
				"centre at x = %.4g mm", side, side, map[bool]string{true: "<", false: ">"}[right],
				mid, d.SegmentNumber, d.SegmentLabel, x)
		}
	},
}

// midlineX returns the patient x (LPS) of the centre of the first source
// frame of the SEG's orientation: CT and MR centre the patient in the
// field of view, so it stands for the midline.
func midlineX(c *checkContext) (float64, bool) {
	g := c.frameGrid()
	for _, inst := range c.sourceInstances() {
		for _, f := range inst.Frames {
			if !hasPatientGeometry(f.ImagePositionPatient, f.ImageOrientationPatient,
				f.PixelSpacing) || !sameOrientation(f.ImageOrientationPatient, g.iop,
				c.tol.OrientationCosine) {
				continue
			}
			iop := f.ImageOrientationPatient
			x := f.ImagePositionPatient[0] +
				float64(inst.Columns-1)/2*f.PixelSpacing[1]*iop[0] +
				float64(inst.Rows-1)/2*f.PixelSpacing[0]*iop[3]
			return x, !math.IsNaN(x)
		}
	}
	return 0, false
}
