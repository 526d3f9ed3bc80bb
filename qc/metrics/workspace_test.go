package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteDirected returns the sorted distances from every surface voxel of a
// to the nearest surface voxel of b, by trying every pair.
func bruteDirected(g Grid, a, b []bool) []float64 {
	sa, sb := Surface(g, a), Surface(g, b)
	coords := func(i int) [3]float64 {
		return [3]float64{
			float64(i/(g.Dims[1]*g.Dims[2])) * g.Spacing[0],
			float64(i/g.Dims[2]%g.Dims[1]) * g.Spacing[1],
			float64(i%g.Dims[2]) * g.Spacing[2],
		}
	}
	var out []float64
	for i, s := range sa {
		if !s {
			continue
		}
		p, best := coords(i), math.Inf(1)
		for j, t := range sb {
			if t {
				q := coords(j)
				dz, dy, dx := p[0]-q[0], p[1]-q[1], p[2]-q[2]
				best = min(best, dz*dz+dy*dy+dx*dx)
			}
		}
		out = append(out, math.Sqrt(best))
	}
	slices.Sort(out)
	return out
}

// randomBlob returns a mask of g with about share of its voxels set, in
// clumps so that it has an interior as well as a surface.
func randomBlob(g Grid, r *rand.Rand, share float64) []bool {
	m := make([]bool, g.Len())
	for i := range m {
		m[i] = r.Float64() < share
	}
	// One step of majority smoothing along x makes runs.
	out := make([]bool, len(m))
	for i := range m {
		n := 0
		for _, j := range []int{i - 1, i, i + 1} {
			if j >= 0 && j < len(m) && m[j] {
				n++
			}
		}
		out[i] = n >= 2
	}
	return out
}

// TestWorkspaceBruteForce compares a reused Workspace with distances found
// by trying every pair of surface voxels, on random masks of grids of
// several sizes and anisotropic spacings, in both directions.
func TestWorkspaceBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var w Workspace
	grids := []Grid{
		{Dims: [3]int{7, 9, 11}, Spacing: [3]float64{2.5, 0.7, 0.9}},
		{Dims: [3]int{3, 20, 5}, Spacing: [3]float64{1, 1, 1}},
		{Dims: [3]int{12, 4, 13}, Spacing: [3]float64{0.5, 3, 1.25}},
		{Dims: [3]int{1, 15, 15}, Spacing: [3]float64{5, 0.8, 0.8}},
	}
	for gi, g := range grids {
		for trial := range 5 {
			a, b := w.Masks(g)
			copy(a, randomBlob(g, r, 0.4))
			copy(b, randomBlob(g, r, 0.25+0.05*float64(trial)))
			got, err := w.Compare(g, a, b, 1.5)
			if err != nil {
				t.Fatalf("grid %d: Compare() error: %v", gi, err)
			}
			dab, dba := bruteDirected(g, a, b), bruteDirected(g, b, a)
			if len(dab) == 0 || len(dba) == 0 {
				continue
			}
			wantHD := max(dab[len(dab)-1], dba[len(dba)-1])
			wantHD95 := max(Percentile(dab, 95), Percentile(dba, 95))
			var sum float64
			within := 0
			for _, x := range append(slices.Clone(dab), dba...) {
				sum += x
				if x <= 1.5 {
					within++
				}
			}
			n := float64(len(dab) + len(dba))
			for _, m := range []struct {
				name      string
				got, want float64
			}{
				{"HD", got.HausdorffMM, wantHD}, {"HD95", got.HD95MM, wantHD95},
				{"ASSD", got.ASSDMM, sum / n}, {"NSD", got.NSD, float64(within) / n},
			} {
				if !approxEqual(m.got, m.want) {
					t.Errorf("grid %d trial %d: %s = %.17g, want %.17g", gi, trial, m.name,
						m.got, m.want)
				}
			}
		}
	}
}

// TestCompareIdentical checks the early return for equal masks against
// the general path: distances 0 and NSD 1.
func TestCompareIdentical(t *testing.T) {
	g := Grid{Dims: [3]int{4, 5, 6}, Spacing: [3]float64{2, 1, 1}}
	m := randomBlob(g, rand.New(rand.NewPCG(3, 4)), 0.5)
	got, err := Compare(g, m, slices.Clone(m), 0)
	if err != nil {
		t.Fatalf("Compare() error: %v", err)
	}
	if got.Dice != 1 || got.HausdorffMM != 0 || got.HD95MM != 0 || got.ASSDMM != 0 ||
		got.NSD != 1 {
		t.Errorf("Compare(m, m) = %+v, want Dice 1, distances 0, NSD 1", got)
	}
}

// TestSelectPercentile compares selection with sorting on random values
// with many repeats.
func TestSelectPercentile(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 3, 10, 101, 1000} {
		for _, p := range []float64{0, 50, 95, 99.9, 100} {
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(r.IntN(7)) * 0.5
			}
			sorted := slices.Sorted(slices.Values(v))
			want := Percentile(sorted, p)
			if got := selectPercentile(v, p); got != want {
				t.Errorf("selectPercentile(%d values, %v) = %v, want %v", n, p, got, want)
			}
		}
	}
}
