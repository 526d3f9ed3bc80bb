package plant

import (
	"errors"
	"math"
	"path/filepath"
	"testing"

	"github.com/qcgate/qcgate/qc"
)

// liverFrameVoxels are the foreground pixels of the three frames of
// dcmqi-ct-liver-binary, from testdata/real/MANIFEST.md (counted by an
// independent decoder).
var liverFrameVoxels = []int{36233, 35645, 35220}

// loadCase reads one real case or fails the test.
func loadTestCase(t *testing.T, name string) Case {
	t.Helper()
	c, ok, err := loadCase(filepath.Join(realCases, name))
	if err != nil || !ok {
		t.Fatalf("loadCase(%s) = %v, %v; want a case", name, ok, err)
	}
	return c
}

// frameCounts parses a SEG and counts the set pixels of every frame.
func frameCounts(t *testing.T, data []byte) (*qc.Segmentation, []int) {
	t.Helper()
	seg, err := qc.ParseSegmentation(data)
	if err != nil {
		t.Fatalf("ParseSegmentation() error: %v", err)
	}
	var m qc.Mask
	var out []int
	for i, f := range seg.Frames {
		if err := seg.FrameMask(i, f.SegmentNumber, &m); err != nil {
			t.Fatalf("FrameMask(%d) error: %v", i, err)
		}
		out = append(out, m.Count())
	}
	return seg, out
}

// TestRoundTrip parses and writes back every real SEG that the editor
// reads, and checks that the frames decode to the same pixels.
func TestRoundTrip(t *testing.T) {
	cases, err := LoadCases(realCases)
	if err != nil {
		t.Fatalf("LoadCases() error: %v", err)
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			f, err := parseFile(c.SEG)
			if err != nil {
				t.Fatalf("parseFile() error: %v", err)
			}
			_, want := frameCounts(t, c.SEG)
			_, got := frameCounts(t, f.bytes())
			if len(got) != len(want) {
				t.Fatalf("frames after round trip = %d, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Errorf("frame %d has %d pixels after round trip, want %d", i+1, got[i],
						want[i])
				}
			}
		})
	}
}

// TestPlantLiver plants each pixel and geometry defect in the liver case
// and checks the edit itself against the MANIFEST's counts.
func TestPlantLiver(t *testing.T) {
	c := loadTestCase(t, "dcmqi-ct-liver-binary")
	_, clean := frameCounts(t, c.SEG)
	for i, want := range liverFrameVoxels {
		if clean[i] != want {
			t.Fatalf("clean frame %d has %d pixels, want %d (MANIFEST)", i+1, clean[i], want)
		}
	}
	tests := []struct {
		name   string
		defect Defect
		// want are the pixel counts per frame after planting.
		want []int
	}{
		// A 2x2 blob in the middle frame.
		{"island", DefectIsland, []int{36233, 35645 + 4, 35220}},
		// The 3x3 centre of a full 5x5 square cleared: 9 pixels fewer.
		{"hole", DefectHole, nil},
		// The middle of three frames dropped.
		{"slice removed", DefectSliceRemoved, []int{36233, 35220}},
		{"frame off plane", DefectFrameOffPlane, liverFrameVoxels},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Plant(c, tt.defect)
			if err != nil {
				t.Fatalf("Plant(%s) error: %v", tt.defect, err)
			}
			_, got := frameCounts(t, p.SEG)
			if tt.want == nil {
				sum := 0
				for _, n := range got {
					sum += n
				}
				if sum != 107098-9 {
					t.Errorf("Plant(hole) leaves %d pixels, want %d", sum, 107098-9)
				}
				return
			}
			if len(got) != len(tt.want) {
				t.Fatalf("Plant(%s) has %d frames, want %d", tt.defect, len(got), len(tt.want))
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("Plant(%s) frame %d = %d pixels, want %d", tt.defect, i+1,
						got[i], tt.want[i])
				}
			}
		})
	}
}

