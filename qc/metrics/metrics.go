// Package metrics computes agreement between two segmentation masks on one
// 3D grid, in physical units: overlap (Dice, Jaccard) and surface distances
// (Hausdorff distance, HD95, average symmetric surface distance, normalized
// surface Dice), with anisotropic voxel spacing.
//
// Distances come from an exact Euclidean distance transform: the separable
// lower-envelope algorithm of Felzenszwalb and Huttenlocher ("Distance
// Transforms of Sampled Functions", Theory of Computing 8, 2012), run along
// each axis with that axis's spacing, which gives the exact squared
// distance to the nearest feature voxel centre, as Saito and Toriwaki's
// separable transform and scipy.ndimage.distance_transform_edt do.
//
// Algorithm of [Workspace.Compare]: the masks are packed one bit a voxel
// ([Bits]). Dice and Jaccard count bits. Equal masks return at once (every
// surface distance is 0). Otherwise the two surfaces are found 64 voxels
// at a time, and each directed distance set from surface A to surface B
// takes one transform of B's surface, evaluated only at A's surface
// voxels, one plane of axis 0 at a time and only on the planes that hold
// voxels of A:
//  1. along axis 0, the planes of B's surface voxels are listed for every
//     line of axis 0, in order; a pointer per line, moved forward plane by
//     plane, gives each voxel the steps to the nearest one on its line
//     (exact for a binary input);
//  2. along axis 2, the lower envelope of parabolas, on the contiguous rows
//     of the plane;
//  3. along axis 1, the envelope only on the columns that hold voxels of
//     A, read only at those voxels.
//
// Each pass is exact, so the result is the exact squared distance in mm².
// Cropping to a box that holds both masks changes nothing: the nearest
// surface voxel of B lies in B's box, and voxels on the box's faces are
// surface in the box exactly when they are in the whole grid, since the
// masks are empty outside the box. The 95th percentile is found by
// selection, not sorting. Buffers live in the [Workspace] and are reused.
//
// Definitions:
//   - A mask's surface is its voxels with at least one of their 6 face
//     neighbours outside the mask; voxels on the grid's faces count as
//     surface (outside the grid is background).
//   - The directed surface distances from A to B are, for every surface
//     voxel of A, the distance between its centre and the nearest centre of
//     a surface voxel of B.
//   - Empty masks: when both are empty every metric is NaN (nothing to
//     compare); when exactly one is empty, Dice, Jaccard and NSD are 0 and
//     the distances are +Inf.
package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sync"
)

// ErrGrid means a grid or a mask does not describe a usable 3D volume.
var ErrGrid = errors.New("invalid grid")

// Grid is a 3D voxel grid. Axes are ordered slowest first, as in a C-order
// array (z, y, x): voxel (i, j, k) is element (i*Dims[1]+j)*Dims[2]+k of a
// mask.
type Grid struct {
	// Dims are the number of voxels along each axis.
	Dims [3]int
	// Spacing is the distance in mm between voxel centres along each axis.
	Spacing [3]float64
}

// Len returns the number of voxels of g.
func (g Grid) Len() int { return g.Dims[0] * g.Dims[1] * g.Dims[2] }

// check returns an error unless g and the masks fit.
func (g Grid) check(masks ...[]bool) error {
	for a := range 3 {
		if g.Dims[a] <= 0 || !(g.Spacing[a] > 0) || math.IsInf(g.Spacing[a], 0) {
			return fmt.Errorf("%w: dims %v, spacing %v: want positive sizes and spacings",
				ErrGrid, g.Dims, g.Spacing)
		}
	}
	if g.Len() > math.MaxInt32 {
		return fmt.Errorf("%w: dims %v: over %d voxels", ErrGrid, g.Dims, math.MaxInt32)
	}
	for _, m := range masks {
		if len(m) != g.Len() {
			return fmt.Errorf("%w: mask of %d voxels on a grid of %d", ErrGrid, len(m), g.Len())
		}
	}
	return nil
}

