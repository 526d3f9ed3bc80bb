package qc

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// realCase holds the facts of one real SEG of testdata/real. Unless a
// comment says otherwise, every value is copied from MANIFEST.md, whose
// facts were verified with pydicom, dcmtk, dciodvfy and a decoder
// independent of this package.
type realCase struct {
	dir, file   string
	ts          string
	sopClass    string
	sopInstance string
	series      string
	frameOfRef  string
	rows, cols  int
	frames      int
	segType     SegmentationType
	// segments lists every segment number; labels the first labels.
	segments []uint16
	labels   []string
	// frameSegments is the Referenced Segment Number of every frame; nil
	// for label maps, which have none.
	frameSegments []uint16
	// foreground is the number of non-zero pixels of every frame.
	foreground []int
	// labelVoxels counts the pixels of each label value (label maps).
	labelVoxels map[uint16]int
	refSeries   string
	refCount    int
	// zs are the distinct z values of Image Position (Patient).
	zs []float64
	// sourceFrameNumbers is set when every frame's source reference names
	// a frame of a multi-frame source.
	sourceFrameNumbers bool
}

func repeat[T any](v T, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = v
	}
	return out
}

func seq16(from, to uint16) []uint16 {
	var out []uint16
	for v := from; v <= to; v++ {
		out = append(out, v)
	}
	return out
}

const liverStudyFoR = "1.2.392.200103.20080913.113635.3.2009.6.22.21.44.34.23882.1"
const liverSourceSeries = "1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"

var liverForeground = []int{36233, 35645, 35220}
var liverZ = []float64{-128.69, -127.69, -126.69}