// TestPlantGeometry checks the moved frame, the Frame of Reference UID and
// the scaled Pixel Spacing of the liver case (1 mm slices, MANIFEST).
func TestPlantGeometry(t *testing.T) {
	c := loadTestCase(t, "dcmqi-ct-liver-binary")
	seg, _ := frameCounts(t, c.SEG)

	p, err := Plant(c, DefectFrameOffPlane)
	if err != nil {
		t.Fatalf("Plant(frame off plane) error: %v", err)
	}
	moved, _ := frameCounts(t, p.SEG)
	before, after := seg.Frames[1].ImagePositionPatient, moved.Frames[1].ImagePositionPatient
	// Decimal strings carry 10 digits: the move is 0.5 mm to 1e-5.
	if d := after[2] - before[2]; math.Abs(math.Abs(d)-0.5) > 1e-5 || after[0] != before[0] {
		t.Errorf("frame 2 moved from %v to %v, want 0.5 mm along z", before, after)
	}

	p, err = Plant(c, DefectFrameOfReference)
	if err != nil {
		t.Fatalf("Plant(frame of reference) error: %v", err)
	}
	if s, _ := frameCounts(t, p.SEG); s.FrameOfReferenceUID != plantedUID {
		t.Errorf("FrameOfReferenceUID = %q, want %q", s.FrameOfReferenceUID, plantedUID)
	}

	p, err = Plant(c, DefectVolumeTimesTen)
	if err != nil {
		t.Fatalf("Plant(volume) error: %v", err)
	}
	s, _ := frameCounts(t, p.SEG)
	area := s.Frames[0].PixelSpacing[0] * s.Frames[0].PixelSpacing[1]
	was := seg.Frames[0].PixelSpacing[0] * seg.Frames[0].PixelSpacing[1]
	if math.Abs(area/was-10) > 1e-6 {
		t.Errorf("pixel area %v mm² after planting, %v before: ratio %v, want 10", area, was,
			area/was)
	}
	if len(p.Sources) != 3 {
		t.Errorf("Plant(volume) kept %d sources, want 3", len(p.Sources))
	}

	p, err = Plant(c, DefectMissingSource)
	if err != nil || len(p.Sources) != 2 {
		t.Errorf("Plant(missing source) = %d sources, %v; want 2", len(p.Sources), err)
	}
}

// TestPlantPeerAndLabelmap checks the dilated second annotator and the
// LABELMAP overlap.
func TestPlantPeerAndLabelmap(t *testing.T) {
	c := loadTestCase(t, "highdicom-ct2-binary")
	p, err := Plant(c, DefectDilatedAnnotator)
	if err != nil {
		t.Fatalf("Plant(dilated) error: %v", err)
	}
	peer, got := frameCounts(t, p.Peer)
	_, clean := frameCounts(t, c.SEG)
	seg, _ := frameCounts(t, c.SEG)
	if peer.SOPInstanceUID == seg.SOPInstanceUID {
		t.Errorf("peer SOP Instance UID = %s, want a new one", peer.SOPInstanceUID)
	}
	for i := range got {
		if got[i] <= clean[i] && clean[i] < 16*16 {
			t.Errorf("dilated frame %d has %d pixels, clean %d: want more", i+1, got[i],
				clean[i])
		}
	}

	lm := loadTestCase(t, "dcmqi-24x38x3-labelmap-sparse-ppv5")
	p, err = Plant(lm, DefectLabelmapOverlap)
	if err != nil {
		t.Fatalf("Plant(labelmap overlap) error: %v", err)
	}
	s, _ := frameCounts(t, p.SEG)
	if len(s.Frames) != 3 || len(s.Segments) != 3 {
		t.Errorf("planted LABELMAP has %d frames and %d segments, want 3 and 3",
			len(s.Frames), len(s.Segments))
	}

	// Pixel edits need native Pixel Data.
	rle := loadTestCase(t, "pydicom-liver-rle")
	if _, err := Plant(rle, DefectIsland); !errors.Is(err, ErrNotApplicable) {
		t.Errorf("Plant(RLE, island) error = %v, want ErrNotApplicable", err)
	}
}