// Result holds the agreement between two masks A and B.
type Result struct {
	// VoxelsA and VoxelsB count the voxels of each mask; Intersection
	// those of both.
	VoxelsA, VoxelsB, Intersection int
	// Dice is 2|A∩B| / (|A|+|B|).
	Dice float64
	// Jaccard is |A∩B| / |A∪B|.
	Jaccard float64
	// HausdorffMM is the largest directed surface distance either way.
	HausdorffMM float64
	// HD95MM is the larger of the two directed 95th percentiles of the
	// surface distances: max(P95(d(A→B)), P95(d(B→A))), the percentiles
	// interpolated linearly between ranks (numpy's default). This is the
	// definition of MONAI (compute_hausdorff_distance with percentile 95)
	// and of MetricsReloaded; other tools (for example some challenge
	// evaluation scripts) take the 95th percentile of the pooled distances
	// or average the two directed values, which gives smaller numbers.
	HD95MM float64
	// ASSDMM is the average symmetric surface distance: the mean of all
	// directed surface distances of both directions together.
	ASSDMM float64
	// NSD is the normalized surface Dice at NSDToleranceMM: the share of
	// both surfaces' voxels that lie within the tolerance of the other
	// surface (Nikolov et al. 2021, voxel-count form).
	NSD            float64
	NSDToleranceMM float64
}

// Compare computes every metric of a and b on grid g, with the normalized
// surface Dice at tolerance mm. It is [Workspace.Compare] with a workspace
// from a pool; crop the grid to the masks' bounding box first (a box
// holding every voxel of both masks gives the same values).
func Compare(g Grid, a, b []bool, tolerance float64) (Result, error) {
	w := workspaces.Get().(*Workspace)
	defer workspaces.Put(w)
	return w.Compare(g, a, b, tolerance)
}

// workspaces holds the buffers of finished Compare calls for the next.
var workspaces = sync.Pool{New: func() any { return new(Workspace) }}

// Workspace holds the buffers of [Workspace.Compare] so that a sequence of
// comparisons (every segment of a SEG against its peers) allocates them
// once, at the size of the largest grid. The zero value is ready to use.
// A Workspace is not safe for concurrent use.
type Workspace struct {
	a, b     []bool    // masks handed out by Masks
	ba, bb   []uint64  // packed masks (see Bits)
	qa, qb   []int32   // surface voxels of A and B, by index
	dist     []float64 // squared distances of one plane
	dab, dba []float64 // directed surface distances
	colStart []int32   // asked voxels of one plane by column
	rows     []int32
	loc      []int32 // asked voxels of one plane, in a window's indices
	pos      []int32
	// featStart, feats and featNext list the planes of the target surface
	// along every line of axis 0 (see axis0).
	featStart, featNext, feats []int32
	line                       *line
}

// Masks returns two all-false masks of g's size that stay valid until the
// next call of Masks. Filling them and passing them to [Workspace.Compare]
// saves allocating the masks of every comparison.
func (w *Workspace) Masks(g Grid) (a, b []bool) {
	n := max(g.Len(), 0)
	w.a, w.b = grow(w.a, n), grow(w.b, n)
	clear(w.a)
	clear(w.b)
	return w.a, w.b
}

// Stride returns the number of 64-bit words of one row (fixed axes 0 and
// 1) of a packed mask of g: [Bits] layout.
func (g Grid) Stride() int { return (g.Dims[2] + 63) / 64 }

// Bits is the layout of a packed mask of a grid g: each row of g.Dims[2]
// voxels starts a new word, and voxel (i, j, k) is bit k%64 (from the
// least significant) of word (i*Dims[1]+j)*g.Stride() + k/64. The bits past
// the end of a row must stay clear. Packed masks take one bit a voxel and
// let the surfaces be found 64 voxels at a time.
type Bits []uint64

// BitMasks returns two clear packed masks of g ([Bits] layout) that stay
// valid until the next call of BitMasks; fill them with [Bits.SetRun] and
// pass them to [Workspace.CompareBits].
func (w *Workspace) BitMasks(g Grid) (a, b Bits) {
	n := max(g.Dims[0]*g.Dims[1]*g.Stride(), 0)
	w.ba, w.bb = grow(w.ba, n), grow(w.bb, n)
	clear(w.ba)
	clear(w.bb)
	return w.ba, w.bb
}

// SetRun sets the n voxels (i, j, k), ..., (i, j, k+n-1) of m, a packed
// mask of g. It panics outside the grid, as a slice index would.
func (m Bits) SetRun(g Grid, i, j, k, n int) {
	if k < 0 || k+n > g.Dims[2] {
		panic("metrics: run outside the row")
	}
	p := (i*g.Dims[1]+j)*g.Stride()*64 + k
	for n > 0 {
		off := uint(p) & 63
		take := min(64-int(off), n)
		mask := ^uint64(0)
		if take < 64 {
			mask = (1<<uint(take) - 1) << off
		}
		m[p>>6] |= mask
		p += take
		n -= take
	}
}

