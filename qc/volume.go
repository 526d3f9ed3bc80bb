package qc

import (
	"math"
	"math/bits"

	"github.com/qcgate/qcgate/qc/metrics"
)

// frameGrid puts the frames of a SEG on one 3D voxel grid in patient space:
// plane k along the slice normal (offset / slice spacing, rounded), row and
// column on the pixel grid of the plane. Indices are absolute, so two SEGs
// of one source series, with the same slice spacing, share the grid.
type frameGrid struct {
	// ok is false when the SEG's frames cannot be placed in 3D: a frame
	// without Plane Position, Orientation or Pixel Spacing, frames of
	// different orientations or pixel spacings, or no slice spacing.
	ok bool
	// spacing is in mm: slice, row (Pixel Spacing[0]) and column.
	spacing [3]float64
	// iop is the common Image Orientation (Patient); normal its normal.
	iop, normal []float64
	// at holds plane, row and column of each frame's first pixel.
	at [][3]int
	// residual is what rounding to indices took off the first frame's
	// position, added back by point.
	residual [3]float64
}

// newFrameGrid places seg's frames with slice spacing sliceSpacing (mm).
func newFrameGrid(seg *Segmentation, sliceSpacing float64, tol Tolerances) *frameGrid {
	g := &frameGrid{}
	if sliceSpacing <= 0 || len(seg.Frames) == 0 {
		return g
	}
	f0 := seg.Frames[0]
	if !hasPatientGeometry(f0.ImagePositionPatient, f0.ImageOrientationPatient,
		f0.PixelSpacing) {
		return g
	}
	g.iop, g.normal = f0.ImageOrientationPatient, unitNormal(f0.ImageOrientationPatient)
	g.spacing = [3]float64{sliceSpacing, f0.PixelSpacing[0], f0.PixelSpacing[1]}
	g.at = make([][3]int, len(seg.Frames))
	for i, f := range seg.Frames {
		if !hasPatientGeometry(f.ImagePositionPatient, f.ImageOrientationPatient,
			f.PixelSpacing) || !sameOrientation(f.ImageOrientationPatient, g.iop,
			tol.OrientationCosine) || !sameSpacing(f.PixelSpacing, f0.PixelSpacing,
			tol.PixelSpacingRelative) {
			return &frameGrid{}
		}
		g.at[i] = g.index(f.ImagePositionPatient)
	}
	g.ok = true
	back := g.point(float64(g.at[0][0]), float64(g.at[0][1]), float64(g.at[0][2]))
	for a := range 3 {
		g.residual[a] = f0.ImagePositionPatient[a] - back[a]
	}
	return g
}

// index returns the plane, row and column of a point in patient space.
func (g *frameGrid) index(p []float64) [3]int {
	return [3]int{
		int(math.Round(dot(p, g.normal) / g.spacing[0])),
		int(math.Round(dot(p, g.iop[3:]) / g.spacing[1])),
		int(math.Round(dot(p, g.iop[:3]) / g.spacing[2])),
	}
}

// point returns the patient coordinates of voxel (plane, row, column).
func (g *frameGrid) point(k, r, col float64) [3]float64 {
	var p [3]float64
	for a := range 3 {
		p[a] = g.residual[a] + k*g.spacing[0]*g.normal[a] + r*g.spacing[1]*g.iop[3+a] +
			col*g.spacing[2]*g.iop[a]
	}
	return p
}

// frameGrid returns the grid of the checked SEG, computed once.
func (c *checkContext) frameGrid() *frameGrid {
	if c.grid == nil {
		c.grid = newFrameGrid(c.seg, c.geo.sliceSpacing, c.tol)
	}
	return c.grid
}

// segmentFrames returns the 0-based frames that may hold segment n: those
// the Segment Identification assigns to it, or every frame of a LABELMAP.
func segmentFrames(seg *Segmentation, n uint16) []int {
	var out []int
	for i, f := range seg.Frames {
		if seg.SegmentationType == SegmentationTypeLabelmap || f.SegmentNumber == n ||
			f.SegmentNumber == 0 {
			out = append(out, i)
		}
	}
	return out
}

