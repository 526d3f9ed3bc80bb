package qc

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// testPixels is a pixel source for hand-built Segmentations: frame i is
// frames[i], stored as the decoder stores it (1-bit data from bit 0, or one
// byte per sample).
type testPixels struct{ frames [][]byte }

func (p testPixels) frame(i int, _ *[]byte) ([]byte, int, error) {
	if i >= len(p.frames) || p.frames[i] == nil {
		return nil, 0, fmt.Errorf("test frame %d: %w", i+1, ErrPixelData)
	}
	return p.frames[i], 0, nil
}

// Identifiers of the hand-built study.
const (
	tStudy    = "1.2.826.0.1.1"
	tSeries   = "1.2.826.0.1.1.2"
	tFoR      = "1.2.826.0.1.1.9"
	tSegClass = SegmentationStorage
)

// tInstance returns the SOP Instance UID of source slice k (1-based).
func tInstance(k int) string { return fmt.Sprintf("1.2.826.0.1.1.2.%d", k) }

// baseSources returns three 4x4 axial CT slices 1 mm apart at z = 0, 1, 2,
// 0.5 mm pixels, origin (-1, -1).
func baseSources() *SourceSet {
	set := NewSourceSet()
	for k := 1; k <= 3; k++ {
		set.Add(&SourceInstance{
			SOPClassUID:         "1.2.840.10008.5.1.4.1.1.2",
			SOPInstanceUID:      tInstance(k),
			SeriesInstanceUID:   tSeries,
			StudyInstanceUID:    tStudy,
			FrameOfReferenceUID: tFoR,
			Modality:            "CT",
			Rows:                4,
			Columns:             4,
			NumberOfFrames:      1,
			Frames: []SourceFrame{{
				Number:                  1,
				ImagePositionPatient:    []float64{-1, -1, float64(k - 1)},
				ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0},
				PixelSpacing:            []float64{0.5, 0.5},
				SliceThickness:          1,
			}},
		})
	}
	return set
}

// baseSegment returns a valid segment description.
func baseSegment(n uint16, label string) SegmentDescription {
	return SegmentDescription{
		SegmentNumber:             n,
		SegmentLabel:              label,
		SegmentAlgorithmType:      "MANUAL",
		SegmentedPropertyCategory: CodedConcept{"91723000", "SCT", "Anatomical Structure"},
		SegmentedPropertyType:     CodedConcept{"10200004", "SCT", "Liver"},
	}
}

// baseFrame returns frame number n of segment seg on source slice k, which
// it names.
func baseFrame(n int, seg uint16, k int) Frame {
	return Frame{
		Number:                  n,
		SegmentNumber:           seg,
		ImagePositionPatient:    []float64{-1, -1, float64(k - 1)},
		ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0},
		PixelSpacing:            []float64{0.5, 0.5},
		SliceThickness:          1,
		SourceImages: []ImageReference{{
			SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", SOPInstanceUID: tInstance(k),
		}},
	}
}

// baseSeg returns a valid BINARY SEG of two segments on the base sources:
// segment 1 on slices 1 and 2, segment 2 on slice 3; every pixel set.
func baseSeg() *Segmentation {
	seg := &Segmentation{
		SOPClassUID:         tSegClass,
		SOPInstanceUID:      "1.2.826.0.1.1.3.1",
		StudyInstanceUID:    tStudy,
		SeriesInstanceUID:   "1.2.826.0.1.1.3",
		FrameOfReferenceUID: tFoR,
		Modality:            "SEG",
		Rows:                4,
		Columns:             4,
		NumberOfFrames:      3,
		BitsAllocated:       1,
		BitsStored:          1,
		SegmentationType:    SegmentationTypeBinary,
		Segments: []SegmentDescription{
			baseSegment(1, "liver"), baseSegment(2, "tumour"),
		},
		Frames: []Frame{baseFrame(1, 1, 1), baseFrame(2, 1, 2), baseFrame(3, 2, 3)},
		ReferencedSeries: []ReferencedSeries{{
			SeriesInstanceUID: tSeries,
			Instances: []ImageReference{
				{SOPInstanceUID: tInstance(1)}, {SOPInstanceUID: tInstance(2)},
				{SOPInstanceUID: tInstance(3)},
			},
		}},
	}
	seg.pixels = testPixels{frames: [][]byte{{0xFF, 0xFF}, {0xFF, 0xFF}, {0xFF, 0xFF}}}
	return seg
}