// pack returns m as packed bits of g in out, reallocated when short.
func pack(g Grid, m []bool, out []uint64) []uint64 {
	st := g.Stride()
	out = grow(out, g.Dims[0]*g.Dims[1]*st)
	clear(out)
	nx := g.Dims[2]
	for row := range g.Dims[0] * g.Dims[1] {
		words := out[row*st : (row+1)*st]
		for x, v := range m[row*nx : (row+1)*nx] {
			if v {
				words[x>>6] |= 1 << (uint(x) & 63)
			}
		}
	}
	return out
}

// Compare computes every metric of a and b on grid g, with the normalized
// surface Dice at tolerance mm; see the package documentation for the
// algorithm and definitions. It packs the masks and calls
// [Workspace.CompareBits].
func (w *Workspace) Compare(g Grid, a, b []bool, tolerance float64) (Result, error) {
	if err := g.check(a, b); err != nil {
		return Result{}, err
	}
	w.ba, w.bb = pack(g, a, w.ba), pack(g, b, w.bb)
	return w.CompareBits(g, w.ba, w.bb, tolerance)
}

// CompareBits is [Workspace.Compare] on packed masks ([Bits] layout),
// which may be those of [Workspace.BitMasks].
func (w *Workspace) CompareBits(g Grid, a, b Bits, tolerance float64) (Result, error) {
	if err := g.check(); err != nil {
		return Result{}, err
	}
	if n := g.Dims[0] * g.Dims[1] * g.Stride(); len(a) != n || len(b) != n {
		return Result{}, fmt.Errorf("%w: packed masks of %d and %d words on a grid of %d",
			ErrGrid, len(a), len(b), n)
	}
	if tolerance < 0 || math.IsNaN(tolerance) {
		return Result{}, fmt.Errorf("%w: tolerance %v: want at least 0", ErrGrid, tolerance)
	}
	r := Result{NSDToleranceMM: tolerance}
	for i, x := range a {
		y := b[i]
		r.VoxelsA += bits.OnesCount64(x)
		r.VoxelsB += bits.OnesCount64(y)
		r.Intersection += bits.OnesCount64(x & y)
	}

	switch {
	case r.VoxelsA == 0 && r.VoxelsB == 0:
		nan := math.NaN()
		r.Dice, r.Jaccard, r.HausdorffMM, r.HD95MM, r.ASSDMM, r.NSD = nan, nan, nan, nan, nan,
			nan
		return r, nil
	case r.VoxelsA == 0 || r.VoxelsB == 0:
		inf := math.Inf(1)
		r.HausdorffMM, r.HD95MM, r.ASSDMM = inf, inf, inf
		return r, nil
	}
	r.Dice = 2 * float64(r.Intersection) / float64(r.VoxelsA+r.VoxelsB)
	r.Jaccard = float64(r.Intersection) / float64(r.VoxelsA+r.VoxelsB-r.Intersection)
	if r.Intersection == r.VoxelsA && r.Intersection == r.VoxelsB {
		// The same mask: the surfaces coincide and every distance is 0.
		r.NSD = 1
		return r, nil
	}

	w.qa = surfaceBits(g, a, w.qa[:0])
	w.qb = surfaceBits(g, b, w.qb[:0])
	w.dab = w.directed(g, w.qa, w.qb, w.dab[:0])
	w.dba = w.directed(g, w.qb, w.qa, w.dba[:0])

	var sum float64
	within := 0
	for _, d := range [][]float64{w.dab, w.dba} {
		for _, x := range d {
			sum += x
			if x <= tolerance {
				within++
			}
			r.HausdorffMM = max(r.HausdorffMM, x)
		}
	}
	r.HD95MM = math.Max(selectPercentile(w.dab, 95), selectPercentile(w.dba, 95))
	total := float64(len(w.dab) + len(w.dba))
	r.ASSDMM = sum / total
	r.NSD = float64(within) / total
	return r, nil
}

