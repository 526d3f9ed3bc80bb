package qc

import (
	"fmt"
	"math"
)

// segmentShape is the 3D analysis of one segment, shared by the boundary
// and laterality rules.
type segmentShape struct {
	extent     extent
	components []component
	holes      []hole
	voxelMM3   float64
	pixelMM2   float64
}

// shape returns the analysis of segment n, computed once; nil when the SEG
// cannot be placed in 3D or the segment has no voxel. The segment's packed
// volume is dropped once analysed, so one segment's bitmap at a time is
// held.
func (c *checkContext) shape(n uint16) *segmentShape {
	if sh, ok := c.shapes[n]; ok {
		return sh
	}
	if c.shapes == nil {
		c.shapes = make(map[uint16]*segmentShape)
	}
	var sh *segmentShape
	if v := segmentVolume3D(c.seg, c.frameGrid(), n); v != nil {
		sh = &segmentShape{
			extent:     v.extent(),
			components: v.components(),
			holes:      v.holes(),
			voxelMM3:   v.voxelMM3(),
			pixelMM2:   v.spacing[1] * v.spacing[2],
		}
	}
	c.shapes[n] = sh
	return sh
}

// shapeRule runs check on the analysis of every segment, or notes once
// that the SEG has no 3D grid.
func shapeRule(c *checkContext, r *rule, check func(d *SegmentDescription, sh *segmentShape)) {
	if c.stats.unavailable || len(c.stats.decodeErrs) > 0 {
		return
	}
	if !c.frameGrid().ok {
		c.addInfo(r, "the SEG's frames do not form a 3D grid (Plane Position and "+
			"Orientation on every frame, one orientation, a slice spacing)")
		return
	}
	for i := range c.seg.Segments {
		d := &c.seg.Segments[i]
		if isBackground(c.seg, d) || c.stats.voxels[d.SegmentNumber] == 0 {
			continue
		}
		if sh := c.shape(d.SegmentNumber); sh != nil {
			check(d, sh)
		}
	}
}

var ruleComponents = &rule{
	RuleInfo: RuleInfo{
		ID:              "boundary.components",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2; profile: max_components",
		Summary: "a segment has at most the number of 3D connected components " +
			"(26-connectivity) its concept, or the profile, allows",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		shapeRule(c, r, func(d *SegmentDescription, sh *segmentShape) {
			limit := c.thr.MaxComponents
			if con, _ := c.profile.resolve(d); con != nil && con.MaxComponents > 0 {
				limit = con.MaxComponents
			}
			if limit == 0 || len(sh.components) <= limit {
				return
			}
			c.addf(r, int(d.SegmentNumber), 0, "a segment may have at most %d connected "+
				"components (26-connectivity): segment %d (%q) has %d; the largest holds "+
				"%.4g mL of %.4g mL", limit, d.SegmentNumber, d.SegmentLabel,
				len(sh.components), float64(sh.components[0].voxels)*sh.voxelMM3/1000,
				float64(sh.extent.voxels)*sh.voxelMM3/1000)
		})
	},
}

var ruleIslands = &rule{
	RuleInfo: RuleInfo{
		ID:              "boundary.islands",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2; profile: island_mm3",
		Summary: "a segment has no island: a 3D connected component (26-connectivity), " +
			"other than its largest, smaller than the profile's island_mm3",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		shapeRule(c, r, func(d *SegmentDescription, sh *segmentShape) {
			var n int
			var mm3 float64
			first := -1
			for i, cp := range sh.components[1:] {
				v := float64(cp.voxels) * sh.voxelMM3
				if v < c.thr.IslandMM3 {
					n++
					mm3 += v
					if first < 0 {
						first = i + 1
					}
				}
			}
			if n == 0 {
				return
			}
			cp := sh.components[first]
			c.addf(r, int(d.SegmentNumber), 0, "a segment must have no connected component "+
				"under %g mm3 besides its largest: segment %d (%q) has %d such islands "+
				"(%.4g mm3 together; the largest of them %d voxels, %.4g mm3, near %s mm)",
				c.thr.IslandMM3, d.SegmentNumber, d.SegmentLabel, n, mm3, cp.voxels,
				float64(cp.voxels)*sh.voxelMM3, patientAt(c.frameGrid(), cp.lo))
		})
	},
}

