package qc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// loadCase returns the SEG file of a real case and a source set holding
// every image under its source/ folder.
func loadCase(t *testing.T, name string) ([]byte, *SourceSet) {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(realDir, name, "*.dcm"))
	if err != nil || len(segs) != 1 {
		t.Fatalf("SEG files of %s = %v (%v), want one", name, segs, err)
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatalf("reading %s: %v", segs[0], err)
	}
	sources := NewSourceSet()
	files, _ := filepath.Glob(filepath.Join(realDir, name, "source", "*.dcm"))
	for _, f := range files {
		sources.Add(readSourceFile(t, f))
	}
	return data, sources
}

// seg is the expected numbers of one segment.
type segWant struct {
	Number int
	Frames int
	Voxels int64
}

// volume returns voxels x row spacing x column spacing x slice spacing in
// mL, the expected volume of a segment.
func volume(voxels int64, row, col, slice float64) float64 {
	return float64(voxels) * row * col * slice / 1000
}

// TestCheckRealCases checks every real SEG against its sources. The
// expected decision of each case, and its reason, come from MANIFEST.md and
// the standard, not from the engine: voxel counts are MANIFEST's per-frame
// foreground counts summed per segment (checked with pydicom where
// MANIFEST lists them truncated), volumes are voxels times the pixel spacing
// and the slice spacing the files give.
func TestCheckRealCases(t *testing.T) {
	const (
		liverSpacing = 0.810547 // mm, PixelSpacing of the liver SEGs and CT
		ct2Spacing   = 0.488281
	)
	liver := []segWant{{1, 3, 36233 + 35645 + 35220}}
	tests := []struct {
		name     string
		decision Decision
		// reason says why, from the data and the standard.
		reason string
		// rules are the IDs of the expected findings, in report order.
		rules    []string
		segments []segWant
		// volumes are the expected volume_ml per segment; nil entries
		// expect null.
		volumes []*float64
	}{
		{
			name:     "dcmqi-ct-liver-binary",
			decision: DecisionAccepted,
			reason:   "valid BINARY SEG, all 3 sources present and on their planes",
			segments: liver,
			volumes:  []*float64{ptr(volume(107098, liverSpacing, liverSpacing, 1.0))},
		},
		{
			name:     "dcmqi-ct-partial-overlaps-5seg",
			decision: DecisionAccepted,
			reason:   "5 overlapping segments (SegmentsOverlap UNDEFINED), empty frames omitted",
			segments: []segWant{
				{1, 1, 9602}, {2, 1, 11888}, {3, 3, 117 + 117 + 10509}, {4, 1, 6693}, {5, 1, 4713},
			},
		},
		{
			name:     "pydicom-liver-rle",
			decision: DecisionAccepted,
			reason:   "liver.dcm re-encoded in RLE Lossless, decodes to the same pixels",
			segments: liver,
		},
		{
			name:     "pydicom-liver-j2k",
			decision: DecisionAccepted,
			reason:   "liver.dcm re-encoded in JPEG 2000 lossless",
			segments: liver,
		},
		{
			name:     "pydicom-liver-deflated-frames",
			decision: DecisionAccepted,
			reason:   "liver.dcm in Deflated Image Frame Compression, which qc decodes",
			segments: liver,
		},
		{
			name:     "pydicom-liver-nonbyte-aligned-510",
			decision: DecisionAcceptedWithWarnings,
			reason: "510x510 crop of the 512x512 CT at offset (0, 0): on the source grid, " +
				"so only a matrix size warning",
			rules:    []string{"geometry.matrix_size"},
			segments: liver,
		},
		{
			name:     "dcmqi-23x38x3-binary-nonbyte-aligned",
			decision: DecisionAccepted,
			reason:   "38x23 frames start mid-byte; all sources present",
			segments: []segWant{{1, 3, 4 + 314 + 4}},
			volumes:  []*float64{ptr(volume(322, 0.7, 0.7, 2.5))},
		},
		{
			name:     "dcmqi-24x38x3-labelmap-sparse-ppv5",
			decision: DecisionAccepted,
			reason: "LABELMAP with background 0, the empty middle slice not encoded, and a " +
				"Pixel Padding Value (5) that no pixel of the encoded frames holds",
			segments: []segWant{{1, 2, 315 + 315}},
			volumes:  []*float64{ptr(volume(630, 0.7, 0.7, 2.5))},
		},
		{
			name:     "highdicom-ct2-binary",
			decision: DecisionAccepted,
			reason: "empty slice omitted; irregular source series, whose median slice " +
				"spacing (1.25 mm) gives the volume",
			segments: []segWant{{1, 3, 127 + 256 + 255}},
			volumes:  []*float64{ptr(volume(638, ct2Spacing, ct2Spacing, 1.25))},
		},
		{
			name:     "highdicom-ct2-true-fractional",
			decision: DecisionAccepted,
			reason:   "FRACTIONAL PROBABILITY; voxels are the values above 0",
			segments: []segWant{{1, 3, 149 + 256 + 256}},
		},
		{
			name:     "highdicom-ct2-binary-overlap-2seg",
			decision: DecisionAccepted,
			reason:   "two overlapping segments, 4 frames each, all sources present",
			segments: []segWant{{1, 4, 4 * 16}, {2, 4, 4 * 4}},
		},
		{
			name:     "highdicom-ct-binary-single-frame",
			decision: DecisionAccepted,
			reason:   "one frame on one CT image",
			segments: []segWant{{1, 1, 1832}},
			volumes:  []*float64{ptr(volume(1832, 0.661468, 0.661468, 5.0))},
		},
		{
			name:     "highdicom-cr-binary-no-frame-of-reference",
			decision: DecisionAccepted,
			reason: "no Frame of Reference on either side: placed by its source image, " +
				"same 16x16 matrix; no pixel spacing, so no volume",
			segments: []segWant{{1, 1, 151}},
			volumes:  []*float64{nil},
		},
		{
			name:     "highdicom-sm-control-labelmap",
			decision: DecisionAcceptedWithWarnings,
			reason:   "label 2 is described but no pixel holds it (segments.empty)",
			rules:    []string{"segments.empty"},
			segments: []segWant{
				{1, 1, 14}, {2, 0, 0}, {3, 1, 23}, {4, 1, 22}, {5, 1, 30}, {6, 1, 31}, {7, 1, 28},
				{8, 1, 23}, {9, 1, 32}, {10, 1, 29}, {11, 1, 25}, {12, 1, 28}, {13, 1, 27},
				{14, 1, 28}, {15, 1, 20}, {16, 1, 31}, {17, 1, 31}, {18, 1, 27}, {19, 2, 44},
				{20, 1, 30},
			},
		},
		{
			name:     "highdicom-sm-dots-50seg",
			decision: DecisionRejected,
			reason: "48 of its 62 tiles have Row and Column Position In Total Image Pixel " +
				"Matrix swapped (written by highdicom 0.4.1, fixed in highdicom PR #36): the " +
				"tile at row 41, column 1 names source frame 5, which lies at row 1, column 41 " +
				"of the TILED_FULL source, and its X/Y Offset in Slide Coordinate System say " +
				"row 1, column 41 too (checked with pydicom for all 62 frames); also segments " +
				"1, 5, 6, 7 and 8 are described with no frame (segments.empty)",
			rules: slices.Concat(
				repeatRule("geometry.tile_position", maxFindingsPerRule),
				repeatRule("segments.empty", 5),
				[]string{"geometry.tile_position"}, // "28 more findings"
			),
		},
		{
			name:     "orthanc-tcga-gbm-brats-3seg-source-missing",
			decision: DecisionRejected,
			reason:   "none of the 32 referenced MR images is available (references.source_missing)",
			rules:    []string{"references.source_missing"},
			segments: []segWant{{1, 32, 683}, {2, 32, 3333}, {3, 32, 2364}},
			volumes: []*float64{
				ptr(volume(683, 0.859375, 0.859375, 5)),
				ptr(volume(3333, 0.859375, 0.859375, 5)),
				ptr(volume(2364, 0.859375, 0.859375, 5)),
			},
		},
	}
	eng := NewEngine(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, sources := loadCase(t, tt.name)
			rep, err := eng.CheckBytes(context.Background(), data, sources)
			if err != nil {
				t.Fatalf("CheckBytes() error: %v", err)
			}
			if rep.Decision != tt.decision {
				t.Errorf("decision = %s, want %s (%s); findings: %+v",
					rep.Decision, tt.decision, tt.reason, rep.Findings)
			}
			var rules []string
			for _, f := range rep.Findings {
				rules = append(rules, f.Rule)
			}
			if diff := cmp.Diff(tt.rules, rules); diff != "" {
				t.Errorf("finding rules mismatch (-want +got):\n%s\nfindings: %+v",
					diff, rep.Findings)
			}
			if tt.segments != nil {
				var got []segWant
				for _, s := range rep.Segments {
					got = append(got, segWant{s.Number, s.Frames, s.Voxels})
				}
				if diff := cmp.Diff(tt.segments, got); diff != "" {
					t.Errorf("segments mismatch (-want +got):\n%s", diff)
				}
			}
			for i, want := range tt.volumes {
				got := rep.Segments[i].VolumeML
				switch {
				case want == nil && got != nil:
					t.Errorf("segment %d volume = %v mL, want null", i+1, *got)
				case want != nil && got == nil:
					t.Errorf("segment %d volume = null, want %v mL", i+1, *want)
				case want != nil && math.Abs(*got-*want) > 1e-9**want:
					t.Errorf("segment %d volume = %v mL, want %v mL", i+1, *got, *want)
				}
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// repeatRule returns n copies of s.
func repeatRule(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// TestCheckSMDotsVoxels checks the 50-segment slide microscopy SEG: 200
// foreground pixels in all (MANIFEST), 4 per frame but 8 in the segments
// with two frames of 4 (counted with pydicom).
func TestCheckSMDotsVoxels(t *testing.T) {
	data, sources := loadCase(t, "highdicom-sm-dots-50seg")
	rep, err := NewEngine(nil).CheckBytes(context.Background(), data, sources)
	if err != nil {
		t.Fatalf("CheckBytes() error: %v", err)
	}
	var total int64
	empty := []int{}
	for _, s := range rep.Segments {
		total += s.Voxels
		if s.Voxels == 0 {
			empty = append(empty, s.Number)
		}
	}
	if total != 200 {
		t.Errorf("total voxels = %d, want 200", total)
	}
	if diff := cmp.Diff([]int{1, 5, 6, 7, 8}, empty); diff != "" {
		t.Errorf("empty segments mismatch (-want +got):\n%s", diff)
	}
	eight := []int{}
	for _, s := range rep.Segments {
		if s.Voxels == 8 {
			eight = append(eight, s.Number)
		}
	}
	if diff := cmp.Diff([]int{31, 35, 41, 43, 50}, eight); diff != "" {
		t.Errorf("segments with 8 voxels mismatch (-want +got):\n%s", diff)
	}
}

// TestCheckReportFields checks the identification, profile and timing
// fields of a report.
func TestCheckReportFields(t *testing.T) {
	data, sources := loadCase(t, "dcmqi-ct-liver-binary")
	eng := NewEngine(nil)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	eng.now = func() time.Time { return at }
	rep, err := eng.CheckBytes(context.Background(), data, sources)
	if err != nil {
		t.Fatalf("CheckBytes() error: %v", err)
	}
	want := &Report{
		SOPInstanceUID:    "1.2.276.0.7230010.3.1.4.0.42154.1458337731.665796",
		SOPClassUID:       SegmentationStorage,
		StudyInstanceUID:  "1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1",
		SeriesInstanceUID: "1.2.276.0.7230010.3.1.3.0.42154.1458337731.665795",
		SourceSeriesUIDs:  []string{"1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"},
		Decision:          DecisionAccepted,
		Profile:           ProfileInfo{Name: "default", Version: "1"},
		SegmentationType:  SegmentationTypeBinary,
		Segments: []SegmentReport{{
			Number: 1, Label: "Liver", Frames: 3, Voxels: 107098,
			VolumeML: ptr(volume(107098, 0.810547, 0.810547, 1)),
		}},
		Findings:  []Finding{},
		CheckedAt: at,
	}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("report mismatch (-want +got):\n%s", diff)
	}
}

// TestCheckCancelled checks that a cancelled context stops the check.
func TestCheckCancelled(t *testing.T) {
	data, sources := loadCase(t, "dcmqi-ct-liver-binary")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep, err := NewEngine(nil).CheckBytes(ctx, data, sources)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CheckBytes(cancelled) error = %v, want context.Canceled", err)
	}
	isCancel := func(f Finding) bool { return f.Rule == RuleCancelled }
	if rep == nil || rep.Decision != DecisionRejected || !slices.ContainsFunc(rep.Findings, isCancel) {
		t.Errorf("CheckBytes(cancelled) report = %+v, want rejected with %s", rep, RuleCancelled)
	}
}

func TestCheckFile(t *testing.T) {
	_, sources := loadCase(t, "highdicom-ct2-binary")
	rep, err := NewEngine(nil).CheckFile(context.Background(),
		filepath.Join(realDir, "highdicom-ct2-binary/seg_image_ct_binary.dcm"), sources)
	if err != nil || rep.Decision != DecisionAccepted || rep.Segments[0].Voxels != 638 {
		t.Errorf("CheckFile() = %+v, %v; want accepted with 638 voxels", rep, err)
	}
	_, err = NewEngine(nil).CheckFile(context.Background(), filepath.Join(realDir, "nope.dcm"), nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("CheckFile(missing) error = %v, want os.ErrNotExist", err)
	}
}

func TestCheckBytesErrors(t *testing.T) {
	src, err := os.ReadFile(filepath.Join(realDir, "dcmqi-ct-liver-binary/source/ct-3slice-01.dcm"))
	if err != nil {
		t.Fatalf("reading source: %v", err)
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"not DICOM", []byte("hello"), ErrNotDICOM},
		{"a CT image", src, ErrNotSegmentation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewEngine(nil).CheckBytes(context.Background(), tt.data, nil)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckBytes(%s) error = %v, want %v", tt.name, err, tt.wantErr)
			}
		})
	}
}