// surfaceBits appends to list the index of every surface voxel of the
// packed mask m, in increasing order. A voxel is inside when it and its
// six face neighbours are set; the words outside the grid and the bits
// past a row's end are clear, so voxels on the grid's faces are surface.
// Each word tests 64 voxels of a row against the rows above, below, before
// and after it and against itself shifted by one voxel either way.
func surfaceBits(g Grid, m Bits, list []int32) []int32 {
	nz, ny, nx := g.Dims[0], g.Dims[1], g.Dims[2]
	st := g.Stride()
	for z := range nz {
		for y := range ny {
			row := (z*ny + y) * st
			cur := m[row : row+st]
			// A row on a face of the grid has no neighbour there: all of
			// its voxels are surface.
			edge := z == 0 || z == nz-1 || y == 0 || y == ny-1
			for wi, c := range cur {
				if c == 0 {
					continue
				}
				s := c
				if !edge {
					l := c << 1
					if wi > 0 {
						l |= cur[wi-1] >> 63
					}
					r := c >> 1
					if wi+1 < st {
						r |= cur[wi+1] << 63
					}
					in := c & l & r & m[row-st+wi] & m[row+st+wi] &
						m[row-ny*st+wi] & m[row+ny*st+wi]
					s = c &^ in
				}
				base := (z*ny+y)*nx + wi*64
				for s != 0 {
					list = append(list, int32(base+bits.TrailingZeros64(s)))
					s &= s - 1
				}
			}
		}
	}
	return list
}

// directed appends to out the distance from every voxel of from to the
// nearest voxel of to (both indices in increasing order).
//
// It is the transform of [SquaredEDT] with its passes reordered and cut
// down to what is asked, one plane of axis 0 at a time, for the planes
// that hold a voxel of from: the distance along axis 0 comes from the
// sorted planes of to on each line of axis 0 ([Workspace.axis0]); the pass
// along axis 2 runs on the rows of the plane; the last pass, along axis 1,
// runs only on the columns that hold a voxel of from and reads its
// envelope only there. Only one plane of distances is held.
//
// Each plane is first computed on a window: the box of its asked voxels
// grown by a margin. Voxels of to outside the window are left out, which
// can only lengthen distances; but such a voxel lies at least as far as
// the window's edge, so a distance no longer than the way from its voxel
// to the nearest edge the window cut is exact. When one is longer, the
// plane is computed again on the whole grid. The margin follows the
// longest distance of the plane before, so few planes are done twice.
func (w *Workspace) directed(g Grid, from, to []int32, out []float64) []float64 {
	nz, ny, nx := g.Dims[0], g.Dims[1], g.Dims[2]
	if w.line == nil || w.line.n < max(nz, ny, nx) {
		w.line = newLine(max(nz, ny, nx))
	}
	plane := ny * nx
	w.dist = grow(w.dist, plane)
	w.featureLines(plane, to)
	w.colStart = grow(w.colStart, nx+1)

	step := min(g.Spacing[1], g.Spacing[2])
	margin := 8
	for i := 0; i < len(from); {
		z := int(from[i]) / plane
		j := i
		win := window{y0: ny, x0: nx}
		for ; j < len(from) && int(from[j])/plane == z; j++ {
			y, x := int(from[j])%plane/nx, int(from[j])%nx
			win.y0, win.y1 = min(win.y0, y), max(win.y1, y+1)
			win.x0, win.x1 = min(win.x0, x), max(win.x1, x+1)
		}
		win = window{y0: max(win.y0-margin, 0), y1: min(win.y1+margin, ny),
			x0: max(win.x0-margin, 0), x1: min(win.x1+margin, nx)}
		mark := len(out)
		var ok bool
		out, ok = w.planeDistances(g, z, from[i:j], win, out)
		if !ok {
			out = out[:mark]
			out, _ = w.planeDistances(g, z, from[i:j], window{0, ny, 0, nx}, out)
		}
		longest := 0.0
		for _, v := range out[mark:] {
			longest = max(longest, v)
		}
		margin = max(int(math.Ceil(longest/step))+2, 4)
		i = j
	}
	return out
}

// window is a box of one plane: rows y0 to y1-1, columns x0 to x1-1.
type window struct{ y0, y1, x0, x1 int }

