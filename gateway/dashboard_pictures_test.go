package gateway

import (
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
)

func TestSlicePictures(t *testing.T) {
	// Four frames on two slices: frames 1 and 2 (segments 1 and 2) at
	// slice 0, frames 3 and 4 at slice 1.
	sc := &sliceCounts{Positions: []float64{-10, -7.5},
		Counts:      map[uint16][]int{1: {5, 6}, 2: {3, 0}},
		Frames:      map[uint16][]int{1: {1, 3}, 2: {2}},
		FrameSlices: []int{0, 0, 1, 1}, Rows: 256, Columns: 512}
	segs := []qc.SegmentReport{{Number: 1, Label: "Liver"}, {Number: 2, Label: "Spleen"}}
	type pic struct {
		Frame int
		Rules []string
		Alt   string
	}
	tests := []struct {
		name        string
		findings    []qc.Finding
		want        []pic
		wantAnchors map[int]string
	}{
		{
			name: "middle frame of each segment, one per slice",
			want: []pic{
				{Frame: 3, Alt: "Source image of SEG frame 3 (slice at -7.5 mm) with the " +
					"outline of Liver drawn over it"},
				{Frame: 2, Alt: "Source image of SEG frame 2 (slice at -10.0 mm) with the " +
					"outline of Liver, Spleen drawn over it"},
			},
			wantAnchors: map[int]string{},
		},
		{
			name: "slices with findings, frames of one slice merged",
			findings: []qc.Finding{{Rule: "b.rule", Frame: 2}, {Rule: "a.rule", Frame: 1},
				{Rule: "a.rule", Frame: 2}, {Rule: "c.rule"}, {Rule: "d.rule", Frame: 9}},
			want: []pic{{Frame: 1, Rules: []string{"a.rule", "b.rule"},
				Alt: "Source image of SEG frame 1 (slice at -10.0 mm) with the outline of " +
					"Liver, Spleen drawn over it"}},
			wantAnchors: map[int]string{1: "frame-1", 2: "frame-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := &qc.Report{SOPInstanceUID: "1.2.3", Segments: segs, Findings: tt.findings}
			pics, anchors, more := slicePictures(rep, sc)
			var got []pic
			for _, p := range pics {
				got = append(got, pic{Frame: p.Frame, Rules: p.Rules, Alt: p.Alt})
				url := "/qc/seg/1.2.3/frames/" + strconv.Itoa(p.Frame) + ".png"
				if p.URL != url || p.Height != 160 {
					t.Errorf("picture of frame %d: URL %q, height %d; want the frame's PNG, 160",
						p.Frame, p.URL, p.Height)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("slicePictures() mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAnchors, anchors); diff != "" {
				t.Errorf("slicePictures() anchors mismatch (-want +got):\n%s", diff)
			}
			if more != 0 {
				t.Errorf("slicePictures() more = %d, want 0", more)
			}
		})
	}

	t.Run("no counts", func(t *testing.T) {
		pics, _, _ := slicePictures(&qc.Report{}, nil)
		if pics != nil {
			t.Errorf("slicePictures(nil counts) = %v, want none", pics)
		}
	})
}