// withTransferSyntax returns a Part 10 file whose File Meta Information
// names another Transfer Syntax UID; the data set is left as it is.
func withTransferSyntax(t *testing.T, data []byte, uid string) []byte {
	t.Helper()
	if len(uid)%2 == 1 {
		uid += "\x00"
	}
	// Group 2 is explicit VR little endian: tag, VR, 2-byte length for UI
	// and UL, 4-byte for OB; (0002,0000) UL gives the length of the rest.
	metaLen := int(binary.LittleEndian.Uint32(data[140:144]))
	var meta []byte
	for p := 144; p < 144+metaLen; {
		elem, vr := binary.LittleEndian.Uint16(data[p+2:]), string(data[p+4:p+6])
		head, n := 8, int(binary.LittleEndian.Uint16(data[p+6:]))
		if vr == "OB" || vr == "UN" || vr == "SQ" {
			head, n = 12, int(binary.LittleEndian.Uint32(data[p+8:]))
		}
		raw := data[p : p+head+n]
		if elem == 0x0010 {
			raw = append(append([]byte{}, data[p:p+6]...), byte(len(uid)), byte(len(uid)>>8))
			raw = append(raw, uid...)
		}
		meta = append(meta, raw...)
		p += head + n
	}
	out := append([]byte{}, data[:140]...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(meta)))
	out = append(out, meta...)
	return append(out, data[144+metaLen:]...)
}

