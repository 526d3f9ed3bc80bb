package qc

import (
	"fmt"
	"math/bits"
	"sort"
)

var ruleOverlap = &rule{
	RuleInfo: RuleInfo{
		ID:              "overlap.segments",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.2 (Segments Overlap (0062,0013)); profile: segments_overlap",
		Summary: "no voxel belongs to two segments when the SEG's Segments Overlap is NO or " +
			"the profile forbids overlap; checked for BINARY and FRACTIONAL, since a " +
			"LABELMAP pixel holds one value and cannot overlap",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		declared := c.seg.SegmentsOverlap == "NO"
		if c.seg.SegmentationType == SegmentationTypeLabelmap || c.stats.unavailable ||
			!declared && c.thr.SegmentsOverlap != OverlapForbidden {
			return
		}
		why := "the profile forbids overlap"
		if declared {
			why = "Segments Overlap (0062,0013) is NO"
		}
		type pair struct{ a, b uint16 }
		counts := make(map[pair]int64)
		planes := make(map[pair]int)
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
					if fb.SegmentNumber == fa.SegmentNumber || c.stats.frameVoxels[frames[y]] == 0 ||
						c.seg.FrameMask(frames[y], fb.SegmentNumber, &mb) != nil ||
						len(mb.Bits) != len(ma.Bits) {
						continue
					}
					n := 0
					for w := range ma.Bits {
						n += bits.OnesCount64(ma.Bits[w] & mb.Bits[w])
					}
					if n > 0 {
						p := pair{min(fa.SegmentNumber, fb.SegmentNumber),
							max(fa.SegmentNumber, fb.SegmentNumber)}
						counts[p] += int64(n)
						planes[p]++
					}
				}
			}
		}
		keys := make([]pair, 0, len(counts))
		for p := range counts {
			keys = append(keys, p)
		}
		sort.Slice(keys, func(i, j int) bool {
			return keys[i].a < keys[j].a || keys[i].a == keys[j].a && keys[i].b < keys[j].b
		})
		for _, p := range keys {
			c.addf(r, int(p.a), 0, "no voxel may belong to two segments when %s: segments "+
				"%d and %d share %d voxels on %d slices", why, p.a, p.b, counts[p], planes[p])
		}
	},
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
