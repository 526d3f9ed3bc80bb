package qc

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSegmentVolumeBox checks that a segment's volume is cropped to the
// bounding box of its voxels, and that holes and components found in the
// cropped box are those of the frames.
func TestSegmentVolumeBox(t *testing.T) {
	// Plane 0: a 4x4 ring (rows and columns 2-5) around a 2x2 hole; plane
	// 2: one voxel at row 7, column 1. Planes are 1 mm apart.
	ring := plane{"........", "........", "..####..", "..#..#..", "..#..#..",
		"..####..", "........", "........"}
	dot := block(8, 8, 7, 7, 1, 1)
	s, src := volumeSeg("1.9.1", 8, 8, 3, seg(1, "Liver", cLiver, ring, nil, dot))
	c := &checkContext{ctx: t.Context(), seg: s, sources: src,
		tol: Tolerances{}.withDefaults(), listed: make(map[string]int),
		dropped: make(map[string]int)}
	c.stats = countPixels(t.Context(), s)
	c.refs = resolveReferences(s, src)
	c.geo = placeFrames(c)
	v := segmentVolume3D(s, c.frameGrid(), 1)
	if v == nil {
		t.Fatal("segmentVolume3D() = nil, want a volume")
	}
	type box struct{ Lo, Dims [3]int }
	if diff := cmp.Diff(box{[3]int{0, 2, 1}, [3]int{3, 6, 5}}, box{v.lo, v.dims}); diff != "" {
		t.Errorf("segmentVolume3D() box mismatch (-want +got):\n%s", diff)
	}
	if got := v.holes(); len(got) != 1 || got[0].pixels != 4 || got[0].plane != 0 {
		t.Errorf("holes() = %+v, want one of 4 pixels on plane 0", got)
	}
	got := v.components()
	if len(got) != 2 || got[0].voxels != 12 || got[1].voxels != 1 {
		t.Errorf("components() = %+v, want 12 and 1 voxels", got)
	}
}