var ruleHoles = &rule{
	RuleInfo: RuleInfo{
		ID:              "boundary.holes",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2; profile: hole_mm3",
		Summary: "a segment has no enclosed hole of the profile's hole_mm3 or more, looked " +
			"for slice by slice (background 4-connected in the slice, enclosed by the " +
			"segment); a hole's volume is its pixels times the voxel volume",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		shapeRule(c, r, func(d *SegmentDescription, sh *segmentShape) {
			var n int
			var mm3, biggest float64
			var big hole
			for _, h := range sh.holes {
				v := float64(h.pixels) * sh.voxelMM3
				if v < c.thr.HoleMM3 {
					continue
				}
				n++
				mm3 += v
				if v > biggest {
					biggest, big = v, h
				}
			}
			if n == 0 {
				return
			}
			c.addf(r, int(d.SegmentNumber), 0, "a segment must have no enclosed hole of %g "+
				"mm3 or more: segment %d (%q) has %d (%.4g mm3 together; the largest %d "+
				"pixels, %.4g mm3, near %s mm)", c.thr.HoleMM3, d.SegmentNumber,
				d.SegmentLabel, n, mm3, big.pixels, biggest,
				patientAt(c.frameGrid(), [3]int{big.plane, big.row, big.col}))
		})
	},
}

var ruleImageBorder = &rule{
	RuleInfo: RuleInfo{
		ID:              "boundary.image_border",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2, C.7.6.2.1.1",
		Summary: "a segment does not touch the border of the source image (first or last " +
			"row or column) nor the first or last slice of the source series: the " +
			"structure may be cut off",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		box, ok := sourceBox(c)
		if !ok {
			return
		}
		shapeRule(c, r, func(d *SegmentDescription, sh *segmentShape) {
			e := sh.extent
			var where []string
			if e.lo[1] <= box.lo[1] || e.hi[1] >= box.hi[1] {
				where = append(where, "first or last row")
			}
			if e.lo[2] <= box.lo[2] || e.hi[2] >= box.hi[2] {
				where = append(where, "first or last column")
			}
			if box.planes > 1 && (e.lo[0] <= box.lo[0] || e.hi[0] >= box.hi[0]) {
				where = append(where, "first or last slice of the series")
			}
			if len(where) == 0 {
				return
			}
			c.addf(r, int(d.SegmentNumber), 0, "a segment should not touch the edge of the "+
				"imaged volume, where the structure may be cut off: segment %d (%q) reaches "+
				"the %v", d.SegmentNumber, d.SegmentLabel, joinAnd(where))
		})
	},
}

// patientAt writes the patient coordinates (LPS, mm) of a voxel.
func patientAt(g *frameGrid, at [3]int) string {
	p := g.point(float64(at[0]), float64(at[1]), float64(at[2]))
	return formatFloats(p[:])
}

// joinAnd joins phrases with commas and "and".
func joinAnd(s []string) string {
	switch len(s) {
	case 1:
		return s[0]
	case 2:
		return s[0] + " and " + s[1]
	}
	return fmt.Sprintf("%s, %s and %s", s[0], s[1], s[2])
}

// imageBox is the extent of the source series on the SEG's grid.
type imageBox struct {
	lo, hi [3]int // inclusive
	planes int
}

// sourceBox returns the extent of the SEG's source images on its grid.
func sourceBox(c *checkContext) (imageBox, bool) {
	g := c.frameGrid()
	if !g.ok {
		return imageBox{}, false
	}
	b := imageBox{
		lo: [3]int{math.MaxInt, math.MaxInt, math.MaxInt},
		hi: [3]int{math.MinInt, math.MinInt, math.MinInt},
	}
	planes := make(map[int]bool)
	for _, inst := range c.sourceInstances() {
		for _, f := range inst.Frames {
			if len(f.ImagePositionPatient) != 3 ||
				!sameOrientation(f.ImageOrientationPatient, g.iop, c.tol.OrientationCosine) {
				continue
			}
			a := g.index(f.ImagePositionPatient)
			end := [3]int{a[0], a[1] + inst.Rows - 1, a[2] + inst.Columns - 1}
			for x := range 3 {
				b.lo[x], b.hi[x] = min(b.lo[x], a[x]), max(b.hi[x], end[x])
			}
			planes[a[0]] = true
		}
	}
	b.planes = len(planes)
	return b, b.planes > 0
}