// planeDistances appends to out the distances of the voxels vox of plane
// z (indices in increasing order) to the nearest voxel of the target,
// computed on window win of the plane. ok is false when a distance may
// be too long because of the window (see [Workspace.directed]); then out
// holds distances of some of the voxels, to be dropped.
func (w *Workspace) planeDistances(g Grid, z int, vox []int32, win window,
	out []float64) ([]float64, bool) {
	ny, nx := g.Dims[1], g.Dims[2]
	wy, wx := win.y1-win.y0, win.x1-win.x0
	d := w.dist[:wy*wx]
	w.axis0(int32(z), g.Spacing[0], win, nx, d)
	for y := range wy {
		w.line.transform(d[y*wx:(y+1)*wx], g.Spacing[2])
	}

	// The voxels in the window's own indices, still in increasing order.
	w.loc = w.loc[:0]
	for _, v := range vox {
		p := int(v) % (ny * nx)
		w.loc = append(w.loc, int32((p/nx-win.y0)*wx+p%nx-win.x0))
	}
	w.byColumn(w.loc, 0, wx)
	mark := len(out)
	out = w.columns(d, wx, wy, g.Spacing[1], out)
	if len(out)-mark != len(vox) {
		return out, false // a column of the window holds no target
	}

	// Check each distance against the edges the window cut; the columns
	// gave them column by column, rows in order.
	if win == (window{0, ny, 0, nx}) {
		return out, true
	}
	inf := math.Inf(1)
	k := mark
	for x := range wx {
		for _, y := range w.rows[w.colStart[x]:w.colStart[x+1]] {
			edge := inf
			if win.y0 > 0 {
				edge = min(edge, float64(y+1)*g.Spacing[1])
			}
			if win.y1 < ny {
				edge = min(edge, float64(wy-int(y))*g.Spacing[1])
			}
			if win.x0 > 0 {
				edge = min(edge, float64(x+1)*g.Spacing[2])
			}
			if win.x1 < nx {
				edge = min(edge, float64(wx-x)*g.Spacing[2])
			}
			if out[k] > edge {
				return out, false
			}
			k++
		}
	}
	return out, true
}

// featureLines lists, for every line of axis 0 (position p = j*Dims[2]+k
// in a plane), the planes of the voxels of to on it, in increasing order:
// w.feats[w.featStart[p]:w.featStart[p+1]]. w.featNext[p] starts at the
// first of them; [Workspace.axis0] moves it forward.
func (w *Workspace) featureLines(plane int, to []int32) {
	start := grow(w.featStart, plane+1)
	clear(start)
	for _, v := range to {
		start[int(v)%plane+1]++
	}
	for p := range plane {
		start[p+1] += start[p]
	}
	next := grow(w.featNext, plane)
	copy(next, start[:plane])
	feats := grow(w.feats, len(to))
	for _, v := range to {
		p := int(v) % plane
		feats[next[p]] = int32(int(v) / plane)
		next[p]++
	}
	copy(next, start[:plane])
	w.featStart, w.featNext, w.feats = start, next, feats
}

// axis0 writes into d the squared distance in mm², with spacing s along
// axis 0, from every voxel of window win of plane z (rows of nx voxels)
// to the nearest voxel of the target on its line of axis 0, or +Inf when
// the line has none; d holds the window row by row. Planes must come in
// increasing order: each line's pointer only moves forward, so all planes
// together cost at most one pass over the lines per plane and one over the
// target's voxels. Steps are counted in whole numbers and scaled as
// [SquaredEDT]'s sweep scales them, so both give the same values.
func (w *Workspace) axis0(z int32, s float64, win window, nx int, d []float64) {
	inf := math.Inf(1)
	start, next, feats := w.featStart, w.featNext, w.feats
	wx := win.x1 - win.x0
	for y := win.y0; y < win.y1; y++ {
		row := d[(y-win.y0)*wx : (y-win.y0+1)*wx]
		p0 := y*nx + win.x0
		for x := range row {
			p := p0 + x
			q, end := next[p], start[p+1]
			if q == end {
				row[x] = inf
				continue
			}
			for q+1 < end && feats[q+1] <= z {
				q++
			}
			next[p] = q
			k := feats[q] - z
			if k < 0 {
				k = -k
				if q+1 < end {
					k = min(k, feats[q+1]-z)
				}
			}
			v := float64(k)
			row[x] = (v * s) * (v * s)
		}
	}
}

// byColumn sorts the voxels of one plane (indices from base, in increasing
// order) by column: the rows of column x are w.rows[w.colStart[x]:
// w.colStart[x+1]], in increasing order.
func (w *Workspace) byColumn(vox []int32, base, nx int) {
	start := w.colStart
	clear(start)
	for _, v := range vox {
		start[(int(v)-base)%nx+1]++
	}
	for x := range nx {
		start[x+1] += start[x]
	}
	w.rows = grow(w.rows, len(vox))
	w.pos = append(w.pos[:0], start...)
	for _, v := range vox {
		x := (int(v) - base) % nx
		w.rows[w.pos[x]] = int32((int(v) - base) / nx)
		w.pos[x]++
	}
}

