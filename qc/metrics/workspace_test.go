package metrics

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
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
		// Rows of more than one 64-bit word, and of exactly one; spacings
		// with no distance on the 1.5 mm tolerance, where rounding decides.
		{Dims: [3]int{4, 5, 130}, Spacing: [3]float64{1.3, 0.7, 0.45}},
		{Dims: [3]int{5, 4, 64}, Spacing: [3]float64{0.9, 1.1, 0.3}},
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

// TestCompareBits fills packed masks run by run, with runs that cross
// 64-bit words and end on a row's last voxel, and checks that the results
// equal those of the same masks as bools, and that misfit masks fail.
func TestCompareBits(t *testing.T) {
	g := Grid{Dims: [3]int{3, 4, 150}, Spacing: [3]float64{2, 0.8, 0.6}}
	type run struct{ i, j, k, n int }
	tests := []struct {
		name string
		a, b []run
	}{
		{"crossing words", []run{{1, 1, 10, 120}, {1, 2, 60, 10}, {2, 1, 63, 2}},
			[]run{{1, 1, 20, 100}, {0, 1, 0, 150}}},
		{"row ends", []run{{0, 0, 149, 1}, {1, 3, 128, 22}},
			[]run{{2, 3, 0, 150}, {1, 3, 140, 10}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w, ref Workspace
			pa, pb := w.BitMasks(g)
			ba, bb := make([]bool, g.Len()), make([]bool, g.Len())
			for _, side := range []struct {
				runs []run
				bits Bits
				bool []bool
			}{{tt.a, pa, ba}, {tt.b, pb, bb}} {
				for _, r := range side.runs {
					side.bits.SetRun(g, r.i, r.j, r.k, r.n)
					for k := r.k; k < r.k+r.n; k++ {
						side.bool[(r.i*g.Dims[1]+r.j)*g.Dims[2]+k] = true
					}
				}
			}
			got, err := w.CompareBits(g, pa, pb, 1)
			if err != nil {
				t.Fatalf("CompareBits() error: %v", err)
			}
			want, err := ref.Compare(g, ba, bb, 1)
			if err != nil {
				t.Fatalf("Compare() error: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("CompareBits() mismatch (-Compare +CompareBits):\n%s", diff)
			}
			dab, dba := bruteDirected(g, ba, bb), bruteDirected(g, bb, ba)
			wantHD := max(dab[len(dab)-1], dba[len(dba)-1])
			if !approxEqual(got.HausdorffMM, wantHD) {
				t.Errorf("CompareBits() HD = %.17g, want %.17g", got.HausdorffMM, wantHD)
			}
		})
	}

	var w Workspace
	pa, _ := w.BitMasks(g)
	if _, err := w.CompareBits(g, pa, pa[1:], 1); !errors.Is(err, ErrGrid) {
		t.Errorf("CompareBits(short mask) error = %v, want %v", err, ErrGrid)
	}
}

// TestWorkspaceWindows checks the windowed planes of the directed
// distances against brute force: masks in small parts of large planes,
// near each other (the window holds the nearest voxels), far apart (every
// window is too small and the planes are done again whole), and one far
// voxel among near ones.
func TestWorkspaceWindows(t *testing.T) {
	g := Grid{Dims: [3]int{6, 60, 70}, Spacing: [3]float64{1.3, 0.7, 0.45}}
	r := rand.New(rand.NewPCG(5, 6))
	// blobIn returns a random blob limited to rows y0..y1-1 and columns
	// x0..x1-1 of every plane.
	blobIn := func(y0, y1, x0, x1 int) []bool {
		m := randomBlob(g, r, 0.5)
		for i := range m {
			y, x := i/g.Dims[2]%g.Dims[1], i%g.Dims[2]
			m[i] = m[i] && y >= y0 && y < y1 && x >= x0 && x < x1
		}
		return m
	}
	tests := []struct {
		name string
		a, b []bool
	}{
		{"near", blobIn(20, 30, 20, 35), blobIn(22, 34, 18, 30)},
		{"far", blobIn(2, 10, 3, 12), blobIn(45, 58, 50, 68)},
		// A is row 25, columns 20-40 of plane 2; its first window, grown
		// by 8 voxels, holds B's voxel at row 17, column 12, but not the
		// nearer one at row 25, column 50, which only the whole plane finds.
		{"nearest outside the window", func() []bool {
			m := make([]bool, g.Len())
			for x := 20; x <= 40; x++ {
				m[(2*g.Dims[1]+25)*g.Dims[2]+x] = true
			}
			return m
		}(), func() []bool {
			m := make([]bool, g.Len())
			m[(2*g.Dims[1]+17)*g.Dims[2]+12] = true
			m[(2*g.Dims[1]+25)*g.Dims[2]+50] = true
			return m
		}()},
		{"one far voxel", blobIn(20, 30, 20, 35), func() []bool {
			m := blobIn(21, 31, 22, 36)
			m[(3*g.Dims[1]+59)*g.Dims[2]+69] = true
			return m
		}()},
	}
	var w Workspace
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := w.Compare(g, tt.a, tt.b, 2)
			if err != nil {
				t.Fatalf("Compare() error: %v", err)
			}
			dab, dba := bruteDirected(g, tt.a, tt.b), bruteDirected(g, tt.b, tt.a)
			var sum float64
			for _, x := range append(slices.Clone(dab), dba...) {
				sum += x
			}
			for _, m := range []struct {
				name      string
				got, want float64
			}{
				{"HD", got.HausdorffMM, max(dab[len(dab)-1], dba[len(dba)-1])},
				{"HD95", got.HD95MM, max(Percentile(dab, 95), Percentile(dba, 95))},
				{"ASSD", got.ASSDMM, sum / float64(len(dab)+len(dba))},
			} {
				if !approxEqual(m.got, m.want) {
					t.Errorf("Compare(%s) %s = %.17g, want %.17g", tt.name, m.name, m.got,
						m.want)
				}
			}
		})
	}
}
