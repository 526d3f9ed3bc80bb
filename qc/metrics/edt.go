package metrics

import "math"

// SquaredEDT returns, for every voxel of g, the squared Euclidean distance
// in mm² between its centre and the centre of the nearest feature voxel
// (true in features), with g's spacing per axis. Without any feature voxel
// every value is +Inf.
//
// The transform is separable and exact (see the package documentation):
// along the slowest axis by two sweeps of whole planes, then along the
// other two axes by the lower envelope of parabolas of Felzenszwalb and
// Huttenlocher. Time and extra memory are linear in the number of voxels.
func SquaredEDT(g Grid, features []bool) []float64 {
	d := make([]float64, len(features))
	t := newLine(max(g.Dims[0], g.Dims[1], g.Dims[2]))
	sweepAxis0(g, features, d)
	nz, ny, nx := g.Dims[0], g.Dims[1], g.Dims[2]
	for z := range nz {
		t.strided(d, z*ny*nx, nx, ny, nx, g.Spacing[1])
		for y := range ny {
			t.transform(d[(z*ny+y)*nx:(z*ny+y+1)*nx], g.Spacing[2])
		}
	}
	return d
}

// sweepAxis0 writes into d the squared one-dimensional distance, in mm²,
// from every voxel to the nearest feature of its line along axis 0, or
// +Inf when that line has none. Along one axis the nearest feature is the
// nearer of the nearest before and the nearest after, so a forward and a
// backward sweep of whole planes find it; both read memory in order. Steps
// are counted in float64, exact for whole numbers, and turned into mm² on
// the way back.
func sweepAxis0(g Grid, features []bool, d []float64) {
	nz := g.Dims[0]
	plane := g.Dims[1] * g.Dims[2]
	inf := math.Inf(1)
	// Forward: steps to the nearest feature at or before.
	for i, f := range features[:plane] {
		d[i] = inf
		if f {
			d[i] = 0
		}
	}
	for z := 1; z < nz; z++ {
		cur, prev := d[z*plane:(z+1)*plane], d[(z-1)*plane:z*plane]
		for i, f := range features[z*plane : (z+1)*plane] {
			if f {
				cur[i] = 0
			} else {
				cur[i] = prev[i] + 1
			}
		}
	}
	// Backward: after holds the steps to the nearest at or after, for the
	// plane below; the plane's own value becomes mm².
	s := g.Spacing[0]
	after := make([]float64, plane)
	for i := range after {
		after[i] = inf
	}
	for z := nz - 1; z >= 0; z-- {
		cur := d[z*plane : (z+1)*plane]
		for i, v := range cur {
			v = min(v, after[i]+1)
			after[i] = v
			cur[i] = (v * s) * (v * s)
		}
	}
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
			t.transform(t.buf[j*n:(j+1)*n], s)
		}
		for q := range n {
			row := d[base+q*stride+x0 : base+q*stride+x0+w]
			for j := range row {
				row[j] = t.buf[j*n+q]
			}
		}
	}
}

// line holds the scratch space of the one-dimensional transform. The
// envelope's parabolas are kept with their root's position, value and
// height at x = 0, so that the samples need no copy and their roots no
// conversion when the envelope is read.
type line struct {
	buf []float64  // lineGroup gathered lines
	p   []parabola // the envelope's parabolas, left to right
	n   int        // the longest line the space holds
}

// parabola is one parabola (x - x0)² + f of a lower envelope, with the
// boundary where it starts to be the lowest.
type parabola struct {
	x0 float64 // root, in mm
	f  float64 // value at the root
	h  float64 // f + x0², the height at x = 0
	z  float64 // left boundary, in mm; -Inf for the first
}

// newLine returns scratch space for lines of up to n samples.
func newLine(n int) *line {
	return &line{buf: make([]float64, lineGroup*n), p: make([]parabola, n+1), n: n}
}

// envelope builds the lower envelope of the parabolas (x - q·s)² + d[q]
// rooted at the finite samples of d, followed by a sentinel whose boundary
// is +Inf. It reports whether d has a finite sample. d is only read, so
// the caller may overwrite it while reading the envelope.
func (t *line) envelope(d []float64, s float64) bool {
	ps := t.p[:len(d)+1]
	k := -1
	for q, fq := range d {
		if fq > math.MaxFloat64 {
			continue // +Inf: no feature on this sample's line
		}
		xq := float64(q) * s
		hq := fq + xq*xq
		if k < 0 {
			k = 0
			ps[0] = parabola{x0: xq, f: fq, h: hq, z: math.Inf(-1)}
			continue
		}
		// Drop the parabolas the new one hides; the first one's boundary
		// is -Inf, so it always stays.
		var x float64
		for {
			pk := &ps[k]
			// The intersection is num/den, den > 0: test it against the
			// boundary without dividing, since most tested parabolas are
			// dropped.
			num, den := hq-pk.h, 2*(xq-pk.x0)
			if num > pk.z*den {
				x = num / den
				break
			}
			k--
		}
		k++
		ps[k] = parabola{x0: xq, f: fq, h: hq, z: x}
	}
	if k < 0 {
		return false
	}
	ps[k+1].z = math.Inf(1)
	return true
}

// transform replaces the samples of d by their one-dimensional squared
// distance transform with sample spacing s.
func (t *line) transform(d []float64, s float64) {
	if !t.envelope(d, s) {
		return // no finite sample: the line stays +Inf
	}
	ps := t.p
	j := 0
	for q := range d {
		xq := float64(q) * s
		for ps[j+1].z < xq {
			j++
		}
		dx := xq - ps[j].x0
		d[q] = dx*dx + ps[j].f
	}
}

// at returns the envelope built by [line.envelope] at the sorted sample
// positions qs (increasing), appending to out.
func (t *line) at(qs []int32, s float64, out []float64) []float64 {
	ps := t.p
	j := 0
	for _, q := range qs {
		xq := float64(q) * s
		for ps[j+1].z < xq {
			j++
		}
		dx := xq - ps[j].x0
		out = append(out, dx*dx+ps[j].f)
	}
	return out
}
