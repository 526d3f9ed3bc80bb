package metrics

import "math"

// SquaredEDT returns, for every voxel of g, the squared Euclidean distance
// in mm² between its centre and the centre of the nearest feature voxel
// (true in features), with g's spacing per axis. Without any feature voxel
// every value is +Inf.
//
// It runs the exact one-dimensional transform of Felzenszwalb and
// Huttenlocher along each axis in turn: the lower envelope of the parabolas
// (x - x_i)² + f(x_i) rooted at the finite samples, with x in mm. Time and
// extra memory are linear in the number of voxels.
func SquaredEDT(g Grid, features []bool) []float64 {
	d := make([]float64, len(features))
	for i, f := range features {
		if !f {
			d[i] = math.Inf(1)
		}
	}
	nz, ny, nx := g.Dims[0], g.Dims[1], g.Dims[2]
	n := max(nz, ny, nx)
	t := newLine(n)

	// Along x: lines are contiguous.
	for z := range nz {
		for y := range ny {
			base := (z*ny + y) * nx
			t.transform(d, base, 1, nx, g.Spacing[2])
		}
	}
	// Along y: stride nx.
	for z := range nz {
		for x := range nx {
			t.transform(d, z*ny*nx+x, nx, ny, g.Spacing[1])
		}
	}
	// Along z: stride ny*nx.
	for y := range ny {
		for x := range nx {
			t.transform(d, y*nx+x, ny*nx, nz, g.Spacing[0])
		}
	}
	return d
}

// line holds the scratch space of the one-dimensional transform.
type line struct {
	f []float64 // the samples of the line
	v []int     // roots of the envelope's parabolas
	z []float64 // boundaries between them, in mm
}

func newLine(n int) *line {
	return &line{f: make([]float64, n), v: make([]int, n), z: make([]float64, n+1)}
}

// transform replaces the n samples of d at base, base+stride, ... by their
// one-dimensional squared distance transform with sample spacing s.
func (t *line) transform(d []float64, base, stride, n int, s float64) {
	f := t.f[:n]
	for q := range n {
		f[q] = d[base+q*stride]
	}

	// Build the lower envelope of the parabolas rooted at finite samples.
	k := -1
	for q := range n {
		if math.IsInf(f[q], 1) {
			continue
		}
		xq := float64(q) * s
		if k < 0 {
			k = 0
			t.v[0], t.z[0], t.z[1] = q, math.Inf(-1), math.Inf(1)
			continue
		}
		// Drop the parabolas the new one hides; z[0] is -Inf, so the first
		// one always stays.
		var x float64
		for {
			p := t.v[k]
			xp := float64(p) * s
			x = ((f[q] + xq*xq) - (f[p] + xp*xp)) / (2 * (xq - xp))
			if x > t.z[k] {
				break
			}
			k--
		}
		k++
		t.v[k], t.z[k], t.z[k+1] = q, x, math.Inf(1)
	}
	if k < 0 {
		return // no finite sample: the line stays +Inf
	}

	// Read the envelope at every sample.
	j := 0
	for q := range n {
		xq := float64(q) * s
		for t.z[j+1] < xq {
			j++
		}
		dx := xq - float64(t.v[j])*s
		d[base+q*stride] = dx*dx + f[t.v[j]]
	}
}
