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
	t := newLine(max(nz, ny, nx))

	// Along x: lines are contiguous.
	for z := range nz {
		for y := range ny {
			t.transform(d, (z*ny+y)*nx, 1, nx, g.Spacing[2])
		}
	}
	// Along y and z, lines are strided: they are done in groups of
	// neighbouring x, so that each cache line read serves several lines.
	for z := range nz {
		t.strided(d, z*ny*nx, nx, ny, nx, g.Spacing[1])
	}
	for y := range ny {
		t.strided(d, y*nx, ny*nx, nz, nx, g.Spacing[0])
	}
	return d
}

// lineGroup is how many neighbouring lines strided transforms take at once:
// 8 float64 fill a 64-byte cache line.
const lineGroup = 8

// strided transforms the width lines of n samples that start at base, base+1,
// ..., each with stride stride, lineGroup lines at a time.
func (t *line) strided(d []float64, base, stride, n, width int, s float64) {
	for x0 := 0; x0 < width; x0 += lineGroup {
		w := min(lineGroup, width-x0)
		// Gather: buf[j*n+q] is sample q of line x0+j.
		for q := range n {
			row := d[base+q*stride+x0 : base+q*stride+x0+w]
			for j, v := range row {
				t.buf[j*n+q] = v
			}
		}
		for j := range w {
			t.transform(t.buf[j*n:(j+1)*n], 0, 1, n, s)
		}
		for q := range n {
			row := d[base+q*stride+x0 : base+q*stride+x0+w]
			for j := range row {
				row[j] = t.buf[j*n+q]
			}
		}
	}
}

// line holds the scratch space of the one-dimensional transform.
type line struct {
	buf []float64 // lineGroup gathered lines
	f   []float64 // the samples of the line
	v   []int     // roots of the envelope's parabolas
	z   []float64 // boundaries between them, in mm
}

func newLine(n int) *line {
	return &line{buf: make([]float64, lineGroup*n), f: make([]float64, n), v: make([]int, n),
		z: make([]float64, n+1)}
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
