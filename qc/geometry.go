package qc

import (
	"math"
	"slices"
	"sort"
)

// placement is where the frames of a SEG lie relative to its source
// images, worked out once for all geometry rules.
type placement struct {
	// frames holds one result per SEG frame.
	frames []framePlace
	// sliceSpacing is the spacing of the SEG's slices in mm, used for
	// volumes: the SEG's Spacing Between Slices, else the spacing of the
	// source planes, else of the SEG's own planes, else its Slice
	// Thickness; 0 when none is known. Slice Thickness comes last because
	// slices may overlap or leave gaps, so the thickness need not be the
	// distance between them.
	sliceSpacing float64
	// forMismatch lists the source instances whose Frame of Reference
	// differs from the SEG's; frames are not compared with them.
	forMismatch []*SourceInstance
}

// placeKind says how a frame was placed.
type placeKind int

const (
	// unplaced: the frame has neither geometry nor a single source image.
	unplaced placeKind = iota
	// byPatient: by Plane Position and Orientation (Patient).
	byPatient
	// byTile: a slide microscopy tile, by its position in the total pixel
	// matrix.
	byTile
	// byReference: by the one source image it names, as the same pixel
	// matrix (sources without Frame of Reference, such as CR and DX).
	byReference
	// noSources: no source to place it against; the reference rules say
	// why.
	noSources
)

// framePlace is the placement of one SEG frame.
type framePlace struct {
	kind placeKind
	// target is the source frame the SEG frame is compared with: the named
	// source frame nearest to it, else the nearest source frame by
	// geometry.
	target sourceRef

	// orientationOff is set when no source frame has the frame's
	// orientation; want is the orientation it was compared with.
	orientationOff bool
	want           []float64
	// spacingOff is set when the frame's Pixel Spacing differs from the
	// target's.
	spacingOff bool

	// planeDistance is the distance in mm along the normal to the nearest
	// source plane; tolerance is the largest distance allowed.
	planeDistance, tolerance float64
	// named is set when the frame names source frames of its own;
	// namedDistance is the distance to the nearest of their planes.
	named         bool
	namedDistance float64

	// rowOffset and columnOffset are the position of the frame's first
	// pixel on the target's pixel grid, in pixels.
	rowOffset, columnOffset float64
	offGrid                 bool

	// tileWant is the source tile position (row, column) a tile frame
	// should have, when its named source frame has one.
	tileWant [2]int
}

// Vector helpers on 3-vectors.

func dot(a, b []float64) float64 { return a[0]*b[0] + a[1]*b[1] + a[2]*b[2] }

func sub(a, b []float64) []float64 { return []float64{a[0] - b[0], a[1] - b[1], a[2] - b[2]} }

func cross(a, b []float64) []float64 {
	return []float64{a[1]*b[2] - a[2]*b[1], a[2]*b[0] - a[0]*b[2], a[0]*b[1] - a[1]*b[0]}
}

// unitNormal returns the normal of an Image Orientation (Patient), or nil
// when the orientation is not two independent directions.
func unitNormal(iop []float64) []float64 {
	if len(iop) != 6 {
		return nil
	}
	n := cross(iop[:3], iop[3:])
	l := math.Sqrt(dot(n, n))
	if l < 1e-6 {
		return nil
	}
	return []float64{n[0] / l, n[1] / l, n[2] / l}
}

// sameOrientation reports whether two orientations differ by at most tol in
// every direction cosine.
func sameOrientation(a, b []float64, tol float64) bool {
	if len(a) != 6 || len(b) != 6 {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol {
			return false
		}
	}
	return true
}

