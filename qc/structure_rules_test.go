package qc

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRuleType1(t *testing.T) {
	runRuleCases(t, "structure.type1", []ruleCase{
		{
			name:     "no SOP Instance UID",
			modify:   func(s *Segmentation, _ *SourceSet) { s.SOPInstanceUID = "" },
			want:     []found{{"structure.type1", 0, 0}},
			wantText: "SOPInstanceUID (0008,0018) is Type 1 in a SEG: found it empty",
		},
		{
			name: "absent Segmentation Type told from presence",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.SegmentationType = ""
				s.Present = map[string]bool{"ImageType": true, "ContentLabel": true,
					"InstanceNumber": true, "DimensionOrganizationSequence": true}
			},
			want:     []found{{"structure.type1", 0, 0}},
			wantText: "SegmentationType (0062,0001) is Type 1 in a SEG: found it absent",
		},
		{
			name:   "no segments",
			modify: func(s *Segmentation, _ *SourceSet) { s.Segments = nil },
			want:   []found{{"structure.type1", 0, 0}},
		},
		{
			name: "FRACTIONAL without its Type 1C attributes",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.SegmentationType = SegmentationTypeFractional
				s.BitsAllocated, s.BitsStored = 8, 8
			},
			want: []found{{"structure.type1", 0, 0}, {"structure.type1", 0, 0}},
		},
		{
			name: "Content Label absent",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Present = map[string]bool{"ImageType": true, "InstanceNumber": true,
					"DimensionOrganizationSequence": true}
			},
			want:     []found{{"structure.type1", 0, 0}},
			wantText: "ContentLabel (0070,0080) is Type 1 in a SEG: found it absent",
		},
	})
}

func TestRuleSegmentationType(t *testing.T) {
	runRuleCases(t, "structure.segmentation_type", []ruleCase{
		{
			name:     "modality CT",
			modify:   func(s *Segmentation, _ *SourceSet) { s.Modality = "CT" },
			want:     []found{{"structure.segmentation_type", 0, 0}},
			wantText: `found "CT"`,
		},
		{
			name: "label map class with BINARY",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.SOPClassUID = LabelMapSegmentationStorage
			},
			want:     []found{{"structure.segmentation_type", 0, 0}},
			wantText: `must be LABELMAP in a Label Map Segmentation: found "BINARY"`,
		},
		{
			name: "Segmentation Storage with LABELMAP",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.SegmentationType = SegmentationTypeLabelmap
			},
			want: []found{{"structure.segmentation_type", 0, 0}},
		},
		{
			name: "bad fractional type and maximum",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.SegmentationType = SegmentationTypeFractional
				s.SegmentationFractionalType = "CERTAINTY"
				s.MaximumFractionalValue = 300
			},
			want: []found{
				{"structure.segmentation_type", 0, 0}, {"structure.segmentation_type", 0, 0},
			},
		},
		{
			name: "valid FRACTIONAL",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.SegmentationType = SegmentationTypeFractional
				s.SegmentationFractionalType = SegmentationFractionalTypeOccupancy
				s.MaximumFractionalValue = 255
			},
		},
	})
}

func TestRuleImagePixel(t *testing.T) {
	all := map[string]bool{"HighBit": true, "SamplesPerPixel": true,
		"PixelRepresentation": true, "PhotometricInterpretation": true, "ImageType": true,
		"ContentLabel": true, "InstanceNumber": true, "DimensionOrganizationSequence": true}
	valid := func(s *Segmentation) {
		s.Present = all
		s.SamplesPerPixel = 1
		s.PhotometricInterpretation = "MONOCHROME2"
	}
	runRuleCases(t, "structure.image_pixel", []ruleCase{
		{
			name:   "valid BINARY",
			modify: func(s *Segmentation, _ *SourceSet) { valid(s) },
		},
		{
			name: "BINARY with 8 bits",
			modify: func(s *Segmentation, _ *SourceSet) {
				valid(s)
				s.BitsAllocated, s.BitsStored, s.HighBit = 8, 8, 7
			},
			want:     []found{{"structure.image_pixel", 0, 0}},
			wantText: "Bits Allocated (0028,0100) of a BINARY SEG must be 1: found 8",
		},
		{
			name: "Bits Stored and High Bit off",
			modify: func(s *Segmentation, _ *SourceSet) {
				valid(s)
				s.BitsStored, s.HighBit = 2, 0
			},
			want: []found{{"structure.image_pixel", 0, 0}, {"structure.image_pixel", 0, 0}},
		},
		{
			name: "RGB",
			modify: func(s *Segmentation, _ *SourceSet) {
				valid(s)
				s.PhotometricInterpretation = "RGB"
			},
			want:     []found{{"structure.image_pixel", 0, 0}},
			wantText: `must be MONOCHROME2: found "RGB"`,
		},
		{
			name: "signed pixels",
			modify: func(s *Segmentation, _ *SourceSet) {
				valid(s)
				s.PixelRepresentation = 1
			},
			want: []found{{"structure.image_pixel", 0, 0}},
		},
	})
}