// TestCheckUnsupportedTransferSyntax relabels the RLE liver SEG as JPEG-LS,
// which qc does not decode: the decoder's finding, with Failure Reason
// C122, rejects it, and no per-frame or pixel-count findings follow.
func TestCheckUnsupportedTransferSyntax(t *testing.T) {
	data, sources := loadCase(t, "pydicom-liver-rle")
	data = withTransferSyntax(t, data, "1.2.840.10008.1.2.4.80")
	rep, err := NewEngine(nil).CheckBytes(context.Background(), data, sources)
	if err != nil {
		t.Fatalf("CheckBytes() error: %v", err)
	}
	if rep.Decision != DecisionRejected {
		t.Errorf("decision = %s, want rejected", rep.Decision)
	}
	want := []found{{"structure.transfer_syntax", 0, 0}}
	var got []found
	for _, f := range rep.Findings {
		got = append(got, found{f.Rule, f.Segment, f.Frame})
		if f.Rule == "structure.transfer_syntax" && f.FailureReason != 0xC122 {
			t.Errorf("failure reason = %#x, want 0xC122", f.FailureReason)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s\n%+v", diff, rep.Findings)
	}
	if len(rep.Segments) != 1 || rep.Segments[0].VolumeML != nil || rep.Segments[0].Frames != 3 {
		t.Errorf("segments = %+v, want one of 3 frames without volume", rep.Segments)
	}
}

// TestStructureFindingsCarryA900 checks that structure findings, decoder's
// and engine's, carry Failure Reason A900 unless they have their own.
func TestStructureFindingsCarryA900(t *testing.T) {
	seg, src := baseSeg(), baseSources()
	seg.Segments[0].SegmentLabel = ""
	seg.Problems = []Finding{{Rule: decodeRulePixelDataLength, Severity: SeverityError}}
	rep := NewEngine(nil).Check(context.Background(), seg, src)
	if len(rep.Findings) != 2 {
		t.Fatalf("findings = %+v, want 2", rep.Findings)
	}
	for _, f := range rep.Findings {
		if f.FailureReason != 0xA900 {
			t.Errorf("%s failure reason = %#x, want 0xA900", f.Rule, f.FailureReason)
		}
	}
}

// benchSources returns the 300 source slices of the benchmark SEG of
// decode_bench_test.go: 512x512 CT images 1.25 mm apart, 0.7 mm pixels,
// in the SEG's study and Frame of Reference.
func benchSources(seg *Segmentation) *SourceSet {
	set := NewSourceSet()
	for z := range benchSlices {
		set.Add(&SourceInstance{
			SOPClassUID:         "1.2.840.10008.5.1.4.1.1.2",
			SOPInstanceUID:      fmt.Sprintf("1.2.826.0.1.3680043.8.498.7.%d", z+1),
			SeriesInstanceUID:   "1.2.826.0.1.3680043.8.498.7",
			StudyInstanceUID:    seg.StudyInstanceUID,
			FrameOfReferenceUID: seg.FrameOfReferenceUID,
			Modality:            "CT",
			Rows:                benchRows,
			Columns:             benchColumns,
			NumberOfFrames:      1,
			Frames: []SourceFrame{{
				Number:                  1,
				ImagePositionPatient:    []float64{-180, -180, float64(z) * 1.25},
				ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0},
				PixelSpacing:            []float64{0.7, 0.7},
			}},
		})
	}
	return set
}