var realCases = []realCase{
	{
		dir: "dcmqi-ct-liver-binary", file: "liver.dcm", ts: uidExplicitVRLittleEndian,
		sopClass:    SegmentationStorage,
		sopInstance: "1.2.276.0.7230010.3.1.4.0.42154.1458337731.665796",
		series:      "1.2.276.0.7230010.3.1.3.0.42154.1458337731.665795",
		frameOfRef:  liverStudyFoR, rows: 512, cols: 512, frames: 3, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"Liver"}, frameSegments: []uint16{1, 1, 1},
		foreground: liverForeground, refSeries: liverSourceSeries, refCount: 3, zs: liverZ,
	},
	{
		dir: "dcmqi-ct-partial-overlaps-5seg", file: "partial_overlaps.dcm",
		ts: uidExplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.276.0.7230010.3.1.4.13879174.191011.1701890452.128470",
		series:      "1.2.276.0.7230010.3.1.3.13879174.191011.1701890452.128469",
		frameOfRef:  liverStudyFoR, rows: 512, cols: 512, frames: 7, segType: "BINARY",
		segments: []uint16{1, 2, 3, 4, 5},
		labels:   []string{"GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"},
		// Frames per segment {1: 1, 2: 1, 3: 3, 4: 1, 5: 1}, in frame order.
		frameSegments: []uint16{1, 2, 3, 3, 3, 4, 5},
		foreground:    []int{9602, 11888, 117, 117, 10509, 6693, 4713},
		refSeries:     liverSourceSeries, refCount: 3, zs: liverZ,
	},
	{
		dir: "pydicom-liver-rle", file: "liver_rle.dcm", ts: uidRLELossless,
		sopClass:    SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.8.498.82711305854074511338642534035912131284",
		series:      "1.2.826.0.1.3680043.8.498.3564972764433774253219107365775965158",
		frameOfRef:  liverStudyFoR, rows: 512, cols: 512, frames: 3, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"Liver"}, frameSegments: []uint16{1, 1, 1},
		foreground: liverForeground, refSeries: liverSourceSeries, refCount: 3, zs: liverZ,
	},
	{
		dir: "pydicom-liver-j2k", file: "liver_j2k.dcm", ts: uidJPEG2000Lossless,
		sopClass:    SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.8.498.48839624056933092612726387696714904348",
		series:      "1.2.826.0.1.3680043.8.498.15452919607129862464002678946478095612",
		frameOfRef:  liverStudyFoR, rows: 512, cols: 512, frames: 3, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"Liver"}, frameSegments: []uint16{1, 1, 1},
		foreground: liverForeground, refSeries: liverSourceSeries, refCount: 3, zs: liverZ,
	},
	{
		dir: "pydicom-liver-deflated-frames", file: "liver_deflate.dcm", ts: uidDeflatedImageFrame,
		sopClass:    SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.8.498.11292069848099143391460820495139596116",
		series:      "1.2.826.0.1.3680043.8.498.16366991862428260128829822847373435474",
		frameOfRef:  liverStudyFoR, rows: 512, cols: 512, frames: 3, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"Liver"}, frameSegments: []uint16{1, 1, 1},
		foreground: liverForeground, refSeries: liverSourceSeries, refCount: 3, zs: liverZ,
	},
	{
		dir: "pydicom-liver-nonbyte-aligned-510", file: "liver_nonbyte_aligned.dcm",
		ts: uidExplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.8.498.21030306363353744389552298683532131927",
		series:      "1.2.276.0.7230010.3.1.3.0.42154.1458337731.665795",
		frameOfRef:  liverStudyFoR, rows: 510, cols: 510, frames: 3, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"Liver"}, frameSegments: []uint16{1, 1, 1},
		foreground: liverForeground, refSeries: liverSourceSeries, refCount: 3, zs: liverZ,
	},
	{
		dir: "dcmqi-23x38x3-binary-nonbyte-aligned", file: "label.seg.dcm",
		ts: uidExplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.276.0.7230010.3.1.4.0.65241.1523399608.764874",
		series:      "1.2.276.0.7230010.3.1.3.0.65241.1523399608.764873",
		frameOfRef:  "1.2.826.0.1.3680043.2.1125.1.16442666045229434307149789171700769",
		rows:        38, cols: 23, frames: 3, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"Liver"}, frameSegments: []uint16{1, 1, 1},
		foreground: []int{4, 314, 4},
		refSeries:  "1.2.826.0.1.3680043.2.1125.1.31406211013692525450623069050794718",
		refCount:   3, zs: []float64{-177.75, -175.25, -172.75},
	},
	{
		dir: "dcmqi-24x38x3-labelmap-sparse-ppv5", file: "sparse-labelmap-ppv5.dcm",
		ts: uidExplicitVRLittleEndian, sopClass: LabelMapSegmentationStorage,
		sopInstance: "1.2.276.0.7230010.3.1.4.8323329.114908.1781279372.413280",
		series:      "1.2.276.0.7230010.3.1.3.8323329.114908.1781279372.413279",
		frameOfRef:  "1.2.826.0.1.3680043.2.1125.1.91107089595205807043185863214762603",
		rows:        38, cols: 24, frames: 2, segType: "LABELMAP",
		segments: []uint16{0, 1}, labels: []string{"Background", "Liver"},
		foreground: []int{315, 315},
		// Label totals from an independent pydicom and numpy decode.
		labelVoxels: map[uint16]int{0: 1194, 1: 630},
		refSeries:   "1.2.826.0.1.3680043.2.1125.1.9881642883347102869241902700569139",
		refCount:    2, zs: []float64{-177.75, -172.75},
	},
	{
		dir: "highdicom-ct2-binary", file: "seg_image_ct_binary.dcm",
		ts: uidImplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.10.511.3.13328978933257881317937615676904125",
		series:      "1.2.826.0.1.3680043.10.511.3.80444451612581703766393849041349930",
		frameOfRef:  "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.4",
		rows:        16, cols: 16, frames: 3, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"first segment"}, frameSegments: []uint16{1, 1, 1},
		foreground: []int{127, 256, 255},
		refSeries:  "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2", refCount: 4,
		zs: []float64{103.02, 104.27, 105.52},
	},
	{
		dir: "highdicom-ct2-true-fractional", file: "seg_image_ct_true_fractional.dcm",
		ts: uidImplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.10.511.3.11933987111205752238753209226368365",
		series:      "1.2.826.0.1.3680043.10.511.3.11638767754665357544660152386839409",
		frameOfRef:  "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.4",
		rows:        16, cols: 16, frames: 3, segType: "FRACTIONAL",
		segments: []uint16{1}, labels: []string{"first segment"}, frameSegments: []uint16{1, 1, 1},
		foreground: []int{149, 256, 256},
		refSeries:  "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2", refCount: 4,
		zs: []float64{103.02, 104.27, 105.52},
	},
	{
		dir: "highdicom-ct2-binary-overlap-2seg", file: "seg_image_ct_binary_overlap.dcm",
		ts: uidImplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.10.511.3.10391363598389075877106055067323399",
		series:      "1.2.826.0.1.3680043.10.511.3.29553408758377601417849803759888851",
		frameOfRef:  "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.4",
		rows:        16, cols: 16, frames: 8, segType: "BINARY",
		segments: []uint16{1, 2}, labels: []string{"first segment", "second segment"},
		// Frames per segment {1: 4, 2: 4}, in frame order.
		frameSegments: []uint16{1, 1, 1, 1, 2, 2, 2, 2},
		foreground:    []int{16, 16, 16, 16, 4, 4, 4, 4},
		refSeries:     "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2", refCount: 4,
		zs: []float64{-99.48, 103.02, 104.27, 105.52},
	},
	{
		dir: "highdicom-ct-binary-single-frame", file: "seg_image_ct_binary_single_frame.dcm",
		ts: uidImplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.10.511.3.11760884511913886385671360413641752",
		series:      "1.2.826.0.1.3680043.10.511.3.43615622050288757512599673944505032",
		frameOfRef:  "1.3.6.1.4.1.5962.1.4.1.1.20040119072730.12322",
		rows:        128, cols: 128, frames: 1, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"first segment"}, frameSegments: []uint16{1},
		foreground: []int{1832},
		refSeries:  "1.3.6.1.4.1.5962.1.3.1.1.20040119072730.12322", refCount: 1,
		zs: []float64{-75.7},
	},
	{
		dir: "highdicom-cr-binary-no-frame-of-reference", file: "seg_image_cr_binary.dcm",
		ts: uidExplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.10.511.3.19470716337510180961421966679400599",
		series:      "1.2.826.0.1.3680043.10.511.3.75242935203493385780152171061645138",
		rows:        16, cols: 16, frames: 1, segType: "BINARY",
		segments: []uint16{1}, labels: []string{"first segment"}, frameSegments: []uint16{1},
		foreground: []int{151},
		refSeries:  "1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.10", refCount: 1,
	},
	{
		dir: "highdicom-sm-control-labelmap", file: "seg_image_sm_control_labelmap.dcm",
		ts: uidExplicitVRLittleEndian, sopClass: LabelMapSegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.10.511.3.33000865453056346086749834479018036",
		series:      "1.2.826.0.1.3680043.10.511.3.20843451947520645180095282796151353",
		frameOfRef:  "1.2.826.0.1.3680043.9.7433.2.1",
		rows:        10, cols: 10, frames: 20, segType: "LABELMAP",
		segments: seq16(0, 20), labels: []string{"Background", "RGB(37, 231, 253)"},
		foreground: []int{32, 29, 31, 31, 23, 28, 25, 27, 27, 28, 22, 31, 28, 30, 30, 23, 20,
			22, 22, 14},
		// Label totals from an independent pydicom and numpy decode; label 2
		// is described but has no pixel.
		labelVoxels: map[uint16]int{0: 1477, 1: 14, 2: 0, 3: 23, 4: 22, 5: 30, 6: 31, 7: 28,
			8: 23, 9: 32, 10: 29, 11: 25, 12: 28, 13: 27, 14: 28, 15: 20, 16: 31, 17: 31,
			18: 27, 19: 44, 20: 30},
		refSeries:          "1.2.826.0.1.3680043.9.7433.3.57084118109582350083572639456817453",
		refCount:           1,
		sourceFrameNumbers: true,
	},
	{
		dir: "highdicom-sm-dots-50seg", file: "seg_image_sm_dots.dcm",
		ts: uidImplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.826.0.1.3680043.8.498.10230567335252703350357406946916509321",
		series:      "1.2.826.0.1.3680043.8.498.89839028501393567891015650912009496184",
		frameOfRef:  "1.2.826.0.1.3680043.9.7433.2.1",
		rows:        10, cols: 10, frames: 62, segType: "BINARY",
		segments: seq16(1, 50), labels: []string{"RGB(36, 231, 253)"},
		// MANIFEST.md truncates these two lists; the full lists come from an
		// independent pydicom and numpy decode (np.unpackbits, little bit
		// order) and agree with the manifest's first 40 values and total 200.
		frameSegments: []uint16{2, 3, 4, 9, 10, 11, 12, 13, 14, 15, 16, 16, 17, 18, 19, 20, 21,
			22, 23, 24, 25, 26, 27, 28, 28, 29, 30, 30, 31, 31, 31, 31, 31, 31, 32, 33, 34, 35,
			35, 36, 36, 37, 38, 39, 39, 40, 41, 41, 41, 42, 43, 43, 43, 44, 44, 45, 46, 47, 48,
			49, 50, 50},
		foreground: []int{4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 2, 2, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4,
			2, 2, 4, 2, 2, 2, 2, 1, 1, 1, 1, 4, 4, 4, 4, 4, 2, 2, 4, 4, 2, 2, 4, 2, 2, 4, 4, 2,
			2, 4, 2, 2, 4, 4, 4, 4, 4, 4, 4},
		refSeries:          "1.2.826.0.1.3680043.9.7433.3.57084118109582350083572639456817453",
		refCount:           1,
		sourceFrameNumbers: true,
	},
	{
		dir: "orthanc-tcga-gbm-brats-3seg-source-missing", file: "DicomSeg.dcm",
		ts: uidExplicitVRLittleEndian, sopClass: SegmentationStorage,
		sopInstance: "1.2.276.0.7230010.3.1.4.8323329.356949.1540933411.360229",
		series:      "1.2.276.0.7230010.3.1.3.8323329.356949.1540933411.360228",
		frameOfRef:  "1.3.6.1.4.1.14519.5.2.1.7695.4001.323175871047234548026456122140",
		rows:        256, cols: 256, frames: 96, segType: "BINARY",
		segments: []uint16{1, 2, 3}, labels: []string{"Necrosis", "Edema", "Enhancing Lesion"},
		frameSegments: slices.Concat(repeat[uint16](1, 32), repeat[uint16](2, 32),
			repeat[uint16](3, 32)),
		// MANIFEST.md truncates this list; the full list comes from an
		// independent pydicom and numpy decode and agrees with the
		// manifest's first 40 values, total 6380 and 73 empty frames.
		foreground: []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 151, 122, 197, 120, 77, 0, 0, 0,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 0, 32, 337, 377, 396,
			519, 465, 598, 603, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0, 0, 0, 0, 200, 386, 531, 441, 517, 270, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
			0},
		refSeries: "1.3.6.1.4.1.14519.5.2.1.7695.4001.116744760614299221617250951944",
		refCount:  32,
	},
}

