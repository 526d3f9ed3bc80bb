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
// Algorithm of [Workspace.Compare]: Dice and Jaccard count voxels. Equal
// masks return at once (every surface distance is 0). Otherwise the two
// surfaces are found, and each directed distance set from surface A to
// surface B takes one transform of B's surface, evaluated only at A's
// surface voxels:
//  1. along axis 0, a forward and a backward sweep of whole planes give
//     each voxel the steps to the nearest feature of its line (exact for a
//     binary input, and contiguous in memory);
//  2. along axis 2, the lower envelope of parabolas, on the contiguous rows
//     of the planes that hold voxels of A;
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
	a, b         []bool    // masks handed out by Masks
	surfA, surfB []bool    // surfaces
	qa, qb       []int32   // surface voxels of A and B, by index
	dist         []float64 // squared distances of one transform
	dab, dba     []float64 // directed surface distances
	colStart     []int32   // asked voxels of one plane by column
	rows, pos    []int32
	line         *line
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

// Compare computes every metric of a and b on grid g, with the normalized
// surface Dice at tolerance mm; see the package documentation for the
// algorithm and definitions.
func (w *Workspace) Compare(g Grid, a, b []bool, tolerance float64) (Result, error) {
	if err := g.check(a, b); err != nil {
		return Result{}, err
	}
	if tolerance < 0 || math.IsNaN(tolerance) {
		return Result{}, fmt.Errorf("%w: tolerance %v: want at least 0", ErrGrid, tolerance)
	}
	r := Result{NSDToleranceMM: tolerance}
	for i, x := range a {
		y := b[i]
		if x {
			r.VoxelsA++
			if y {
				r.Intersection++
			}
		}
		if y {
			r.VoxelsB++
		}
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

	n := g.Len()
	w.surfA, w.surfB = grow(w.surfA, n), grow(w.surfB, n)
	w.qa = surface(g, a, w.surfA, w.qa[:0])
	w.qb = surface(g, b, w.surfB, w.qb[:0])
	w.dab = w.directed(g, w.qa, w.surfB, w.dab[:0])
	w.dba = w.directed(g, w.qb, w.surfA, w.dba[:0])

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

// directed appends to out the distance from every voxel of from (indices
// in increasing order) to the nearest voxel of the surface to.
//
// It is the transform of [SquaredEDT] with its passes reordered and its
// last pass cut down to what is asked: after the sweep along axis 0, the
// pass along axis 2 runs on the contiguous rows of the planes that hold a
// voxel of from, and the last pass, along axis 1, runs only on the columns
// that hold one and reads its envelope only there.
func (w *Workspace) directed(g Grid, from []int32, to []bool, out []float64) []float64 {
	nz, ny, nx := g.Dims[0], g.Dims[1], g.Dims[2]
	if w.line == nil || len(w.line.f) < max(nz, ny, nx) {
		w.line = newLine(max(nz, ny, nx))
	}
	t := w.line
	w.dist = grow(w.dist, g.Len())
	d := w.dist
	sweepAxis0(g, to, d)

	plane := ny * nx
	w.colStart = grow(w.colStart, nx+1)
	for i := 0; i < len(from); {
		z := int(from[i]) / plane
		j := i
		for j < len(from) && int(from[j])/plane == z {
			j++
		}
		base := z * plane
		for y := range ny {
			t.transform(d[base+y*nx:base+(y+1)*nx], g.Spacing[2])
		}
		w.byColumn(from[i:j], base, nx)
		out = w.columns(d[base:base+plane], nx, ny, g.Spacing[1], out)
		i = j
	}
	return out
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