func TestRuleSegmentDescription(t *testing.T) {
	runRuleCases(t, "structure.segment_description", []ruleCase{
		{
			name:     "no label",
			modify:   func(s *Segmentation, _ *SourceSet) { s.Segments[1].SegmentLabel = "" },
			want:     []found{{"structure.segment_description", 2, 0}},
			wantText: "segment 2: SegmentLabel (0062,0005) is required: found it empty",
		},
		{
			name: "AUTOMATIC without algorithm name",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Segments[0].SegmentAlgorithmType = "AUTOMATIC"
				s.Segments[0].Present = map[string]bool{"SegmentNumber": true}
			},
			want:     []found{{"structure.segment_description", 1, 0}},
			wantText: "SegmentAlgorithmName (0062,0009) is required: found it absent",
		},
		{
			name: "unknown algorithm type",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Segments[0].SegmentAlgorithmType = "ROBOT"
			},
			want: []found{
				{"structure.segment_description", 1, 0}, {"structure.segment_description", 1, 0},
			},
			wantText: "SegmentAlgorithmName",
		},
		{
			name: "category code without meaning",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Segments[0].SegmentedPropertyCategory.CodeMeaning = ""
			},
			want:     []found{{"structure.segment_description", 1, 0}},
			wantText: `Code Meaning (0008,0104) empty or absent in ("91723000", "SCT", "")`,
		},
		{
			name: "no type code",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Segments[1].SegmentedPropertyType = CodedConcept{}
			},
			want:     []found{{"structure.segment_description", 2, 0}},
			wantText: "SegmentedPropertyTypeCodeSequence (0062,000F) must hold one coded item",
		},
	})
}

func TestRuleSegmentNumbers(t *testing.T) {
	runRuleCases(t, "structure.segment_numbers", []ruleCase{
		{
			name: "BINARY segments numbered 1 and 3",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Segments[1].SegmentNumber = 3
				s.Frames[2].SegmentNumber = 3
			},
			want:     []found{{"structure.segment_numbers", 0, 0}},
			wantText: "must start at 1 and increase by 1 through the Segment Sequence: found 1, 3",
		},
		{
			name: "BINARY segments in the order 2, 1",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Segments[0], s.Segments[1] = s.Segments[1], s.Segments[0]
			},
			want: []found{{"structure.segment_numbers", 0, 0}},
		},
		{
			name:   "duplicate number",
			modify: func(s *Segmentation, _ *SourceSet) { s.Segments[1].SegmentNumber = 1 },
			want: []found{
				{"structure.segment_numbers", 1, 0}, {"structure.segment_numbers", 0, 0},
			},
		},
		{
			name: "LABELMAP numbered 0, 1, 5 and 100",
			modify: func(s *Segmentation, _ *SourceSet) {
				toLabelmap(s, 0, 1, 5, 100)
			},
		},
	})
}

// toLabelmap turns the base SEG into an 8-bit LABELMAP with the given
// segment numbers, whose frames hold the value 1 in every pixel.
func toLabelmap(s *Segmentation, numbers ...uint16) {
	s.SOPClassUID = LabelMapSegmentationStorage
	s.SegmentationType = SegmentationTypeLabelmap
	s.BitsAllocated, s.BitsStored = 8, 8
	s.Segments = nil
	for _, n := range numbers {
		s.Segments = append(s.Segments, baseSegment(n, "label"))
	}
	frames := make([][]byte, len(s.Frames))
	for i := range s.Frames {
		s.Frames[i].SegmentNumber = 0
		frames[i] = make([]byte, 16)
		for j := range frames[i] {
			frames[i][j] = 1
		}
	}
	s.pixels = testPixels{frames: frames}
}