// voxelVolume is one segment as a packed 3D bitmap on a box of a [frameGrid]:
// voxel (k, r, c) of the box is bit ((k-lo[0])*dims[1]+(r-lo[1]))*dims[2]+
// (c-lo[2]). A 512x512x300 box takes 9.8 MB.
type voxelVolume struct {
	lo, dims [3]int
	spacing  [3]float64
	bits     []uint64
}

// newVolume returns an empty volume on the box from lo with dims.
func newVolume(lo, dims [3]int, spacing [3]float64) *voxelVolume {
	n := dims[0] * dims[1] * dims[2]
	return &voxelVolume{lo: lo, dims: dims, spacing: spacing, bits: make([]uint64, (n+63)/64)}
}

// bit returns the bit index of voxel (k, r, c) in absolute indices.
func (v *voxelVolume) bit(k, r, col int) int {
	return ((k-v.lo[0])*v.dims[1]+(r-v.lo[1]))*v.dims[2] + (col - v.lo[2])
}

// at reports whether absolute voxel (k, r, c) is set; false outside.
func (v *voxelVolume) at(k, r, col int) bool {
	if k < v.lo[0] || r < v.lo[1] || col < v.lo[2] || k >= v.lo[0]+v.dims[0] ||
		r >= v.lo[1]+v.dims[1] || col >= v.lo[2]+v.dims[2] {
		return false
	}
	i := v.bit(k, r, col)
	return v.bits[i>>6]&(1<<(uint(i)&63)) != 0
}

// last returns the absolute indices of the box's last voxel.
func (v *voxelVolume) last() [3]int {
	return [3]int{v.lo[0] + v.dims[0] - 1, v.lo[1] + v.dims[1] - 1, v.lo[2] + v.dims[2] - 1}
}

// voxelMM3 is the volume of one voxel.
func (v *voxelVolume) voxelMM3() float64 { return v.spacing[0] * v.spacing[1] * v.spacing[2] }

// segmentVolume3D builds segment n of seg on grid g. The box is the
// bounding box of the segment's voxels, so the analyses that follow
// (runs, components, holes, agreement) cover the segment, not the frames;
// it is nil when g is not usable, when no frame decodes, or when the
// segment has no voxel.
func segmentVolume3D(seg *Segmentation, g *frameGrid, n uint16) *voxelVolume {
	if !g.ok {
		return nil
	}
	frames := segmentFrames(seg, n)
	if len(frames) == 0 {
		return nil
	}
	// First the runs of set pixels of every frame, in absolute indices,
	// and their bounds; then the box they need.
	var (
		runs []run
		m    Mask
	)
	lo := [3]int{math.MaxInt, math.MaxInt, math.MaxInt}
	hi := [3]int{math.MinInt, math.MinInt, math.MinInt}
	for _, i := range frames {
		if seg.FrameMask(i, n, &m) != nil {
			continue
		}
		a := g.at[i]
		before := len(runs)
		for w, word := range m.Bits {
			if word == 0 {
				continue
			}
			// Runs from the first set word on, row by row.
			r := w * 64 / m.Columns
			runs = maskRowRuns(&m, r, a, runs)
			break
		}
		for _, ru := range runs[before:] {
			lo[0], hi[0] = min(lo[0], int(ru.k)), max(hi[0], int(ru.k))
			lo[1], hi[1] = min(lo[1], int(ru.r)), max(hi[1], int(ru.r))
			lo[2], hi[2] = min(lo[2], int(ru.c0)), max(hi[2], int(ru.c1))
		}
	}
	if len(runs) == 0 {
		return nil
	}
	v := newVolume(lo, [3]int{hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1},
		g.spacing)
	for _, ru := range runs {
		setRange(v.bits, v.bit(int(ru.k), int(ru.r), int(ru.c0)), int(ru.c1-ru.c0+1))
	}
	return v
}

