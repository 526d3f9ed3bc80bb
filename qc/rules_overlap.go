package qc

import (
	"fmt"
	"math/bits"
	"slices"
	"sort"
)

var ruleOverlap = &rule{
	RuleInfo: RuleInfo{
		ID:              "overlap.segments",
		DefaultSeverity: SeverityError,
		Reference: "PS3.3 C.8.20.2 (Segments Overlap (0062,0013), Segmentation Type " +
			"LABELMAP); profile: segments_overlap",
		Summary: "no voxel belongs to two segments: in BINARY and FRACTIONAL SEGs when " +
			"Segments Overlap is NO or the profile forbids overlap; in a LABELMAP always, " +
			"where two frames on one plane may give one voxel two labels",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		if c.stats.unavailable {
			return
		}
		if c.seg.SegmentationType == SegmentationTypeLabelmap {
			labelmapOverlap(c, r)
			return
		}
		declared := c.seg.SegmentsOverlap == "NO"
		if !declared && c.thr.SegmentsOverlap != OverlapForbidden {
			return
		}
		why := "the profile forbids overlap"
		if declared {
			why = "Segments Overlap (0062,0013) is NO"
		}
		counts := make(map[labelPair]int64)
		planes := make(map[labelPair]int)
		var ma, mb Mask
		for _, frames := range framesByPlane(c) {
			for x := 0; x < len(frames); x++ {
				fa := c.seg.Frames[frames[x]]
				if c.stats.frameVoxels[frames[x]] == 0 ||
					c.seg.FrameMask(frames[x], fa.SegmentNumber, &ma) != nil {
					continue
				}
				for y := x + 1; y < len(frames); y++ {
					fb := c.seg.Frames[frames[y]]
					if fb.SegmentNumber == fa.SegmentNumber ||
						c.stats.frameVoxels[frames[y]] == 0 ||
						c.seg.FrameMask(frames[y], fb.SegmentNumber, &mb) != nil ||
						len(mb.Bits) != len(ma.Bits) {
						continue
					}
					n := 0
					for w := range ma.Bits {
						n += bits.OnesCount64(ma.Bits[w] & mb.Bits[w])
					}
					if n > 0 {
						p := labelPair{min(fa.SegmentNumber, fb.SegmentNumber),
							max(fa.SegmentNumber, fb.SegmentNumber)}
						counts[p] += int64(n)
						planes[p]++
					}
				}
			}
		}
		for _, p := range sortedPairs(counts) {
			c.addf(r, int(p.a), 0, "no voxel may belong to two segments when %s: segments "+
				"%d and %d share %d voxels on %d slices", why, p.a, p.b, counts[p], planes[p])
		}
	},
}

// labelPair is two segment numbers, a < b.
type labelPair struct{ a, b uint16 }

// labelmapOverlap finds voxels of a LABELMAP that two frames on one plane
// give different labels. A LABELMAP pixel holds one value, so one frame
// cannot overlap itself; but nothing in PS3.3 C.8.20.2 stops a SEG from
// holding two frames of one plane (one per region, as some writers do),
// and then a voxel set in both with different segment numbers belongs to
// two segments. Label 0 and an undescribed Pixel Padding Value are
// background; the same label in both frames is a duplicate, not an overlap.
func labelmapOverlap(c *checkContext, r *rule) {
	padding := -1
	if pv := c.seg.PixelPaddingValue; pv != nil && !slices.ContainsFunc(c.seg.Segments,
		func(d SegmentDescription) bool { return int(d.SegmentNumber) == *pv }) {
		padding = *pv
	}
	counts := make(map[labelPair]int64)
	planes := make(map[labelPair]int)
	var (
		values [][]uint16
		labels []uint16
		seen   = make(map[labelPair]bool)
	)
	for _, frames := range framesByPlane(c) {
		// Only planes of two frames or more can overlap: a clean LABELMAP,
		// one frame a plane, decodes nothing here.
		if len(frames) < 2 {
			continue
		}
		values = values[:0]
		for _, i := range frames {
			v, err := c.seg.FrameValues(i, nil)
			if err != nil {
				continue
			}
			values = append(values, v)
		}
		if len(values) < 2 {
			continue
		}
		clear(seen)
		for p := range values[0] {
			labels = labels[:0]
			for _, v := range values {
				if len(v) <= p {
					continue
				}
				l := v[p]
				if l != 0 && int(l) != padding && !slices.Contains(labels, l) {
					labels = append(labels, l)
				}
			}
			for x := 0; x < len(labels); x++ {
				for y := x + 1; y < len(labels); y++ {
					k := labelPair{min(labels[x], labels[y]), max(labels[x], labels[y])}
					counts[k]++
					seen[k] = true
				}
			}
		}
		for k := range seen {
			planes[k]++
		}
	}
	for _, p := range sortedPairs(counts) {
		c.addf(r, int(p.a), 0, "a LABELMAP voxel holds one segment, but frames on a shared "+
			"plane give segments %d and %d the same %d voxels on %d slices",
			p.a, p.b, counts[p], planes[p])
	}
}

// sortedPairs returns the keys of counts in increasing order.
func sortedPairs(counts map[labelPair]int64) []labelPair {
	keys := make([]labelPair, 0, len(counts))
	for p := range counts {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].a < keys[j].a || keys[i].a == keys[j].a && keys[i].b < keys[j].b
	})
	return keys
}

// framesByPlane groups the SEG's frames by the source plane they lie on:
// by their plane on the 3D grid when the SEG has one, else by the source
// frame they were placed on. Frames that cannot be placed are left out.
func framesByPlane(c *checkContext) [][]int {
	g := c.frameGrid()
	groups := make(map[string][]int)
	var order []string
	for i := range c.seg.Frames {
		var key string
		switch fp := c.geo.frames[i]; {
		case g.ok:
			key = fmt.Sprintf("k%d/%d/%d", g.at[i][0], g.at[i][1], g.at[i][2])
		case fp.target.inst != nil:
			key = fmt.Sprintf("s%s/%d/%g/%g", fp.target.inst.SOPInstanceUID,
				fp.target.frame.Number, fp.rowOffset, fp.columnOffset)
		default:
			continue
		}
		if _, ok := groups[key]; !ok {
			order = append(order, key)
		}
		groups[key] = append(groups[key], i)
	}
	out := make([][]int, 0, len(order))
	for _, k := range order {
		out = append(out, groups[k])
	}
	return out
}