func TestRuleFrameSegment(t *testing.T) {
	runRuleCases(t, "structure.frame_segment", []ruleCase{
		{
			name:     "frame without segment",
			modify:   func(s *Segmentation, _ *SourceSet) { s.Frames[1].SegmentNumber = 0 },
			want:     []found{{"structure.frame_segment", 0, 2}},
			wantText: "Segment Identification Sequence",
		},
		{
			name:     "frame of an undescribed segment",
			modify:   func(s *Segmentation, _ *SourceSet) { s.Frames[2].SegmentNumber = 7 },
			want:     []found{{"structure.frame_segment", 7, 3}},
			wantText: "found 7",
		},
		{
			name: "LABELMAP value no segment describes",
			modify: func(s *Segmentation, _ *SourceSet) {
				toLabelmap(s, 0, 2)
			},
			want:     []found{{"structure.frame_segment", 1, 1}},
			wantText: "found 1, first in frame 1",
		},
		{
			name: "LABELMAP value equal to the Pixel Padding Value",
			modify: func(s *Segmentation, _ *SourceSet) {
				toLabelmap(s, 0, 2)
				s.PixelPaddingValue = ptr(1)
			},
		},
	})
}

func TestRulePixelDecode(t *testing.T) {
	runRuleCases(t, "structure.pixel_decode", []ruleCase{
		{
			name: "second frame missing",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.pixels = testPixels{frames: [][]byte{{0xFF, 0xFF}, nil, {0xFF, 0xFF}}}
			},
			want:     []found{{"structure.pixel_decode", 1, 2}},
			wantText: "frame 2 does not",
		},
	})
}

func TestRuleSegmentsEmpty(t *testing.T) {
	runRuleCases(t, "segments.empty", []ruleCase{
		{
			name: "segment with only an all-zero frame",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.pixels = testPixels{frames: [][]byte{{0xFF, 0xFF}, {0xFF, 0xFF}, {0, 0}}}
			},
			want:     []found{{"segments.empty", 2, 0}},
			wantText: `segment 2 ("tumour") has none in its 1 frames`,
		},
		{
			name: "segment with no frame",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Segments = append(s.Segments, baseSegment(3, "spleen"))
			},
			want:     []found{{"segments.empty", 3, 0}},
			wantText: "has none in its 0 frames",
		},
		{
			name: "LABELMAP background is not a segment",
			modify: func(s *Segmentation, _ *SourceSet) {
				toLabelmap(s, 0, 1)
			},
		},
		{
			name: "no counts when no frame decodes",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.pixels = testPixels{}
			},
		},
	})
}

// TestLabelmapCounts counts a LABELMAP whose frames hold the values 0, 1,
// 5, 100 and an undescribed 7: voxels and frames per segment, background
// and padding left out.
func TestLabelmapCounts(t *testing.T) {
	seg, src := baseSeg(), baseSources()
	toLabelmap(seg, 0, 1, 5, 100)
	seg.PixelPaddingValue = ptr(9)
	seg.pixels = testPixels{frames: [][]byte{
		{0, 0, 0, 0, 1, 1, 1, 5, 5, 100, 0, 0, 9, 9, 0, 0},
		{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 7},
		{100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100},
	}}
	rep := NewEngine(nil).Check(context.Background(), seg, src)
	area := 0.5 * 0.5 / 1000
	want := []SegmentReport{
		{Number: 1, Label: "label", Frames: 2, Voxels: 11, VolumeML: ptr(11 * area)},
		{Number: 5, Label: "label", Frames: 1, Voxels: 2, VolumeML: ptr(2 * area)},
		{Number: 100, Label: "label", Frames: 2, Voxels: 17, VolumeML: ptr(17 * area)},
	}
	if diff := cmp.Diff(want, rep.Segments); diff != "" {
		t.Errorf("segments mismatch (-want +got):\n%s", diff)
	}
	wantFindings := []found{{"structure.frame_segment", 7, 2}}
	var got []found
	for _, f := range rep.Findings {
		got = append(got, found{f.Rule, f.Segment, f.Frame})
	}
	if diff := cmp.Diff(wantFindings, got); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s", diff)
	}
}