// maskRowRuns appends the runs of set pixels of m's rows from r0 on, as
// absolute (plane, row, first and last column) of a frame placed at a.
func maskRowRuns(m *Mask, r0 int, a [3]int, runs []run) []run {
	for r := r0; r < m.Rows; r++ {
		rowBit := r * m.Columns
		end := rowBit + m.Columns
		for col := nextSet(m.Bits, rowBit, end); col < end; {
			e := nextClear(m.Bits, col, end)
			runs = append(runs, run{k: int32(a[0]), r: int32(a[1] + r),
				c0: int32(a[2] + col - rowBit), c1: int32(a[2] + e - 1 - rowBit)})
			col = nextSet(m.Bits, e, end)
		}
	}
	return runs
}

// extent summarises the voxels of a volume.
type extent struct {
	voxels int64
	// lo and hi bound the voxels, in absolute indices (hi inclusive).
	lo, hi [3]int
	// mean is the mean absolute index (plane, row, column).
	mean [3]float64
}

// extent returns the count, bounds and mean index of v's voxels.
func (v *voxelVolume) extent() extent {
	e := extent{
		lo: [3]int{math.MaxInt, math.MaxInt, math.MaxInt},
		hi: [3]int{math.MinInt, math.MinInt, math.MinInt},
	}
	runs, _ := v.runs()
	var sum [3]float64
	for _, r := range runs {
		n := int64(r.c1 - r.c0 + 1)
		e.voxels += n
		k, row := int(r.k)+v.lo[0], int(r.r)+v.lo[1]
		c0, c1 := int(r.c0)+v.lo[2], int(r.c1)+v.lo[2]
		e.lo = [3]int{min(e.lo[0], k), min(e.lo[1], row), min(e.lo[2], c0)}
		e.hi = [3]int{max(e.hi[0], k), max(e.hi[1], row), max(e.hi[2], c1)}
		sum[0] += float64(n) * float64(k)
		sum[1] += float64(n) * float64(row)
		sum[2] += float64(n) * float64(c0+c1) / 2
	}
	if e.voxels > 0 {
		for a := range 3 {
			e.mean[a] = sum[a] / float64(e.voxels)
		}
	}
	return e
}

// fillBits sets, in m, v's voxels that lie in grid g placed at lo
// (absolute indices), in the packed layout of package metrics
// ([metrics.Bits]). It copies runs of set bits, so its time follows the
// rows of v and their runs, not the voxels of the box.
func (v *voxelVolume) fillBits(lo [3]int, g metrics.Grid, m metrics.Bits) {
	// The part of v's box inside the target box, in absolute indices.
	var from, to [3]int
	for a := range 3 {
		from[a] = max(lo[a], v.lo[a])
		to[a] = min(lo[a]+g.Dims[a], v.lo[a]+v.dims[a])
		if from[a] >= to[a] {
			return
		}
	}
	for k := from[0]; k < to[0]; k++ {
		for r := from[1]; r < to[1]; r++ {
			start := v.bit(k, r, from[2])
			end := start + to[2] - from[2]
			col := from[2] - lo[2] - start
			for p := nextSet(v.bits, start, end); p < end; {
				e := nextClear(v.bits, p, end)
				m.SetRun(g, k-lo[0], r-lo[1], col+p, e-p)
				p = nextSet(v.bits, e, end)
			}
		}
	}
}

// nextSet returns the first set bit of b at or after p, or end.
func nextSet(b []uint64, p, end int) int {
	for p < end {
		w := b[p>>6] >> (uint(p) & 63)
		if w != 0 {
			return min(p+bits.TrailingZeros64(w), end)
		}
		p = (p | 63) + 1
	}
	return end
}

// nextClear returns the first clear bit of b at or after p, or end.
func nextClear(b []uint64, p, end int) int {
	for p < end {
		w := ^b[p>>6] >> (uint(p) & 63)
		if w != 0 {
			return min(p+bits.TrailingZeros64(w), end)
		}
		p = (p | 63) + 1
	}
	return end
}

