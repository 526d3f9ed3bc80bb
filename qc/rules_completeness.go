package qc

import (
	"fmt"
	"slices"
	"strings"
)

var ruleRequiredSegment = &rule{
	RuleInfo: RuleInfo{
		ID: "completeness.required_segment",
		// An error by default: a SEG without a structure the project's
		// guideline requires is incomplete training data, and a gate that
		// lets it through teaches a model that the organ is absent. A
		// project that annotates structures in separate sessions lowers it
		// to a warning.
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.2; profile: required",
		Summary: "every concept the profile requires for the source's modality and body " +
			"part is a segment with at least one voxel",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		modality, bodyPart := sourceModality(c), c.bodyPartExamined()
		for _, req := range c.profile.Requirements {
			if !req.When.Matches(modality, bodyPart) {
				continue
			}
			for _, id := range req.Concepts {
				found, empty := findConcept(c, id)
				switch {
				case found == 0:
					c.addf(r, 0, 0, "profile %s requires a %q segment on %s sources: none of "+
						"the %d segments maps to it (labels %s)", c.profile.Name, id,
						describeSource(modality, bodyPart), countSegments(c.seg),
						segmentLabels(c.seg))
				case found == empty:
					c.addf(r, 0, 0, "profile %s requires a %q segment on %s sources: the "+
						"segment that maps to it holds no voxel", c.profile.Name, id,
						describeSource(modality, bodyPart))
				}
			}
		}
	},
}

// sourceModality returns the Modality of the SEG's source images, or "".
func sourceModality(c *checkContext) string {
	for _, inst := range c.sourceInstances() {
		if inst.Modality != "" {
			return inst.Modality
		}
	}
	return ""
}

// describeSource names a kind of source for messages.
func describeSource(modality, bodyPart string) string {
	s := modality
	if s == "" {
		s = "unknown-modality"
	}
	if bodyPart != "" {
		s += " " + bodyPart
	}
	return s
}

// findConcept counts the segments that map to concept id, and how many of
// them hold no voxel (when the pixels could be counted).
func findConcept(c *checkContext, id string) (found, empty int) {
	for i := range c.seg.Segments {
		d := &c.seg.Segments[i]
		if isBackground(c.seg, d) {
			continue
		}
		if con, _ := c.profile.resolve(d); con != nil && con.ID == id {
			found++
			if !c.stats.unavailable && c.stats.voxels[d.SegmentNumber] == 0 {
				empty++
			}
		}
	}
	return found, empty
}

// countSegments counts the segments to check (not a LABELMAP's background).
func countSegments(seg *Segmentation) int {
	n := 0
	for i := range seg.Segments {
		if !isBackground(seg, &seg.Segments[i]) {
			n++
		}
	}
	return n
}

// segmentLabels lists the segments' labels for messages.
func segmentLabels(seg *Segmentation) string {
	var l []string
	for i := range seg.Segments {
		if !isBackground(seg, &seg.Segments[i]) {
			l = append(l, fmt.Sprintf("%q", seg.Segments[i].SegmentLabel))
		}
	}
	return "[" + strings.Join(l, ", ") + "]"
}

var ruleSliceGap = &rule{
	RuleInfo: RuleInfo{
		ID:              "completeness.slice_gap",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2, C.7.6.16.2.3",
		Summary: "a segment annotated on several slices has voxels on every source slice " +
			"between its first and last (annotated on 10 to 20 but not on 15 is a gap)",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		g := c.frameGrid()
		if !g.ok || c.stats.unavailable {
			return
		}
		source := sourcePlanes(c, g)
		for i := range c.seg.Segments {
			d := &c.seg.Segments[i]
			if isBackground(c.seg, d) {
				continue
			}
			planes := annotatedPlanes(c, g, d.SegmentNumber)
			if len(planes) < 2 {
				continue
			}
			lo, hi := planes[0], planes[len(planes)-1]
			var gaps []int
			for k := lo + 1; k < hi; k++ {
				if _, ok := slices.BinarySearch(planes, k); ok {
					continue
				}
				if source == nil || source[k] {
					gaps = append(gaps, k)
				}
			}
			if len(gaps) == 0 {
				continue
			}
			c.addf(r, int(d.SegmentNumber), 0, "a segment must have voxels on every slice "+
				"between its first and last: segment %d (%q) spans %d slices (%s to %s mm "+
				"along the normal) and has none on %d of them, at %s mm", d.SegmentNumber,
				d.SegmentLabel, hi-lo+1, mm(lo, g), mm(hi, g), len(gaps), listPlanes(gaps, g))
		}
	},
}

// mm writes the offset of plane k along the normal.
func mm(k int, g *frameGrid) string {
	return fmt.Sprintf("%.6g", float64(k)*g.spacing[0]+dot(g.residual[:], g.normal))
}

// listPlanes writes at most ten plane offsets.
func listPlanes(ks []int, g *frameGrid) string {
	var parts []string
	for i, k := range ks {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("and %d more", len(ks)-10))
			break
		}
		parts = append(parts, mm(k, g))
	}
	return strings.Join(parts, ", ")
}

// annotatedPlanes returns the sorted planes on which segment n has voxels.
func annotatedPlanes(c *checkContext, g *frameGrid, n uint16) []int {
	set := make(map[int]bool)
	labelmap := c.seg.SegmentationType == SegmentationTypeLabelmap
	for i, f := range c.seg.Frames {
		has := false
		switch {
		case labelmap:
			has = c.stats.segmentVoxels[i][n] > 0
		case f.SegmentNumber == n:
			has = c.stats.frameVoxels[i] > 0
		}
		if has {
			set[g.at[i][0]] = true
		}
	}
	out := make([]int, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// sourcePlanes returns the planes of the grid that hold a source frame of
// the SEG's orientation, or nil when no source has one (then every plane
// counts).
func sourcePlanes(c *checkContext, g *frameGrid) map[int]bool {
	var out map[int]bool
	for _, inst := range c.sourceInstances() {
		for _, f := range inst.Frames {
			if len(f.ImagePositionPatient) != 3 ||
				!sameOrientation(f.ImageOrientationPatient, g.iop, c.tol.OrientationCosine) {
				continue
			}
			if out == nil {
				out = make(map[int]bool)
			}
			out[g.index(f.ImagePositionPatient)[0]] = true
		}
	}
	return out
}