// readReal reads a file of testdata/real.
func readReal(t testing.TB, dir, file string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "real", dir, file))
	if err != nil {
		t.Fatalf("reading test data: %v", err)
	}
	return data
}

func TestParseSegmentationRealCases(t *testing.T) {
	for _, tc := range realCases {
		t.Run(tc.dir, func(t *testing.T) {
			s := mustParse(t, readReal(t, tc.dir, tc.file))
			if isJPEG2000(tc.ts) && !jpeg2000Available {
				checkNoJPEG2000(t, s)
				return
			}
			checkRealAttributes(t, s, tc)
			checkRealFrames(t, s, tc)
			checkRealPixels(t, s, tc)
		})
	}
}

func isJPEG2000(ts string) bool { return ts == uidJPEG2000Lossless || ts == uidJPEG2000 }

// checkNoJPEG2000 checks a JPEG 2000 SEG read by a build without cgo: it is
// read, flagged as undecodable, and its frames say so.
func checkNoJPEG2000(t *testing.T, s *Segmentation) {
	t.Helper()
	if diff := cmp.Diff([]string{"structure.transfer_syntax/error"}, problemRules(s)); diff != "" {
		t.Errorf("Problems without cgo (-want +got):\n%s", diff)
	}
	var m Mask
	if err := s.FrameMask(0, 1, &m); !errors.Is(err, ErrUnsupportedTransferSyntax) {
		t.Errorf("FrameMask error = %v, want %v", err, ErrUnsupportedTransferSyntax)
	}
}

