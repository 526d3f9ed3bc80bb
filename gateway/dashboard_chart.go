package gateway

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qcgate/qcgate/qc"
)

// sliceCounts are the voxels of each segment on each slice of a SEG.
type sliceCounts struct {
	// Positions are the slices' positions along the normal of the image
	// plane, in mm, ascending; frame numbers when the SEG has no geometry.
	Positions []float64
	// Counts maps a segment number to its voxels per slice, in the order
	// of Positions.
	Counts map[uint16][]int
	// Frames maps a segment number to the 1-based frame numbers that hold
	// its voxels, for the slices with findings.
	Frames map[uint16][]int
	// FrameSlices gives the index in Positions of each frame, in frame
	// order.
	FrameSlices []int
	// Rows and Columns are the SEG's frame size in pixels.
	Rows, Columns int
}

// countSlices decodes every frame of seg and counts each segment's voxels
// per slice, slices being the distinct frame positions along the plane's
// normal (PS3.3 C.7.6.2.1.1). Frames of one position (segments of a
// BINARY SEG) add up on one slice.
func countSlices(seg *qc.Segmentation) (*sliceCounts, error) {
	pos := make([]float64, len(seg.Frames))
	for i, f := range seg.Frames {
		pos[i] = framePosition(f, i)
	}
	distinct := slices.Clone(pos)
	slices.Sort(distinct)
	distinct = slices.CompactFunc(distinct, func(a, b float64) bool {
		return math.Abs(a-b) < 1e-3
	})
	index := func(p float64) int {
		i, _ := slices.BinarySearchFunc(distinct, p, func(e, t float64) int {
			if math.Abs(e-t) < 1e-3 {
				return 0
			}
			return cmp.Compare(e, t)
		})
		return i
	}

	sc := &sliceCounts{Positions: distinct, Counts: map[uint16][]int{},
		Frames: map[uint16][]int{}, FrameSlices: make([]int, len(pos)),
		Rows: seg.Rows, Columns: seg.Columns}
	for i, p := range pos {
		sc.FrameSlices[i] = index(p)
	}
	mask := qc.NewMask(seg.Rows, seg.Columns)
	for i, f := range seg.Frames {
		for _, sd := range seg.Segments {
			n := sd.SegmentNumber
			if n == 0 || (f.SegmentNumber != 0 && f.SegmentNumber != n) {
				continue
			}
			if err := seg.FrameMask(i, n, mask); err != nil {
				return nil, fmt.Errorf("decoding frame %d: %w", i+1, err)
			}
			c := mask.Count()
			if c == 0 {
				continue
			}
			if sc.Counts[n] == nil {
				sc.Counts[n] = make([]int, len(distinct))
			}
			sc.Counts[n][index(pos[i])] += c
			sc.Frames[n] = append(sc.Frames[n], f.Number)
		}
	}
	return sc, nil
}

// framePosition returns the position of frame f along the normal of its
// image plane (the dot product of Image Position (Patient) with the cross
// product of the row and column cosines), or its index when it has no
// geometry.
func framePosition(f qc.Frame, i int) float64 {
	p, o := f.ImagePositionPatient, f.ImageOrientationPatient
	if len(p) != 3 || len(o) != 6 {
		return float64(i + 1)
	}
	n := [3]float64{o[1]*o[5] - o[2]*o[4], o[2]*o[3] - o[0]*o[5], o[0]*o[4] - o[1]*o[3]}
	return p[0]*n[0] + p[1]*n[1] + p[2]*n[2]
}

// chartSVG is a server-rendered bar chart of one segment's voxels per
// slice, drawn in a 100 x 40 view box that scales with the page.
type chartSVG struct {
	// Bars are the bars, one per slice with voxels.
	Bars []chartBar
	// Max is the largest count, the top of the chart.
	Max int
	// Slices is the number of slices on the x axis.
	Slices int
	// From and To are the first and last slice positions, in mm.
	From, To string
}

// chartBar is one bar of a chartSVG, in view box units.
type chartBar struct {
	X, Y, W, H float64
	// Title is the bar's tooltip: the slice position and its count.
	Title string
}

// newChart lays out the bars of counts over positions.
func newChart(positions []float64, counts []int) chartSVG {
	c := chartSVG{Slices: len(counts)}
	if len(counts) == 0 {
		return c
	}
	c.Max = slices.Max(counts)
	c.From = strconv.FormatFloat(positions[0], 'f', 1, 64)
	c.To = strconv.FormatFloat(positions[len(positions)-1], 'f', 1, 64)
	w := 100 / float64(len(counts))
	for i, n := range counts {
		if n == 0 || c.Max == 0 {
			continue
		}
		h := 38 * float64(n) / float64(c.Max)
		c.Bars = append(c.Bars, chartBar{X: float64(i) * w, Y: 40 - h,
			W: max(w*0.9, 0.2), H: h,
			Title: fmt.Sprintf("slice %d at %.1f mm: %d voxels", i+1, positions[i], n)})
	}
	return c
}

// framesText lists frame numbers compactly: "1-3, 7".
func framesText(frames []int) string {
	s := slices.Clone(frames)
	slices.Sort(s)
	s = slices.Compact(s)
	var parts []string
	for i := 0; i < len(s); {
		j := i
		for j+1 < len(s) && s[j+1] == s[j]+1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d-%d", s[i], s[j]))
		} else {
			parts = append(parts, strconv.Itoa(s[i]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