// found is the part of a finding rule tests compare.
type found struct {
	Rule    string
	Segment int
	Frame   int
}

// ruleCase is one rule test: a change to the base SEG and sources, and the
// findings of the rule under test it must give.
type ruleCase struct {
	name   string
	modify func(seg *Segmentation, src *SourceSet)
	want   []found
	// wantText must appear in the first finding's message: the value found.
	wantText string
}

// runRuleCases runs each case with the default profile and compares the
// findings of rule id (and of the decoder-independent rules only).
func runRuleCases(t *testing.T, id string, cases []ruleCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			seg, src := baseSeg(), baseSources()
			if tt.modify != nil {
				tt.modify(seg, src)
			}
			rep := NewEngine(nil).Check(context.Background(), seg, src)
			var got []found
			var first string
			for _, f := range rep.Findings {
				if f.Rule != id {
					continue
				}
				if got == nil {
					first = f.Message
				}
				got = append(got, found{f.Rule, f.Segment, f.Frame})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("%s findings mismatch (-want +got):\n%s\nall findings: %+v",
					id, diff, rep.Findings)
			}
			if tt.wantText != "" && !strings.Contains(first, tt.wantText) {
				t.Errorf("%s message = %q, want it to contain %q", id, first, tt.wantText)
			}
		})
	}
}

// TestBaseSegIsClean makes sure the base SEG of the rule tests breaks no
// rule, so each rule test sees only the fault it adds.
func TestBaseSegIsClean(t *testing.T) {
	rep := NewEngine(nil).Check(context.Background(), baseSeg(), baseSources())
	if rep.Decision != DecisionAccepted || len(rep.Findings) != 0 {
		t.Fatalf("base SEG: decision %s, findings %+v; want accepted, none",
			rep.Decision, rep.Findings)
	}
	want := []SegmentReport{
		{Number: 1, Label: "liver", Frames: 2, Voxels: 32, VolumeML: ptr(32 * 0.25 * 1 / 1000.0)},
		{Number: 2, Label: "tumour", Frames: 1, Voxels: 16, VolumeML: ptr(16 * 0.25 * 1 / 1000.0)},
	}
	if diff := cmp.Diff(want, rep.Segments); diff != "" {
		t.Errorf("base SEG segments mismatch (-want +got):\n%s", diff)
	}
}

// TestRulesRegistry checks that rule IDs are unique, dotted, documented and
// cite the standard.
func TestRulesRegistry(t *testing.T) {
	seen := make(map[string]bool)
	for _, r := range Rules() {
		if seen[r.ID] {
			t.Errorf("rule %s listed twice", r.ID)
		}
		seen[r.ID] = true
		if strings.Count(r.ID, ".") != 1 || strings.ToLower(r.ID) != r.ID {
			t.Errorf("rule ID %q: want one lower-case dotted family.name", r.ID)
		}
		if !strings.HasPrefix(r.Reference, "PS3.") {
			t.Errorf("rule %s reference %q: want a clause of the standard", r.ID, r.Reference)
		}
		switch r.DefaultSeverity {
		case SeverityError, SeverityWarning, SeverityInfo:
		default:
			t.Errorf("rule %s default severity %q", r.ID, r.DefaultSeverity)
		}
		if r.Summary == "" {
			t.Errorf("rule %s has no summary", r.ID)
		}
	}
}