func checkRealAttributes(t *testing.T, s *Segmentation, tc realCase) {
	t.Helper()
	type attrs struct {
		TS, Class, Instance, Series, FoR string
		Rows, Cols, Frames, FrameItems   int
		Type                             SegmentationType
		Problems                         []string
	}
	got := attrs{s.TransferSyntaxUID, s.SOPClassUID, s.SOPInstanceUID, s.SeriesInstanceUID,
		s.FrameOfReferenceUID, s.Rows, s.Columns, s.NumberOfFrames, len(s.Frames),
		s.SegmentationType, problemRules(s)}
	want := attrs{tc.ts, tc.sopClass, tc.sopInstance, tc.series, tc.frameOfRef,
		tc.rows, tc.cols, tc.frames, tc.frames, tc.segType, nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseSegmentation attributes (-want +got):\n%s", diff)
	}

	var numbers []uint16
	var labels []string
	for i, seg := range s.Segments {
		numbers = append(numbers, seg.SegmentNumber)
		if i < len(tc.labels) {
			labels = append(labels, seg.SegmentLabel)
		}
		for _, k := range []string{"SegmentNumber", "SegmentLabel", "SegmentAlgorithmType",
			"SegmentedPropertyCategoryCodeSequence", "SegmentedPropertyTypeCodeSequence"} {
			if !seg.Present[k] {
				t.Errorf("segment %d: Present[%s] = false, want true", seg.SegmentNumber, k)
			}
		}
	}
	if diff := cmp.Diff(tc.segments, numbers); diff != "" {
		t.Errorf("segment numbers (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(tc.labels, labels); diff != "" {
		t.Errorf("segment labels (-want +got):\n%s", diff)
	}
	if len(s.ReferencedSeries) != 1 || s.ReferencedSeries[0].SeriesInstanceUID != tc.refSeries ||
		len(s.ReferencedSeries[0].Instances) != tc.refCount {
		t.Errorf("ReferencedSeries = %+v, want series %s with %d instances",
			s.ReferencedSeries, tc.refSeries, tc.refCount)
	}
}

func checkRealFrames(t *testing.T, s *Segmentation, tc realCase) {
	t.Helper()
	var segs []uint16
	zset := map[float64]bool{}
	for _, f := range s.Frames {
		if tc.frameSegments != nil {
			segs = append(segs, f.SegmentNumber)
		}
		if len(f.ImagePositionPatient) == 3 {
			zset[math.Round(f.ImagePositionPatient[2]*1000)/1000] = true
		}
		if len(f.SourceImages) != 1 || f.SourceImages[0].SOPInstanceUID == "" {
			t.Errorf("frame %d: SourceImages = %+v, want one reference", f.Number, f.SourceImages)
		} else if got := len(f.SourceImages[0].ReferencedFrameNumber) > 0; got !=
			tc.sourceFrameNumbers {
			t.Errorf("frame %d: has Referenced Frame Number = %v, want %v", f.Number, got,
				tc.sourceFrameNumbers)
		}
	}
	if diff := cmp.Diff(tc.frameSegments, segs); diff != "" {
		t.Errorf("frame segment numbers (-want +got):\n%s", diff)
	}
	if tc.zs != nil {
		var zs []float64
		for z := range zset {
			zs = append(zs, z)
		}
		slices.Sort(zs)
		if diff := cmp.Diff(tc.zs, zs); diff != "" {
			t.Errorf("frame z positions (-want +got):\n%s", diff)
		}
	}
}

func checkRealPixels(t *testing.T, s *Segmentation, tc realCase) {
	t.Helper()
	var vals []uint16
	var m Mask
	foreground := make([]int, len(s.Frames))
	labels := map[uint16]int{}
	for i, f := range s.Frames {
		var err error
		vals, err = s.FrameValues(i, vals)
		if err != nil {
			t.Fatalf("FrameValues(%d): %v", i, err)
		}
		for _, v := range vals {
			if v != 0 {
				foreground[i]++
			}
		}
		if tc.segType == SegmentationTypeLabelmap {
			for _, seg := range tc.segments {
				if err := s.FrameMask(i, seg, &m); err != nil {
					t.Fatalf("FrameMask(%d, %d): %v", i, seg, err)
				}
				labels[seg] += m.Count()
			}
			continue
		}
		if err := s.FrameMask(i, f.SegmentNumber, &m); err != nil {
			t.Fatalf("FrameMask(%d, %d): %v", i, f.SegmentNumber, err)
		}
		if got := m.Count(); got != foreground[i] {
			t.Errorf("FrameMask(%d, %d).Count() = %d, want the %d non-zero values", i,
				f.SegmentNumber, got, foreground[i])
		}
	}
	if diff := cmp.Diff(tc.foreground, foreground); diff != "" {
		t.Errorf("foreground pixels per frame (-want +got):\n%s", diff)
	}
	if tc.labelVoxels != nil {
		if diff := cmp.Diff(tc.labelVoxels, labels); diff != "" {
			t.Errorf("pixels per label (-want +got):\n%s", diff)
		}
	}
}

func TestParseSegmentationRealGeometry(t *testing.T) {
	// The TCGA SEG writes its orientation with "-0" strings (MANIFEST.md).
	s := mustParse(t, readReal(t, "orthanc-tcga-gbm-brats-3seg-source-missing", "DicomSeg.dcm"))
	iop := s.Frames[0].ImageOrientationPatient
	if diff := cmp.Diff([]float64{0, 1, 0, 1, 0, 0}, iop); diff != "" {
		t.Errorf("ImageOrientationPatient (-want +got):\n%s", diff)
	}

	// The CR SEG has no Frame of Reference and no plane geometry.
	s = mustParse(t, readReal(t, "highdicom-cr-binary-no-frame-of-reference",
		"seg_image_cr_binary.dcm"))
	if s.Present["FrameOfReferenceUID"] || s.Frames[0].ImagePositionPatient != nil {
		t.Errorf("CR SEG: FrameOfReferenceUID present = %v, position %v; want neither",
			s.Present["FrameOfReferenceUID"], s.Frames[0].ImagePositionPatient)
	}

	// The slide label map places its 20 tiles in a 50x50 matrix of 10x10
	// tiles; frame 2 starts at row 1, column 11 (pydicom).
	s = mustParse(t, readReal(t, "highdicom-sm-control-labelmap",
		"seg_image_sm_control_labelmap.dcm"))
	f := s.Frames[1]
	got := []int{s.TotalPixelMatrixRows, s.TotalPixelMatrixColumns,
		f.RowPositionInTotalImagePixelMatrix, f.ColumnPositionInTotalImagePixelMatrix}
	if diff := cmp.Diff([]int{50, 50, 1, 11}, got); diff != "" {
		t.Errorf("tile placement (-want +got):\n%s", diff)
	}
	if s.PixelPaddingValue == nil || *s.PixelPaddingValue != 0 ||
		s.DimensionOrganizationType != "TILED_SPARSE" {
		t.Errorf("PixelPaddingValue %v, DimensionOrganizationType %q; want 0, TILED_SPARSE",
			s.PixelPaddingValue, s.DimensionOrganizationType)
	}

	// dcmqi's sparse label map sets Pixel Padding Value 5.
	s = mustParse(t, readReal(t, "dcmqi-24x38x3-labelmap-sparse-ppv5", "sparse-labelmap-ppv5.dcm"))
	if s.PixelPaddingValue == nil || *s.PixelPaddingValue != 5 {
		t.Errorf("PixelPaddingValue = %v, want 5", s.PixelPaddingValue)
	}
}

func TestParseSegmentationFractional(t *testing.T) {
	s := mustParse(t, readReal(t, "highdicom-ct2-true-fractional",
		"seg_image_ct_true_fractional.dcm"))
	if s.SegmentationFractionalType != SegmentationFractionalTypeProbability ||
		s.MaximumFractionalValue != 255 || s.BitsAllocated != 8 {
		t.Errorf("fractional attributes %q %d bits %d, want PROBABILITY 255 bits 8",
			s.SegmentationFractionalType, s.MaximumFractionalValue, s.BitsAllocated)
	}
	// Values 0, 64 and 128 occur 107, 23 and 638 times (pydicom and numpy).
	hist := map[uint16]int{}
	var vals []uint16
	for i := range s.Frames {
		var err error
		if vals, err = s.FrameValues(i, vals); err != nil {
			t.Fatalf("FrameValues(%d): %v", i, err)
		}
		for _, v := range vals {
			hist[v]++
		}
	}
	if diff := cmp.Diff(map[uint16]int{0: 107, 64: 23, 128: 638}, hist); diff != "" {
		t.Errorf("value histogram (-want +got):\n%s", diff)
	}
}

func TestParseSegmentationErrors(t *testing.T) {
	liver := readReal(t, "dcmqi-ct-liver-binary", "liver.dcm")
	source := readReal(t, "dcmqi-ct-liver-binary", "source/ct-3slice-01.dcm")
	truncated := slices.Clone(liver[:2000])
	tests := []struct {
		name    string
		data    []byte
		wantErr error
	}{
		{"empty", nil, ErrNotDICOM},
		{"no preamble", []byte("DICM plus some bytes that are not a file"), ErrNotDICOM},
		{"CT image", source, ErrNotSegmentation},
		{"truncated inside the data set", truncated, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseSegmentation(tt.data)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ParseSegmentation() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestFrameMaskErrors(t *testing.T) {
	s := mustParse(t, readReal(t, "dcmqi-ct-liver-binary", "liver.dcm"))
	var m Mask
	for _, i := range []int{-1, 3} {
		if err := s.FrameMask(i, 1, &m); !errors.Is(err, ErrFrameRange) {
			t.Errorf("FrameMask(%d) error = %v, want %v", i, err, ErrFrameRange)
		}
	}
	// A frame of another segment is empty; frame 1 holds segment 1.
	if err := s.FrameMask(0, 2, &m); err != nil || !m.Empty() || m.Rows != 512 {
		t.Errorf("FrameMask(0, 2) = %v, empty %v, rows %d; want nil, true, 512", err,
			m.Empty(), m.Rows)
	}
}