// setRange sets n bits of b from bit p.
func setRange(b []uint64, p, n int) {
	for n > 0 {
		off := uint(p) & 63
		take := min(64-int(off), n)
		mask := ^uint64(0)
		if take < 64 {
			mask = (1<<uint(take) - 1) << off
		}
		b[p>>6] |= mask
		p += take
		n -= take
	}
}

// run is a horizontal run of set voxels: plane k, row r, columns c0..c1
// (inclusive), relative to the volume's box.
type run struct {
	k, r, c0, c1 int32
}

// component is one connected component of a volume.
type component struct {
	voxels int64
	// lo and hi bound it, in absolute indices (hi inclusive).
	lo, hi [3]int
}

// components returns the 3D connected components of v under
// 26-connectivity (voxels sharing a face, an edge or a corner are
// connected), largest first. It finds runs row by row and joins runs of
// neighbouring rows with union-find, so its time follows the number of
// runs, not of voxels.
func (v *voxelVolume) components() []component {
	runs, rowStart := v.runs()
	parent := make([]int32, len(runs))
	for i := range parent {
		parent[i] = int32(i)
	}
	find := func(i int32) int32 {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(a, b int32) {
		ra, rb := find(a), find(b)
		if ra != rb {
			parent[max(ra, rb)] = min(ra, rb)
		}
	}
	rowRuns := func(k, r int) []run {
		if k < 0 || r < 0 || r >= v.dims[1] {
			return nil
		}
		row := k*v.dims[1] + r
		return runs[rowStart[row]:rowStart[row+1]]
	}
	// Join each run with the overlapping or diagonal runs of the rows
	// before it: (k, r-1) and (k-1, r-1..r+1).
	for i, cur := range runs {
		k, r := int(cur.k), int(cur.r)
		for _, nb := range [][2]int{{k, r - 1}, {k - 1, r - 1}, {k - 1, r}, {k - 1, r + 1}} {
			prev := rowRuns(nb[0], nb[1])
			base := 0
			if len(prev) > 0 {
				row := nb[0]*v.dims[1] + nb[1]
				base = int(rowStart[row])
			}
			for j, p := range prev {
				if p.c0 <= cur.c1+1 && cur.c0 <= p.c1+1 {
					union(int32(i), int32(base+j))
				}
			}
		}
	}

	byRoot := make(map[int32]*component)
	var order []int32
	for i, cur := range runs {
		root := find(int32(i))
		cp := byRoot[root]
		if cp == nil {
			cp = &component{
				lo: [3]int{math.MaxInt, math.MaxInt, math.MaxInt},
				hi: [3]int{math.MinInt, math.MinInt, math.MinInt},
			}
			byRoot[root] = cp
			order = append(order, root)
		}
		cp.voxels += int64(cur.c1 - cur.c0 + 1)
		abs := [3]int{int(cur.k) + v.lo[0], int(cur.r) + v.lo[1], int(cur.c0) + v.lo[2]}
		for a := range 3 {
			cp.lo[a] = min(cp.lo[a], abs[a])
			cp.hi[a] = max(cp.hi[a], abs[a])
		}
		cp.hi[2] = max(cp.hi[2], int(cur.c1)+v.lo[2])
	}
	out := make([]component, 0, len(order))
	for _, root := range order {
		out = append(out, *byRoot[root])
	}
	sortComponents(out)
	return out
}

// sortComponents sorts largest first, then by position.
func sortComponents(cs []component) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && less(cs[j], cs[j-1]); j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

func less(a, b component) bool {
	if a.voxels != b.voxels {
		return a.voxels > b.voxels
	}
	return a.lo[0] < b.lo[0] || a.lo[0] == b.lo[0] &&
		(a.lo[1] < b.lo[1] || a.lo[1] == b.lo[1] && a.lo[2] < b.lo[2])
}

// runs lists the runs of v row by row; rowStart[k*dims[1]+r] is the index
// of the first run of that row, and the last entry is len(runs).
func (v *voxelVolume) runs() ([]run, []int32) {
	rows := v.dims[0] * v.dims[1]
	rowStart := make([]int32, rows+1)
	var runs []run
	for row := range rows {
		rowStart[row] = int32(len(runs))
		start := row * v.dims[2]
		end := start + v.dims[2]
		for p := nextSet(v.bits, start, end); p < end; {
			e := nextClear(v.bits, p, end)
			runs = append(runs, run{k: int32(row / v.dims[1]), r: int32(row % v.dims[1]),
				c0: int32(p - start), c1: int32(e - 1 - start)})
			p = nextSet(v.bits, e, end)
		}
	}
	rowStart[rows] = int32(len(runs))
	return runs, rowStart
}

// hole is an enclosed hole of one plane of a volume.
type hole struct {
	// plane is the absolute plane index; pixels the hole's size.
	plane  int
	pixels int
	// row and col are the absolute indices of one of its pixels.
	row, col int
}

// holes returns the enclosed holes of every plane of v: 4-connected
// background regions of the plane that no path of background pixels joins
// to the outside of the plane's foreground. Holes are looked for plane by
// plane (2D), because annotation is drawn slice by slice: a gap left inside
// one slice's outline is a hole even when the slices above and below cover
// it, which a 3D cavity test would miss.
func (v *voxelVolume) holes() []hole {
	var out []hole
	nr, nc := v.dims[1], v.dims[2]
	plane := make([]uint64, (nr*nc+63)/64)
	for k := range v.dims[0] {
		// Copy the plane so its rows start at bit r*nc of plane.
		base := k * nr * nc
		clear(plane)
		empty := true
		for p := nextSet(v.bits, base, base+nr*nc); p < base+nr*nc; {
			e := nextClear(v.bits, p, base+nr*nc)
			setRange(plane, p-base, e-p)
			empty = false
			p = nextSet(v.bits, e, base+nr*nc)
		}
		if empty {
			continue
		}
		for _, h := range planeHoles(plane, nr, nc) {
			h.plane = k + v.lo[0]
			h.row += v.lo[1]
			h.col += v.lo[2]
			out = append(out, h)
		}
	}
	return out
}

// planeHoles finds the enclosed background regions of an nr x nc plane:
// background runs joined with 4-connectivity (runs of adjacent rows that
// share a column), where regions touching the plane's edge are outside.
func planeHoles(plane []uint64, nr, nc int) []hole {
	type bgRun struct{ r, c0, c1 int }
	var runs []bgRun
	rowStart := make([]int, nr+1)
	for r := range nr {
		rowStart[r] = len(runs)
		start := r * nc
		for p := nextClear(plane, start, start+nc); p < start+nc; {
			e := nextSet(plane, p, start+nc)
			runs = append(runs, bgRun{r: r, c0: p - start, c1: e - 1 - start})
			p = nextClear(plane, e, start+nc)
		}
	}
	rowStart[nr] = len(runs)

	parent := make([]int, len(runs))
	for i := range parent {
		parent[i] = i
	}
	find := func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	for i, cur := range runs {
		if cur.r == 0 {
			continue
		}
		for j := rowStart[cur.r-1]; j < rowStart[cur.r]; j++ {
			p := runs[j]
			if p.c0 <= cur.c1 && cur.c0 <= p.c1 {
				a, b := find(i), find(j)
				if a != b {
					parent[max(a, b)] = min(a, b)
				}
			}
		}
	}

	outside := make(map[int]bool)
	size := make(map[int]int)
	first := make(map[int]bgRun)
	var order []int
	for i, cur := range runs {
		root := find(i)
		if cur.r == 0 || cur.r == nr-1 || cur.c0 == 0 || cur.c1 == nc-1 {
			outside[root] = true
		}
		if _, ok := size[root]; !ok {
			order = append(order, root)
			first[root] = cur
		}
		size[root] += cur.c1 - cur.c0 + 1
	}
	var out []hole
	for _, root := range order {
		if outside[root] {
			continue
		}
		f := first[root]
		out = append(out, hole{pixels: size[root], row: f.r, col: f.c0})
	}
	return out
}