// sameSpacing reports whether two Pixel Spacing values differ by at most
// the relative tolerance tol.
func sameSpacing(a, b []float64, tol float64) bool {
	if len(a) != 2 || len(b) != 2 {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > tol*math.Max(math.Abs(a[i]), math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// hasPatientGeometry reports whether a frame can be placed in patient
// space.
func hasPatientGeometry(pos, iop, spacing []float64) bool {
	return len(pos) == 3 && len(iop) == 6 && len(spacing) == 2 && unitNormal(iop) != nil &&
		spacing[0] > 0 && spacing[1] > 0
}

// planeGroup is the source frames of one orientation, with their distance
// along the group's normal, sorted.
type planeGroup struct {
	orientation []float64
	normal      []float64
	offsets     []float64
	refs        []sourceRef
	// spacing is the median distance between distinct planes; 0 with fewer
	// than two planes.
	spacing float64
}

// medianGap returns the median distance between distinct sorted values;
// values closer than 1e-3 mm are one plane. It is 0 with fewer than two
// distinct values.
func medianGap(sorted []float64) float64 {
	var gaps []float64
	for i := 1; i < len(sorted); i++ {
		if g := sorted[i] - sorted[i-1]; g > 1e-3 {
			gaps = append(gaps, g)
		}
	}
	if len(gaps) == 0 {
		return 0
	}
	slices.Sort(gaps)
	return gaps[len(gaps)/2]
}

// buildPlaneGroups groups the source frames that have patient geometry by
// orientation.
func buildPlaneGroups(insts []*SourceInstance, tol float64) []*planeGroup {
	var groups []*planeGroup
	for _, inst := range insts {
		for i := range inst.Frames {
			f := &inst.Frames[i]
			if !hasPatientGeometry(f.ImagePositionPatient, f.ImageOrientationPatient,
				f.PixelSpacing) {
				continue
			}
			var g *planeGroup
			for _, cand := range groups {
				if sameOrientation(cand.orientation, f.ImageOrientationPatient, tol) {
					g = cand
					break
				}
			}
			if g == nil {
				g = &planeGroup{
					orientation: f.ImageOrientationPatient,
					normal:      unitNormal(f.ImageOrientationPatient),
				}
				groups = append(groups, g)
			}
			g.refs = append(g.refs, sourceRef{inst: inst, frame: f})
		}
	}
	for _, g := range groups {
		sort.SliceStable(g.refs, func(i, j int) bool {
			return dot(g.refs[i].frame.ImagePositionPatient, g.normal) <
				dot(g.refs[j].frame.ImagePositionPatient, g.normal)
		})
		g.offsets = make([]float64, len(g.refs))
		for i, r := range g.refs {
			g.offsets[i] = dot(r.frame.ImagePositionPatient, g.normal)
		}
		g.spacing = medianGap(g.offsets)
	}
	return groups
}

// nearest returns the index of the plane nearest to offset d.
func (g *planeGroup) nearest(d float64) int {
	i := sort.SearchFloat64s(g.offsets, d)
	switch {
	case i == len(g.offsets):
		return i - 1
	case i > 0 && d-g.offsets[i-1] < g.offsets[i]-d:
		return i - 1
	}
	return i
}

// placeFrames places every frame of the SEG on its sources.
func placeFrames(c *checkContext) *placement {
	seg := c.seg
	p := &placement{frames: make([]framePlace, len(seg.Frames))}

	var usable []*SourceInstance
	isUsable := make(map[*SourceInstance]bool)
	for _, inst := range c.sourceInstances() {
		if seg.FrameOfReferenceUID != "" && inst.FrameOfReferenceUID != "" &&
			inst.FrameOfReferenceUID != seg.FrameOfReferenceUID {
			p.forMismatch = append(p.forMismatch, inst)
			continue
		}
		usable = append(usable, inst)
		isUsable[inst] = true
	}
	groups := buildPlaneGroups(usable, c.tol.OrientationCosine)

	for i := range seg.Frames {
		f := &seg.Frames[i]
		fp := &p.frames[i]
		named := usableRefs(c.refs.frames[i].refs, isUsable)
		own := c.refs.frames[i].own
		patient := hasPatientGeometry(f.ImagePositionPatient, f.ImageOrientationPatient,
			f.PixelSpacing)
		tile := f.RowPositionInTotalImagePixelMatrix > 0 ||
			f.ColumnPositionInTotalImagePixelMatrix > 0
		switch {
		case len(usable) == 0:
			fp.kind = noSources
		case patient && len(groups) > 0:
			placePatient(c, f, fp, groups, named, own)
		case tile:
			placeTile(c, f, fp, named, own, usable)
		case len(named) == 1 || own && len(named) > 0:
			fp.kind = byReference
			fp.target = named[0]
			fp.named = true
		}
	}
	p.sliceSpacing = sliceSpacing(seg, groups)
	return p
}

// usableRefs keeps the named source frames whose instance is usable.
func usableRefs(refs []sourceRef, usable map[*SourceInstance]bool) []sourceRef {
	var out []sourceRef
	for _, r := range refs {
		if usable[r.inst] {
			out = append(out, r)
		}
	}
	return out
}

// placePatient places a frame with Plane Position and Orientation (Patient)
// on the source planes (PS3.3 C.7.6.2.1.1).
func placePatient(c *checkContext, f *Frame, fp *framePlace, groups []*planeGroup,
	named []sourceRef, own bool) {
	fp.kind = byPatient
	var g *planeGroup
	for _, cand := range groups {
		if sameOrientation(cand.orientation, f.ImageOrientationPatient, c.tol.OrientationCosine) {
			g = cand
			break
		}
	}
	if g == nil {
		fp.orientationOff = true
		fp.want = groups[0].orientation
		if own && len(named) > 0 && len(named[0].frame.ImageOrientationPatient) == 6 {
			fp.want = named[0].frame.ImageOrientationPatient
		}
		return
	}

	d := dot(f.ImagePositionPatient, g.normal)
	k := g.nearest(d)
	fp.planeDistance = math.Abs(d - g.offsets[k])
	fp.tolerance = c.tol.PositionFraction * planeSpacing(f, g)
	fp.target = g.refs[k]

	if own {
		best := math.Inf(1)
		for _, r := range named {
			if !sameOrientation(r.frame.ImageOrientationPatient, g.orientation,
				c.tol.OrientationCosine) || len(r.frame.ImagePositionPatient) != 3 {
				continue
			}
			delta := sub(f.ImagePositionPatient, r.frame.ImagePositionPatient)
			dist := math.Abs(dot(delta, g.normal))
			if dist < best {
				best, fp.target = dist, r
			}
		}
		if !math.IsInf(best, 1) {
			fp.named, fp.namedDistance = true, best
		}
	}

	t := fp.target.frame
	fp.spacingOff = !sameSpacing(f.PixelSpacing, t.PixelSpacing, c.tol.PixelSpacingRelative)
	delta := sub(f.ImagePositionPatient, t.ImagePositionPatient)
	iop := t.ImageOrientationPatient
	fp.columnOffset = dot(delta, iop[:3]) / t.PixelSpacing[1]
	fp.rowOffset = dot(delta, iop[3:]) / t.PixelSpacing[0]
	fp.offGrid = math.Abs(fp.columnOffset-math.Round(fp.columnOffset)) > c.tol.PositionFraction ||
		math.Abs(fp.rowOffset-math.Round(fp.rowOffset)) > c.tol.PositionFraction
}

// planeSpacing returns the slice spacing a frame's distance from a plane is
// measured against: the source planes' spacing, else the SEG's Spacing
// Between Slices or Slice Thickness, else the source's Slice Thickness,
// else the pixel spacing.
func planeSpacing(f *Frame, g *planeGroup) float64 {
	for _, s := range []float64{
		g.spacing, f.SpacingBetweenSlices, f.SliceThickness,
		g.refs[0].frame.SpacingBetweenSlices, g.refs[0].frame.SliceThickness,
	} {
		if s > 0 {
			return s
		}
	}
	return (f.PixelSpacing[0] + f.PixelSpacing[1]) / 2
}

// placeTile places a slide microscopy tile by its position in the total
// pixel matrix (PS3.3 C.8.12.6.1), and compares its Pixel Spacing with the
// source's.
func placeTile(c *checkContext, f *Frame, fp *framePlace, named []sourceRef, own bool,
	usable []*SourceInstance) {
	fp.kind = byTile
	defer func() {
		if t := fp.target.frame; t != nil && len(t.PixelSpacing) == 2 &&
			len(f.PixelSpacing) == 2 {
			fp.spacingOff = !sameSpacing(f.PixelSpacing, t.PixelSpacing,
				c.tol.PixelSpacingRelative)
		}
	}()
	if own && len(named) > 0 {
		fp.target, fp.named = named[0], true
		sf := named[0].frame
		if sf.RowPositionInTotalImagePixelMatrix > 0 ||
			sf.ColumnPositionInTotalImagePixelMatrix > 0 {
			fp.tileWant = [2]int{sf.RowPositionInTotalImagePixelMatrix,
				sf.ColumnPositionInTotalImagePixelMatrix}
		}
		return
	}
	for _, inst := range usable {
		if inst.TotalPixelMatrixRows > 0 {
			fp.target = sourceRef{inst: inst, frame: &inst.Frames[0]}
			return
		}
	}
}

// sliceSpacing returns the spacing of the SEG's slices for volumes; see
// [placement.sliceSpacing].
func sliceSpacing(seg *Segmentation, groups []*planeGroup) float64 {
	for _, f := range seg.Frames {
		if f.SpacingBetweenSlices > 0 {
			return f.SpacingBetweenSlices
		}
	}

	var iop []float64
	for _, f := range seg.Frames {
		if len(f.ImageOrientationPatient) == 6 {
			iop = f.ImageOrientationPatient
			break
		}
	}
	if n := unitNormal(iop); n != nil {
		for _, g := range groups {
			if g.spacing > 0 && sameOrientation(g.orientation, iop, DefaultOrientationCosine) {
				return g.spacing
			}
		}
		var offsets []float64
		for _, f := range seg.Frames {
			if len(f.ImagePositionPatient) == 3 {
				offsets = append(offsets, dot(f.ImagePositionPatient, n))
			}
		}
		slices.Sort(offsets)
		if s := medianGap(offsets); s > 0 {
			return s
		}
	}

	for _, f := range seg.Frames {
		if f.SliceThickness > 0 {
			return f.SliceThickness
		}
	}
	return 0
}
