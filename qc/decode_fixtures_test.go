package qc

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// pixelsOf returns the set pixels of m as row, column pairs.
func pixelsOf(m *Mask) [][2]int {
	var out [][2]int
	for r := range m.Rows {
		for c := range m.Columns {
			if m.At(r, c) {
				out = append(out, [2]int{r, c})
			}
		}
	}
	return out
}

// maskPixels returns the set pixels of frame i for segment seg.
func maskPixels(t *testing.T, s *Segmentation, i int, seg uint16) [][2]int {
	t.Helper()
	var m Mask
	if err := s.FrameMask(i, seg, &m); err != nil {
		t.Fatalf("FrameMask(%d, %d): %v", i, seg, err)
	}
	if m.Rows != s.Rows || m.Columns != s.Columns {
		t.Fatalf("FrameMask(%d, %d) gave %dx%d, want %dx%d", i, seg, m.Rows, m.Columns,
			s.Rows, s.Columns)
	}
	return pixelsOf(&m)
}

// onePixelPerFrame is the 3x5x7 BINARY SEG whose frame k sets only pixel
// (k%3, k%5): 15 bits a frame, so frames 1 to 6 start inside a byte.
func onePixelPerFrame(ts string) *segBuilder {
	b := newSegBuilder(3, 5)
	b.TransferSyntax = ts
	for k := range 7 {
		b.addFrame(1, [2]int{k % 3, k % 5})
	}
	return b
}

func TestFixtureOnePixelPerFrame(t *testing.T) {
	for _, ts := range []string{uidExplicitVRLittleEndian, uidImplicitVRLittleEndian,
		uidDeflatedExplicitVRLittle, uidRLELossless, uidDeflatedImageFrame,
		uidEncapsulatedUncompressed} {
		t.Run(ts, func(t *testing.T) {
			s := mustParse(t, onePixelPerFrame(ts).Build())
			if diff := cmp.Diff([]string(nil), problemRules(s)); diff != "" {
				t.Errorf("Problems (-want +got):\n%s", diff)
			}
			for k := range 7 {
				want := [][2]int{{k % 3, k % 5}}
				if diff := cmp.Diff(want, maskPixels(t, s, k, 1)); diff != "" {
					t.Errorf("frame %d pixels (-want +got):\n%s", k+1, diff)
				}
			}
		})
	}
}

// paddedFrames is the 21x22x10 BINARY SEG with one pixel per frame, whose
// frames of 462 bits take 578 bytes packed, or 580 when padded per frame.
func paddedFrames(pad bool) *segBuilder {
	b := newSegBuilder(21, 22)
	for k := range 10 {
		b.addFrame(1, [2]int{k, 21 - k})
	}
	b.PadFramesToBytes = pad
	return b
}

func TestFixturePixelDataLength(t *testing.T) {
	s := mustParse(t, paddedFrames(false).Build())
	if len(s.Problems) != 0 {
		t.Fatalf("578-byte Pixel Data: Problems = %+v, want none", s.Problems)
	}
	for k := range 10 {
		if diff := cmp.Diff([][2]int{{k, 21 - k}}, maskPixels(t, s, k, 1)); diff != "" {
			t.Errorf("frame %d pixels (-want +got):\n%s", k+1, diff)
		}
	}

	s = mustParse(t, paddedFrames(true).Build())
	if diff := cmp.Diff([]string{"structure.pixel_data_length/error"},
		problemRules(s)); diff != "" {
		t.Fatalf("580-byte Pixel Data: Problems (-want +got):\n%s", diff)
	}
	msg := s.Problems[0].Message
	for _, want := range []string{"578", "found 580", "padded to a whole byte"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Problems[0].Message = %q, want it to contain %q", msg, want)
		}
	}
	if s.Problems[0].Reference == "" {
		t.Errorf("Problems[0].Reference is empty")
	}
	// Frame 1 starts at bit 0 either way and still decodes.
	if diff := cmp.Diff([][2]int{{0, 21}}, maskPixels(t, s, 0, 1)); diff != "" {
		t.Errorf("frame 1 pixels (-want +got):\n%s", diff)
	}
}

