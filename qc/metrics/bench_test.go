package metrics

import "testing"

// benchPair returns two masks of a 300x200x200 grid: stacks of squares
// like the largest segment of package qc's benchmark SEG, the second grown
// by 3 voxels on every side and moved by one row.
func benchPair() (Grid, []bool, []bool) {
	g := Grid{Dims: [3]int{300, 200, 200}, Spacing: [3]float64{1.25, 0.7, 0.7}}
	a, b := make([]bool, g.Len()), make([]bool, g.Len())
	for z := range g.Dims[0] {
		r0, c0, side := 10+z%11, 12+z%17, 130+z%40
		for r := r0; r < r0+side; r++ {
			for c := c0; c < c0+side; c++ {
				a[(z*200+r)*200+c] = true
			}
		}
		for r := r0 - 2; r < r0+side+4; r++ {
			for c := c0 - 3; c < c0+side+3; c++ {
				b[(z*200+r)*200+c] = true
			}
		}
	}
	return g, a, b
}

// BenchmarkWorkspaceCompare compares the pair of [benchPair] (12 million
// voxels) with one reused workspace.
func BenchmarkWorkspaceCompare(b *testing.B) {
	g, ma, mb := benchPair()
	var w Workspace
	b.ReportAllocs()
	for b.Loop() {
		r, err := w.Compare(g, ma, mb, 1)
		if err != nil || r.HausdorffMM < 2.1 {
			b.Fatalf("Compare() = %+v, %v; want HD at least 2.1 mm", r, err)
		}
	}
}