// BenchmarkCheckBytes parses and checks the 512x512x300 BINARY SEG of 5
// segments (1500 frames) against its 300 source slices: the target
// is under 1 s an operation on one core.
func BenchmarkCheckBytes(b *testing.B) {
	data, want := benchSEG()
	seg, err := ParseSegmentation(data)
	if err != nil {
		b.Fatal(err)
	}
	sources := benchSources(seg)
	eng := NewEngine(nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := eng.CheckBytes(context.Background(), data, sources)
		if err != nil {
			b.Fatal(err)
		}
		var got int64
		for _, s := range rep.Segments {
			got += s.Voxels
		}
		// The generated SEG has no Referenced Series Sequence: one
		// references.series_listed warning.
		if got != want || rep.Decision != DecisionAcceptedWithWarnings || len(rep.Findings) != 1 {
			b.Fatalf("CheckBytes = %d voxels, %s %+v; want %d, one warning",
				got, rep.Decision, rep.Findings, want)
		}
	}
}

// BenchmarkCheck checks the parsed benchmark SEG: the engine's share of
// BenchmarkCheckBytes.
func BenchmarkCheck(b *testing.B) {
	data, _ := benchSEG()
	seg, err := ParseSegmentation(data)
	if err != nil {
		b.Fatal(err)
	}
	sources := benchSources(seg)
	eng := NewEngine(nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		eng.Check(context.Background(), seg, sources)
	}
}