// columns runs the transform along axis 1 of one plane p (ny rows of nx)
// on the columns that hold asked voxels (w.colStart, w.rows), gathering
// lineGroup neighbouring columns at a time, and appends the distances of
// the asked voxels to out.
func (w *Workspace) columns(p []float64, nx, ny int, s float64, out []float64) []float64 {
	t := w.line
	for x0 := 0; x0 < nx; x0 += lineGroup {
		wd := min(lineGroup, nx-x0)
		if w.colStart[x0] == w.colStart[x0+wd] {
			continue // no asked voxel in these columns
		}
		for q := range ny {
			for j, v := range p[q*nx+x0 : q*nx+x0+wd] {
				t.buf[j*ny+q] = v
			}
		}
		for j := range wd {
			qs := w.rows[w.colStart[x0+j]:w.colStart[x0+j+1]]
			if len(qs) == 0 || !t.envelope(t.buf[j*ny:(j+1)*ny], s) {
				continue
			}
			start := len(out)
			out = t.at(qs, s, out)
			for k := start; k < len(out); k++ {
				out[k] = math.Sqrt(out[k])
			}
		}
	}
	return out
}

// grow returns s with length n, reallocated only when too short.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// selectPercentile returns [Percentile] of v as if v were sorted, in time
// linear in len(v) on average; it reorders v.
func selectPercentile(v []float64, p float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	pos := p / 100 * float64(len(v)-1)
	lo := int(math.Floor(pos))
	if lo >= len(v)-1 {
		return slices.Max(v)
	}
	nth(v, lo)
	// After nth, v[lo+1:] holds the values at ranks above lo.
	next := slices.Min(v[lo+1:])
	frac := pos - float64(lo)
	return v[lo] + frac*(next-v[lo])
}

// nth reorders v so that v[k] is the value of rank k (0-based), with no
// greater value before it and no smaller one after. It partitions three
// ways around a median of three, so runs of equal values (distances repeat
// often on a grid) cost no extra passes.
func nth(v []float64, k int) {
	lo, hi := 0, len(v)
	for hi-lo > 1 {
		a, b, c := v[lo], v[lo+(hi-lo)/2], v[hi-1]
		pivot := max(min(a, b), min(max(a, b), c))
		// v[lo:lt] < pivot, v[lt:i] == pivot, v[gt:hi] > pivot.
		lt, i, gt := lo, lo, hi
		for i < gt {
			switch x := v[i]; {
			case x < pivot:
				v[lt], v[i] = v[i], v[lt]
				lt++
				i++
			case x > pivot:
				gt--
				v[gt], v[i] = v[i], v[gt]
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k >= gt:
			lo = gt
		default:
			return
		}
	}
}

// Percentile returns the p-th percentile (0 to 100) of sorted values,
// interpolated linearly between the closest ranks as numpy.percentile does
// by default. It is NaN for no values.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := p / 100 * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(lo)
	return sorted[lo] + frac*(sorted[lo+1]-sorted[lo])
}

// Surface returns the surface of m: its voxels with a face neighbour
// outside m or outside the grid.
func Surface(g Grid, m []bool) []bool {
	out := make([]bool, len(m))
	surface(g, m, out, nil)
	return out
}

// surface writes the surface of m into out (of m's length) and appends
// the index of every surface voxel to list, in increasing order.
func surface(g Grid, m, out []bool, list []int32) []int32 {
	nz, ny, nx := g.Dims[0], g.Dims[1], g.Dims[2]
	plane := ny * nx
	for z := range nz {
		for y := range ny {
			row := (z*ny + y) * nx
			cur := m[row : row+nx]
			o := out[row : row+nx]
			// Voxels on the grid's faces are surface wherever they are set.
			if z == 0 || z == nz-1 || y == 0 || y == ny-1 || nx <= 2 {
				copy(o, cur)
			} else {
				up, down := m[row-nx:row], m[row+nx:row+2*nx]
				front, back := m[row-plane:row-plane+nx], m[row+plane:row+plane+nx]
				o[0], o[nx-1] = cur[0], cur[nx-1]
				for x := 1; x < nx-1; x++ {
					// Interior: all six neighbours set.
					in := cur[x-1] && cur[x+1]
					in = in && up[x] && down[x] && front[x] && back[x]
					o[x] = cur[x] && !in
				}
			}
			for x, s := range o {
				if s {
					list = append(list, int32(row+x))
				}
			}
		}
	}
	return list
}
