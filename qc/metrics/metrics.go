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
// surface Dice at tolerance mm. It keeps two float64 distance maps of the
// grid's size at most; crop the grid to the masks' bounding box first (a
// box holding every voxel of both masks gives the same values).
func Compare(g Grid, a, b []bool, tolerance float64) (Result, error) {
	if err := g.check(a, b); err != nil {
		return Result{}, err
	}
	if tolerance < 0 || math.IsNaN(tolerance) {
		return Result{}, fmt.Errorf("%w: tolerance %v: want at least 0", ErrGrid, tolerance)
	}
	r := Result{NSDToleranceMM: tolerance}
	for i := range a {
		if a[i] {
			r.VoxelsA++
		}
		if b[i] {
			r.VoxelsB++
		}
		if a[i] && b[i] {
			r.Intersection++
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

	sa, sb := Surface(g, a), Surface(g, b)
	dab := directed(g, sa, sb)
	dba := directed(g, sb, sa)

	r.HausdorffMM = math.Max(dab[len(dab)-1], dba[len(dba)-1])
	r.HD95MM = math.Max(Percentile(dab, 95), Percentile(dba, 95))
	var sum float64
	within := 0
	for _, d := range [][]float64{dab, dba} {
		for _, x := range d {
			sum += x
			if x <= tolerance {
				within++
			}
		}
	}
	n := float64(len(dab) + len(dba))
	r.ASSDMM = sum / n
	r.NSD = float64(within) / n
	return r, nil
}

// directed returns the sorted distances from every voxel of surface from to
// the nearest voxel of surface to.
func directed(g Grid, from, to []bool) []float64 {
	edt := SquaredEDT(g, to)
	var out []float64
	for i, s := range from {
		if s {
			out = append(out, math.Sqrt(edt[i]))
		}
	}
	slices.Sort(out)
	return out
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
	nz, ny, nx := g.Dims[0], g.Dims[1], g.Dims[2]
	at := func(z, y, x int) bool {
		if z < 0 || y < 0 || x < 0 || z >= nz || y >= ny || x >= nx {
			return false
		}
		return m[(z*ny+y)*nx+x]
	}
	for z := range nz {
		for y := range ny {
			for x := range nx {
				i := (z*ny+y)*nx + x
				if !m[i] {
					continue
				}
				out[i] = !at(z-1, y, x) || !at(z+1, y, x) || !at(z, y-1, x) ||
					!at(z, y+1, x) || !at(z, y, x-1) || !at(z, y, x+1)
			}
		}
	}
	return out
}