func TestFixtureFullSquareSecondSegment(t *testing.T) {
	// 7x7 = 49 bits: segment 2's frame starts at bit 49, inside byte 6.
	b := newSegBuilder(7, 7)
	b.Segments = append(b.Segments, fixtureSegment{Number: 2, Label: "square"})
	b.addFrame(1, [2]int{3, 3})
	var all [][2]int
	for r := range 7 {
		for c := range 7 {
			all = append(all, [2]int{r, c})
		}
	}
	b.addFrame(2, all...)
	for _, ts := range []string{uidExplicitVRLittleEndian, uidRLELossless} {
		b.TransferSyntax = ts
		s := mustParse(t, b.Build())
		if diff := cmp.Diff([]int{1, 49}, frameCounts(t, s)); diff != "" {
			t.Errorf("%s: counts (-want +got):\n%s", ts, diff)
		}
		if diff := cmp.Diff(all, maskPixels(t, s, 1, 2)); diff != "" {
			t.Errorf("%s: segment 2 pixels (-want +got):\n%s", ts, diff)
		}
	}
}

func TestFixtureLastColumn(t *testing.T) {
	// 13 columns: a line down the last column crosses byte boundaries at
	// a different bit on every row.
	b := newSegBuilder(6, 13)
	var line [][2]int
	for r := range 6 {
		line = append(line, [2]int{r, 12})
	}
	b.addFrame(1, line...).addFrame(1, line...)
	s := mustParse(t, b.Build())
	for k := range 2 {
		if diff := cmp.Diff(line, maskPixels(t, s, k, 1)); diff != "" {
			t.Errorf("frame %d pixels (-want +got):\n%s", k+1, diff)
		}
	}
}