var ruleAirShare = &rule{
	RuleInfo: RuleInfo{
		ID:              "boundary.air",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.2.1, C.11.1.1.2; profile: air_hu, air_share_max",
		Summary: "on CT, at most the profile's air_share_max of a segment's voxels lie on " +
			"source pixels under air_hu (default -900 HU): air inside an organ's mask means " +
			"the outline spills outside the body or into bowel gas; needs source pixels",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		if c.stats.unavailable || len(c.stats.decodeErrs) > 0 {
			return
		}
		if c.opts.Pixels == nil {
			c.addInfo(r, "no source pixels were available")
			return
		}
		air, total, err := airCounts(c)
		if err != nil {
			c.addInfo(r, "reading source pixels: %v", err)
			return
		}
		for i := range c.seg.Segments {
			d := &c.seg.Segments[i]
			n := d.SegmentNumber
			if isBackground(c.seg, d) || total[n] == 0 {
				continue
			}
			share := float64(air[n]) / float64(total[n])
			if share <= c.thr.AirShareMax {
				continue
			}
			c.addf(r, int(n), 0, "at most %.3g%% of a segment may lie on air (under %g HU): "+
				"%.3g%% of segment %d (%q) does, %d of %d voxels on CT", 100*c.thr.AirShareMax,
				c.thr.AirHU, 100*share, n, d.SegmentLabel, air[n], total[n])
		}
	},
}

// airCounts counts, per segment, the voxels on CT source pixels and those
// among them under the air threshold. Source frames are fetched one at a
// time, each once, with the SEG frames placed on it.
func airCounts(c *checkContext) (air, total map[uint16]int64, err error) {
	air, total = make(map[uint16]int64), make(map[uint16]int64)
	type key struct {
		inst  *SourceInstance
		frame int
	}
	groups := make(map[key][]int)
	var order []key
	for i, fp := range c.geo.frames {
		t := fp.target
		if t.inst == nil || t.frame == nil || t.inst.Modality != "CT" ||
			fp.offGrid || fp.spacingOff || fp.orientationOff {
			continue
		}
		k := key{t.inst, t.frame.Number}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], i)
	}

	var m Mask
	for _, k := range order {
		if err := c.ctx.Err(); err != nil {
			return nil, nil, err
		}
		values, err := c.opts.Pixels.FrameValues(c.ctx, k.inst, k.frame)
		if err != nil {
			return nil, nil, err
		}
		if len(values) != k.inst.Rows*k.inst.Columns {
			return nil, nil, fmt.Errorf("source %s frame %d: %d values for %dx%d pixels",
				k.inst.SOPInstanceUID, k.frame, len(values), k.inst.Rows, k.inst.Columns)
		}
		for _, i := range groups[k] {
			fp := c.geo.frames[i]
			ro, co := int(math.Round(fp.rowOffset)), int(math.Round(fp.columnOffset))
			for _, n := range frameSegments(c, i) {
				if c.seg.FrameMask(i, n, &m) != nil {
					continue
				}
				var nAir, nTotal int64
				for r := range m.Rows {
					sr := r + ro
					rowBit := r * m.Columns
					for p := nextSet(m.Bits, rowBit, rowBit+m.Columns); p < rowBit+m.Columns; {
						sc := p - rowBit + co
						if sr >= 0 && sr < k.inst.Rows && sc >= 0 && sc < k.inst.Columns {
							nTotal++
							if values[sr*k.inst.Columns+sc] < c.thr.AirHU {
								nAir++
							}
						}
						p = nextSet(m.Bits, p+1, rowBit+m.Columns)
					}
				}
				air[n] += nAir
				total[n] += nTotal
			}
		}
	}
	return air, total, nil
}

// frameSegments lists the segments a frame may hold pixels of.
func frameSegments(c *checkContext, i int) []uint16 {
	if c.seg.SegmentationType != SegmentationTypeLabelmap {
		return []uint16{c.seg.Frames[i].SegmentNumber}
	}
	var out []uint16
	for n, v := range c.stats.segmentVoxels[i] {
		if v > 0 {
			out = append(out, n)
		}
	}
	return out
}