func TestFixtureSharedSegmentIdentification(t *testing.T) {
	b := newSegBuilder(4, 4)
	b.SharedSegment = 1
	b.SharedSources = []ImageReference{{SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
		SOPInstanceUID: "1.2.3.1"}}
	b.addFrame(0, [2]int{0, 0}).addFrame(0, [2]int{1, 1}, [2]int{2, 2})
	s := mustParse(t, b.Build())
	var segs []uint16
	for _, f := range s.Frames {
		segs = append(segs, f.SegmentNumber)
		if diff := cmp.Diff(b.SharedSources, f.SourceImages); diff != "" {
			t.Errorf("frame %d SourceImages (-want +got):\n%s", f.Number, diff)
		}
	}
	if diff := cmp.Diff([]uint16{1, 1}, segs); diff != "" {
		t.Errorf("frame segments (-want +got):\n%s", diff)
	}
	want := map[string]bool{"SegmentIdentificationSequence": true, "DerivationImageSequence": true}
	if diff := cmp.Diff(want, s.SharedFunctionalGroups); diff != "" {
		t.Errorf("SharedFunctionalGroups (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{1, 2}, frameCounts(t, s)); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

// frameAt returns a frame of segment seg on the slice at z with pixels set.
func frameAt(rows, cols int, seg uint16, z float64, set ...[2]int) fixtureFrame {
	px := make([]uint16, rows*cols)
	for _, rc := range set {
		px[rc[0]*cols+rc[1]] = 1
	}
	return fixtureFrame{Segment: seg, Pixels: px, Position: []float64{0, 0, z}}
}

func TestFixtureSparseSegments(t *testing.T) {
	// Segment 1 on slices 0, 1 and 3 (slice 2 left out as empty),
	// segment 2 with no frame, segment 3 with one all-zero frame.
	b := newSegBuilder(4, 5)
	b.Segments = []fixtureSegment{{Number: 1, Label: "a"}, {Number: 2, Label: "none"},
		{Number: 3, Label: "zero"}}
	b.Frames = []fixtureFrame{
		frameAt(4, 5, 1, 0, [2]int{0, 0}),
		frameAt(4, 5, 1, 1, [2]int{0, 0}, [2]int{3, 4}),
		frameAt(4, 5, 1, 3, [2]int{1, 2}, [2]int{2, 2}, [2]int{3, 2}),
		frameAt(4, 5, 3, 2),
	}
	s := mustParse(t, b.Build())
	type frame struct {
		Segment uint16
		Z       float64
		Count   int
	}
	counts := frameCounts(t, s)
	var got []frame
	for i, f := range s.Frames {
		got = append(got, frame{f.SegmentNumber, f.ImagePositionPatient[2], counts[i]})
	}
	want := []frame{{1, 0, 1}, {1, 1, 2}, {1, 3, 3}, {3, 2, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
	if len(s.Segments) != 3 || s.Segments[1].SegmentLabel != "none" {
		t.Errorf("Segments = %+v, want 3 with segment 2 labelled none", s.Segments)
	}
}

func TestFixtureSegmentsOneAndThree(t *testing.T) {
	b := newSegBuilder(3, 3)
	b.Segments = []fixtureSegment{{Number: 1, Label: "one"}, {Number: 3, Label: "three"}}
	b.addFrame(1, [2]int{0, 0}).addFrame(3, [2]int{1, 1}, [2]int{2, 2})
	s := mustParse(t, b.Build())
	var numbers []uint16
	for _, seg := range s.Segments {
		numbers = append(numbers, seg.SegmentNumber)
	}
	if diff := cmp.Diff([]uint16{1, 3}, numbers); diff != "" {
		t.Errorf("segment numbers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][2]int{{1, 1}, {2, 2}}, maskPixels(t, s, 1, 3)); diff != "" {
		t.Errorf("segment 3 pixels (-want +got):\n%s", diff)
	}
	if got := maskPixels(t, s, 1, 2); got != nil {
		t.Errorf("frame 2 as segment 2 = %v, want empty", got)
	}
}

// labelmap returns a LABELMAP builder with one frame of the given values.
func labelmap(rows, cols, bits int, segments []uint16, values []uint16) *segBuilder {
	b := newSegBuilder(rows, cols)
	b.SOPClassUID = LabelMapSegmentationStorage
	b.Type = SegmentationTypeLabelmap
	b.BitsAllocated = bits
	b.Segments = nil
	for _, n := range segments {
		b.Segments = append(b.Segments, fixtureSegment{Number: n, Label: "label"})
	}
	b.Frames = []fixtureFrame{{Pixels: values}}
	return b
}

func TestFixtureLabelmap(t *testing.T) {
	// 3x5 frame holding 0, 1, 5 and 100 (and 300 for 16 bits).
	values8 := []uint16{0, 1, 5, 100, 0, 1, 1, 5, 0, 0, 100, 100, 100, 1, 0}
	values16 := []uint16{0, 1, 5, 300, 0, 1, 1, 5, 0, 0, 300, 300, 300, 1, 0}
	tests := []struct {
		name   string
		bits   int
		ts     string
		values []uint16
		want   map[uint16]int
	}{
		{"8 bit", 8, uidExplicitVRLittleEndian, values8,
			map[uint16]int{0: 5, 1: 4, 5: 2, 100: 4, 7: 0}},
		{"8 bit RLE", 8, uidRLELossless, values8, map[uint16]int{0: 5, 1: 4, 5: 2, 100: 4}},
		{"8 bit deflated frames", 8, uidDeflatedImageFrame, values8,
			map[uint16]int{0: 5, 1: 4, 5: 2, 100: 4}},
		{"16 bit", 16, uidExplicitVRLittleEndian, values16,
			map[uint16]int{0: 5, 1: 4, 5: 2, 300: 4}},
		{"16 bit RLE", 16, uidRLELossless, values16, map[uint16]int{0: 5, 1: 4, 5: 2, 300: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var segs []uint16
			for v := range tt.want {
				segs = append(segs, v)
			}
			b := labelmap(3, 5, tt.bits, segs, tt.values)
			b.TransferSyntax = tt.ts
			pad := 7
			b.PixelPaddingValue = &pad
			s := mustParse(t, b.Build())
			if len(s.Problems) != 0 {
				t.Fatalf("Problems = %+v, want none", s.Problems)
			}
			got := map[uint16]int{}
			var m Mask
			for seg := range tt.want {
				if err := s.FrameMask(0, seg, &m); err != nil {
					t.Fatalf("FrameMask(0, %d): %v", seg, err)
				}
				got[seg] = m.Count()
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("pixels per label (-want +got):\n%s", diff)
			}
			vals, err := s.FrameValues(0, nil)
			if err != nil {
				t.Fatalf("FrameValues: %v", err)
			}
			if diff := cmp.Diff(tt.values, vals); diff != "" {
				t.Errorf("FrameValues (-want +got):\n%s", diff)
			}
			if s.PixelPaddingValue == nil || *s.PixelPaddingValue != 7 {
				t.Errorf("PixelPaddingValue = %v, want 7", s.PixelPaddingValue)
			}
		})
	}
}

func TestFixtureFractional(t *testing.T) {
	b := newSegBuilder(2, 3)
	b.Type = SegmentationTypeFractional
	b.FractionalType = SegmentationFractionalTypeOccupancy
	b.MaxFractional = 100
	b.Frames = []fixtureFrame{{Segment: 1, Pixels: []uint16{0, 50, 100, 0, 1, 0}}}
	s := mustParse(t, b.Build())
	if diff := cmp.Diff([][2]int{{0, 1}, {0, 2}, {1, 1}}, maskPixels(t, s, 0, 1)); diff != "" {
		t.Errorf("pixels above 0 (-want +got):\n%s", diff)
	}
	if s.SegmentationFractionalType != SegmentationFractionalTypeOccupancy ||
		s.MaximumFractionalValue != 100 {
		t.Errorf("fractional type %q max %d, want OCCUPANCY 100", s.SegmentationFractionalType,
			s.MaximumFractionalValue)
	}
}

func TestFixturePositionDisagreesWithSource(t *testing.T) {
	// The decoder reports what the file says; the geometry rules judge it.
	b := newSegBuilder(2, 2)
	b.FrameOfReferenceUID = "1.2.3.9"
	b.PixelSpacing = []float64{0.5, 0.5}
	b.Orientation = []float64{1, 0, 0, 0, 1, 0}
	src := []ImageReference{{SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", SOPInstanceUID: "1.2.3.4",
		ReferencedFrameNumber: []int{2}}}
	f := frameAt(2, 2, 1, 7.5, [2]int{1, 1})
	f.Sources = src
	b.Frames = []fixtureFrame{f}
	b.ReferencedSeries = []ReferencedSeries{{SeriesInstanceUID: "1.2.3.5",
		Instances: []ImageReference{{SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
			SOPInstanceUID: "1.2.3.4"}}}}
	b.SourceImages = b.ReferencedSeries[0].Instances
	s := mustParse(t, b.Build())
	got := s.Frames[0]
	want := Frame{Number: 1, SegmentNumber: 1, ImagePositionPatient: []float64{0, 0, 7.5},
		ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0}, PixelSpacing: []float64{0.5, 0.5},
		SliceThickness: 1, SourceImages: src, DimensionIndexValues: []int{1, 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("frame (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(b.ReferencedSeries, s.ReferencedSeries); diff != "" {
		t.Errorf("ReferencedSeries (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(b.SourceImages, s.SourceImages); diff != "" {
		t.Errorf("SourceImages (-want +got):\n%s", diff)
	}
	if s.FrameOfReferenceUID != "1.2.3.9" {
		t.Errorf("FrameOfReferenceUID = %q, want 1.2.3.9", s.FrameOfReferenceUID)
	}
}

func TestFixtureEncapsulation(t *testing.T) {
	base := func() *segBuilder {
		b := onePixelPerFrame(uidRLELossless)
		b.Frames = b.Frames[:3]
		return b
	}
	tests := []struct {
		name string
		edit func(*segBuilder)
		// problems are the rule ids expected; decodes is whether frames
		// then decode.
		problems []string
		decodes  bool
	}{
		{"one fragment per frame", func(*segBuilder) {}, nil, true},
		{"offset table", func(b *segBuilder) { b.OffsetTable = true }, nil, true},
		{"two fragments per frame with offset table", func(b *segBuilder) {
			b.OffsetTable, b.FragmentsPerFrame = true, 2
		}, nil, true},
		{"two fragments per frame without offset table", func(b *segBuilder) {
			b.FragmentsPerFrame = 2
		}, []string{"structure.encapsulation/error"}, false},
		{"deflated frames with offset table", func(b *segBuilder) {
			b.TransferSyntax, b.OffsetTable, b.FragmentsPerFrame = uidDeflatedImageFrame, true, 3
		}, nil, true},
		{"native data in an encapsulated syntax", func(b *segBuilder) {
			b.PixelSyntax = uidExplicitVRLittleEndian
		}, []string{"structure.encapsulation/error"}, false},
		{"encapsulated data in a native syntax", func(b *segBuilder) {
			b.TransferSyntax, b.PixelSyntax = uidExplicitVRLittleEndian, uidRLELossless
		}, []string{"structure.encapsulation/error"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := base()
			tt.edit(b)
			s := mustParse(t, b.Build())
			if diff := cmp.Diff(tt.problems, problemRules(s)); diff != "" {
				t.Errorf("Problems (-want +got):\n%s\n%+v", diff, s.Problems)
			}
			var m Mask
			err := s.FrameMask(1, 1, &m)
			if tt.decodes {
				if err != nil {
					t.Fatalf("FrameMask(1): %v", err)
				}
				if diff := cmp.Diff([][2]int{{1, 1}}, pixelsOf(&m)); diff != "" {
					t.Errorf("frame 2 pixels (-want +got):\n%s", diff)
				}
			} else if !errors.Is(err, ErrPixelData) {
				t.Errorf("FrameMask(1) error = %v, want %v", err, ErrPixelData)
			}
		})
	}
}

func TestFixtureUnsupportedTransferSyntax(t *testing.T) {
	for _, ts := range []string{"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.80",
		"1.2.840.10008.1.2.4.201", uidExplicitVRBigEndian, "1.2.3.4.5.6"} {
		t.Run(ts, func(t *testing.T) {
			b := onePixelPerFrame(ts)
			b.PixelSyntax = uidRLELossless
			if ts == uidExplicitVRBigEndian {
				// Big endian data sets are not written by the builder: one
				// frame of 8-bit data reads the same in either byte order.
				b = labelmap(1, 1, 8, []uint16{0}, []uint16{0})
				b.TransferSyntax = ts
			}
			s := mustParse(t, b.Build())
			want := Finding{Rule: "structure.transfer_syntax", Severity: SeverityError,
				Reference: "PS3.5 8.2, PS3.18 10.5.3", FailureReason: 0xC122}
			var got Finding
			for _, p := range s.Problems {
				if p.Rule == want.Rule {
					got = p
				}
			}
			if !strings.Contains(got.Message, ts) {
				t.Errorf("message %q does not name %s", got.Message, ts)
			}
			got.Message = ""
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("transfer syntax finding (-want +got):\n%s", diff)
			}
			var m Mask
			if err := s.FrameMask(0, 1, &m); !errors.Is(err, ErrUnsupportedTransferSyntax) {
				t.Errorf("FrameMask error = %v, want %v", err, ErrUnsupportedTransferSyntax)
			}
			if _, err := s.FrameValues(0, nil); !errors.Is(err, ErrUnsupportedTransferSyntax) {
				t.Errorf("FrameValues error = %v, want %v", err, ErrUnsupportedTransferSyntax)
			}
		})
	}
}

func TestFixtureStructureProblems(t *testing.T) {
	tests := []struct {
		name     string
		edit     func(*segBuilder)
		problems []string
	}{
		{"undefined lengths", func(b *segBuilder) { b.UndefinedLengths = true }, nil},
		{"implicit with undefined lengths", func(b *segBuilder) {
			b.TransferSyntax, b.UndefinedLengths = uidImplicitVRLittleEndian, true
		}, nil},
		{"more frames claimed than per-frame items and data", func(b *segBuilder) {
			b.NumberOfFrames = 9
		}, []string{"structure.functional_groups/error", "structure.pixel_data_length/error"}},
		{"no per-frame functional groups", func(b *segBuilder) { b.OmitPerFrame = true },
			[]string{"structure.functional_groups/error"}},
		{"no pixel data", func(b *segBuilder) { b.OmitPixelData = true },
			[]string{"structure.pixel_data/error"}},
		{"12 bits allocated", func(b *segBuilder) { b.BitsAllocated = 12 },
			[]string{"structure.pixel_data/error"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := onePixelPerFrame("")
			tt.edit(b)
			s := mustParse(t, b.Build())
			if diff := cmp.Diff(tt.problems, problemRules(s)); diff != "" {
				t.Errorf("Problems (-want +got):\n%s\n%+v", diff, s.Problems)
			}
			if len(s.Frames) != max(b.NumberOfFrames, 7) {
				t.Errorf("len(Frames) = %d, want %d", len(s.Frames), max(b.NumberOfFrames, 7))
			}
		})
	}
}

func TestFixtureTiledFull(t *testing.T) {
	// A 20x30 matrix of 10x10 tiles: 2 rows of 3 tiles, for 2 segments.
	b := newSegBuilder(10, 10)
	b.Segments = append(b.Segments, fixtureSegment{Number: 2, Label: "two"})
	b.DimensionOrganizationType = "TILED_FULL"
	b.TotalRows, b.TotalColumns = 20, 30
	b.OmitPerFrame = true
	for k := range 12 {
		b.addFrame(0, [2]int{k % 10, 0})
	}
	s := mustParse(t, b.Build())
	if len(s.Problems) != 0 {
		t.Fatalf("Problems = %+v, want none", s.Problems)
	}
	type tile struct {
		Segment  uint16
		Row, Col int
	}
	var got []tile
	for _, f := range s.Frames {
		got = append(got, tile{f.SegmentNumber, f.RowPositionInTotalImagePixelMatrix,
			f.ColumnPositionInTotalImagePixelMatrix})
	}
	var want []tile
	for seg := uint16(1); seg <= 2; seg++ {
		for _, row := range []int{1, 11} {
			for _, col := range []int{1, 11, 21} {
				want = append(want, tile{seg, row, col})
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tiles (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][2]int{{7, 0}}, maskPixels(t, s, 7, 2)); diff != "" {
		t.Errorf("frame 8 pixels (-want +got):\n%s", diff)
	}
}

func TestFixtureHugeFrameCount(t *testing.T) {
	b := onePixelPerFrame("")
	b.NumberOfFrames = 1_000_000_000
	_, err := ParseSegmentation(b.Build())
	if !errors.Is(err, ErrMalformed) {
		t.Errorf("ParseSegmentation error = %v, want %v", err, ErrMalformed)
	}
}

func TestFixtureOffsetTables(t *testing.T) {
	// Three frames of three fragments each: only an offset table tells
	// them apart.
	for _, tc := range []struct {
		name      string
		basic     bool
		extended  bool
		wantRules []string
	}{
		{"basic", true, false, nil},
		{"extended", false, true, nil},
		{"both", true, true, nil},
		{"none", false, false, []string{"structure.encapsulation/error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := onePixelPerFrame(uidDeflatedImageFrame)
			b.Frames = b.Frames[:3]
			b.FragmentsPerFrame = 3
			b.OffsetTable, b.ExtendedOffsetTable = tc.basic, tc.extended
			s := mustParse(t, b.Build())
			if diff := cmp.Diff(tc.wantRules, problemRules(s)); diff != "" {
				t.Fatalf("Problems (-want +got):\n%s", diff)
			}
			if tc.wantRules != nil {
				return
			}
			for k := range 3 {
				if diff := cmp.Diff([][2]int{{k % 3, k % 5}}, maskPixels(t, s, k, 1)); diff != "" {
					t.Errorf("frame %d pixels (-want +got):\n%s", k+1, diff)
				}
			}
		})
	}
}

func TestFixtureJPEG2000Fragments(t *testing.T) {
	if !jpeg2000Available {
		t.Skip("built without cgo: no JPEG 2000 decoder")
	}
	// The codestreams of the real JPEG 2000 SEG, split into two fragments
	// a frame with no offset table: frames start where a codestream does.
	f, err := readPart10(readReal(t, "pydicom-liver-j2k", "liver_j2k.dcm"))
	if err != nil {
		t.Fatalf("readPart10: %v", err)
	}
	b := newSegBuilder(512, 512)
	b.TransferSyntax = uidJPEG2000Lossless
	b.EncodedFrames = f.pixel.fragments
	b.FragmentsPerFrame = 2
	for range f.pixel.fragments {
		b.Frames = append(b.Frames, fixtureFrame{Segment: 1})
	}
	s := mustParse(t, b.Build())
	if len(s.Problems) != 0 {
		t.Fatalf("Problems = %+v, want none", s.Problems)
	}
	if diff := cmp.Diff(liverForeground, frameCounts(t, s)); diff != "" {
		t.Errorf("foreground per frame (-want +got):\n%s", diff)
	}
}

func TestFrameMaskConcurrent(t *testing.T) {
	// Decoders share pooled buffers and inflaters; run under -race.
	for _, tc := range realCases {
		if !strings.HasPrefix(tc.dir, "pydicom-liver") || (isJPEG2000(tc.ts) &&
			!jpeg2000Available) {
			continue
		}
		s := mustParse(t, readReal(t, tc.dir, tc.file))
		counts := make([][]int, 8)
		var wg sync.WaitGroup
		for g := range counts {
			wg.Go(func() {
				var m Mask
				for i := range s.Frames {
					if err := s.FrameMask(i, 1, &m); err != nil {
						t.Errorf("%s: FrameMask(%d): %v", tc.dir, i, err)
						return
					}
					counts[g] = append(counts[g], m.Count())
				}
			})
		}
		wg.Wait()
		for g, c := range counts {
			if diff := cmp.Diff(tc.foreground, c); diff != "" {
				t.Errorf("%s goroutine %d counts (-want +got):\n%s", tc.dir, g, diff)
			}
		}
	}
}
