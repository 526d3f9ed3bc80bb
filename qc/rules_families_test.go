package qc

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// familyProfile enables every optional family with a vocabulary of liver,
// spleen and a right kidney; thresholds small enough for 0.5 x 0.5 x 1 mm
// voxels (0.25 mm3).
const familyProfile = `name: families
version: "1"
vocabulary:
  - id: liver
    category: {scheme: SCT, code: "123037004", meaning: Anatomical Structure}
    type: {scheme: SCT, code: "10200004", meaning: Liver}
    labels: [Liver]
    volume_ml: {min: 0.001, max: 0.1}
    max_components: 1
  - id: spleen
    category: {scheme: SCT, code: "123037004", meaning: Anatomical Structure}
    type: {scheme: SCT, code: "78961009", meaning: Spleen}
    labels: [Spleen]
  - id: kidney-right
    category: {scheme: SCT, code: "123037004", meaning: Anatomical Structure}
    type: {scheme: SCT, code: "64033007", meaning: Kidney}
    modifier: {scheme: SCT, code: "24028007", meaning: Right}
required:
  - when: {modality: [CT]}
    segments: [liver, spleen]
thresholds: {island_mm3: 1, hole_mm3: 0.5, air_share_max: 0.1, dice_min: 0.85,
  hd95_max_mm: 0.4}
rules:
  labels: {enabled: true}
  completeness: {enabled: true}
  overlap: {enabled: true}
  fractional: {enabled: true}
  plausibility: {enabled: true}
  boundary: {enabled: true}
  agreement: {enabled: true}
`

// plane is one slice of a test segment: rows of '#' (set) and '.' (clear);
// a nil plane has no frame.
type plane []string

// volSegment is a test segment: its description and its planes, plane k at
// z = k mm.
type volSegment struct {
	desc   SegmentDescription
	planes []plane
}

// Codes of the test vocabulary.
var (
	cAnat   = CodedConcept{"123037004", "SCT", "Anatomical Structure"}
	cLiver  = CodedConcept{"10200004", "SCT", "Liver"}
	cSpleen = CodedConcept{"78961009", "SCT", "Spleen"}
	cKidney = CodedConcept{"64033007", "SCT", "Kidney"}
	cRight  = CodedConcept{"24028007", "SCT", "Right"}
	cTissue = CodedConcept{"T-D0050", "SRT", "Tissue"}
)

func seg(n uint16, label string, typ CodedConcept, planes ...plane) volSegment {
	return volSegment{desc: SegmentDescription{SegmentNumber: n, SegmentLabel: label,
		SegmentAlgorithmType: "MANUAL", SegmentedPropertyCategory: cAnat,
		SegmentedPropertyType: typ}, planes: planes}
}

// volumeSeg builds a BINARY SEG of rows x cols frames, 0.5 mm pixels at
// origin (0, 0, k), one frame per segment and non-nil plane, with CT sources
// of nplanes slices 1 mm apart.
func volumeSeg(uid string, rows, cols, nplanes int, segs ...volSegment) (*Segmentation,
	*SourceSet) {
	src := NewSourceSet()
	s := &Segmentation{
		SOPClassUID: tSegClass, SOPInstanceUID: uid, StudyInstanceUID: tStudy,
		SeriesInstanceUID: uid + ".1", FrameOfReferenceUID: tFoR, Modality: "SEG",
		Rows: rows, Columns: cols, BitsAllocated: 1, BitsStored: 1,
		SegmentationType: SegmentationTypeBinary,
	}
	rs := ReferencedSeries{SeriesInstanceUID: tSeries}
	for k := range nplanes {
		src.Add(&SourceInstance{
			SOPClassUID: "1.2.840.10008.5.1.4.1.1.2", SOPInstanceUID: tInstance(k + 1),
			SeriesInstanceUID: tSeries, StudyInstanceUID: tStudy, FrameOfReferenceUID: tFoR,
			Modality: "CT", Rows: rows, Columns: cols, NumberOfFrames: 1,
			Frames: []SourceFrame{{Number: 1, ImagePositionPatient: []float64{0, 0,
				float64(k)}, ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0},
				PixelSpacing: []float64{0.5, 0.5}, SliceThickness: 1}},
		})
		rs.Instances = append(rs.Instances, ImageReference{SOPInstanceUID: tInstance(k + 1)})
	}
	s.ReferencedSeries = []ReferencedSeries{rs}
	var frames [][]byte
	for _, vs := range segs {
		s.Segments = append(s.Segments, vs.desc)
		for k, p := range vs.planes {
			if p == nil {
				continue
			}
			f := baseFrame(len(s.Frames)+1, vs.desc.SegmentNumber, k+1)
			f.ImagePositionPatient = []float64{0, 0, float64(k)}
			s.Frames = append(s.Frames, f)
			frames = append(frames, packPlane(p, rows, cols))
		}
	}
	s.NumberOfFrames = len(s.Frames)
	s.pixels = testPixels{frames: frames}
	return s, src
}

// packPlane packs a plane LSB first; rows missing from p are clear.
func packPlane(p plane, rows, cols int) []byte {
	out := make([]byte, (rows*cols+7)/8)
	for r, line := range p {
		for c, ch := range line {
			if ch == '#' {
				i := r*cols + c
				out[i/8] |= 1 << (i % 8)
			}
		}
	}
	return out
}

// block returns a plane of rows x cols with the rectangle r0..r1, c0..c1
// (inclusive) set.
func block(rows, cols, r0, r1, c0, c1 int) plane {
	p := make(plane, rows)
	for r := range rows {
		b := []byte(strings.Repeat(".", cols))
		for c := c0; c <= c1 && r >= r0 && r <= r1; c++ {
			b[c] = '#'
		}
		p[r] = string(b)
	}
	return p
}

// liverBlock is a 4x4 liver on planes 0 and 1 of an 8x8 grid, away from the
// borders: 32 voxels of 0.25 mm3, 0.008 mL.
func liverBlock() volSegment {
	b := block(8, 8, 2, 5, 2, 5)
	return seg(1, "Liver", cLiver, b, b)
}

// spleenBlock is a one-voxel spleen on planes 0 and 1, away from the liver.
func spleenBlock() volSegment {
	return seg(2, "Spleen", cSpleen, block(8, 8, 6, 6, 6, 6), block(8, 8, 6, 6, 6, 6))
}

// familyCase is one test of the optional families.
type familyCase struct {
	name string
	// build returns the SEG, its sources and options.
	build func() (*Segmentation, *SourceSet, CheckOptions)
	// rules are the rule IDs compared; want their findings.
	rules []string
	want  []found
	// wantText must appear in the first finding compared.
	wantText string
}

func runFamilyCases(t *testing.T, cases []familyCase) {
	t.Helper()
	p, err := ParseProfile([]byte(familyProfile))
	if err != nil {
		t.Fatalf("ParseProfile() error: %v", err)
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			s, src, opts := tt.build()
			rep := NewEngine(p).CheckWith(context.Background(), s, src, opts)
			var got []found
			var first string
			for _, f := range rep.Findings {
				for _, id := range tt.rules {
					if f.Rule == id {
						if got == nil {
							first = f.Message
						}
						got = append(got, found{f.Rule, f.Segment, f.Frame})
					}
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s\nall findings: %+v", diff,
					rep.Findings)
			}
			if tt.wantText != "" && !strings.Contains(first, tt.wantText) {
				t.Errorf("message = %q, want it to contain %q", first, tt.wantText)
			}
		})
	}
}

// opts0 wraps a SEG and sources with no options.
func opts0(s *Segmentation, src *SourceSet) (*Segmentation, *SourceSet, CheckOptions) {
	return s, src, CheckOptions{}
}

func TestRulesLabels(t *testing.T) {
	ids := []string{"labels.vocabulary", "labels.unique", "labels.consistent"}
	runFamilyCases(t, []familyCase{
		{
			name: "clean",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return opts0(volumeSeg("1.9.1", 8, 8, 2, liverBlock(), spleenBlock()))
			},
			rules: ids,
		},
		{
			name: "code outside the vocabulary; OHIF Tissue mapped by label",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				sp := spleenBlock()
				sp.desc.SegmentedPropertyCategory, sp.desc.SegmentedPropertyType =
					cTissue, cTissue
				tumour := seg(3, "Tumour", CodedConcept{"108369006", "SCT", "Neoplasm"},
					block(8, 8, 0, 0, 0, 0))
				return opts0(volumeSeg("1.9.1", 8, 8, 2, liverBlock(), sp, tumour))
			},
			rules: ids,
			want:  []found{{"labels.vocabulary", 3, 0}},
			wantText: `segment 3 ("Tumour") has category (123037004, SCT, "Anatomical ` +
				`Structure"), type (108369006, SCT, "Neoplasm")`,
		},
		{
			name: "label used twice",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				sp := spleenBlock()
				sp.desc.SegmentLabel = " liver"
				return opts0(volumeSeg("1.9.1", 8, 8, 2, liverBlock(), sp))
			},
			rules:    []string{"labels.unique"},
			want:     []found{{"labels.unique", 2, 0}},
			wantText: `segment 2 has label " liver", as segment 1 has`,
		},
		{
			name: "label with another code in a peer SEG",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				s, src := volumeSeg("1.9.1", 8, 8, 2, liverBlock(), spleenBlock())
				other := liverBlock()
				other.desc.SegmentedPropertyType = cSpleen
				peer, _ := volumeSeg("1.9.2", 8, 8, 2, other)
				return s, src, CheckOptions{Peers: PeerList{{Segmentation: s},
					{Segmentation: peer}}}
			},
			rules: []string{"labels.consistent"},
			want: []found{
				{"labels.consistent", 1, 0}, // label Liver coded spleen there
				{"labels.consistent", 2, 0}, // spleen labelled Liver there
			},
			wantText: `label "Liver" is type (10200004, SCT, "Liver") here and ` +
				`(78961009, SCT, "Spleen") in SEG 1.9.2 (segment 1)`,
		},
	})
}

func TestRulesCompleteness(t *testing.T) {
	ids := []string{"completeness.required_segment", "completeness.slice_gap"}
	runFamilyCases(t, []familyCase{
		{
			name: "spleen missing",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return opts0(volumeSeg("1.9.1", 8, 8, 2, liverBlock()))
			},
			rules:    ids,
			want:     []found{{"completeness.required_segment", 0, 0}},
			wantText: `requires a "spleen" segment on CT sources: none of the 1 segments`,
		},
		{
			name: "spleen empty",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				sp := seg(2, "Spleen", cSpleen, block(8, 8, 9, 9, 9, 9))
				return opts0(volumeSeg("1.9.1", 8, 8, 2, liverBlock(), sp))
			},
			rules:    ids,
			want:     []found{{"completeness.required_segment", 0, 0}},
			wantText: "the segment that maps to it holds no voxel",
		},
		{
			name: "not required on MR",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				s, src := volumeSeg("1.9.1", 8, 8, 2, liverBlock())
				for k := 1; k <= 2; k++ {
					src.Instance(tInstance(k)).Modality = "MR"
				}
				return opts0(s, src)
			},
			rules: ids,
		},
		{
			// Planes 0, 1, 3 and 4 annotated, plane 2 has no frame; the
			// source has 6 planes (z = 0 to 5).
			name: "slice missing inside the extent",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				b := block(8, 8, 2, 5, 2, 5)
				lv := seg(1, "Liver", cLiver, b, b, nil, b, b)
				return opts0(volumeSeg("1.9.1", 8, 8, 6, lv, spleenBlock()))
			},
			rules:    ids,
			want:     []found{{"completeness.slice_gap", 1, 0}},
			wantText: `spans 5 slices (0 to 4 mm along the normal) and has none on 1 of them, at 2 mm`,
		},
	})
}

func TestRulesOverlap(t *testing.T) {
	// Liver rows 2-5, columns 2-5; the other segment rows 5-6, columns 4-6:
	// they share row 5, columns 4 and 5, on both planes: 4 voxels.
	overlapping := func(declared string) func() (*Segmentation, *SourceSet, CheckOptions) {
		return func() (*Segmentation, *SourceSet, CheckOptions) {
			b := block(8, 8, 5, 6, 4, 6)
			s, src := volumeSeg("1.9.1", 8, 8, 2, liverBlock(), seg(2, "Spleen", cSpleen, b, b))
			s.SegmentsOverlap = declared
			return opts0(s, src)
		}
	}
	runFamilyCases(t, []familyCase{
		{name: "declared NO", build: overlapping("NO"), rules: []string{"overlap.segments"},
			want:     []found{{"overlap.segments", 1, 0}},
			wantText: "Segments Overlap (0062,0013) is NO: segments 1 and 2 share 4 voxels on 2 slices"},
		{name: "declared UNDEFINED, profile as declared", build: overlapping("UNDEFINED"),
			rules: []string{"overlap.segments"}},
		{name: "no overlap", build: func() (*Segmentation, *SourceSet, CheckOptions) {
			s, src := volumeSeg("1.9.1", 8, 8, 2, liverBlock(), spleenBlock())
			s.SegmentsOverlap = "NO"
			return opts0(s, src)
		}, rules: []string{"overlap.segments"}},
	})

	// The same pair under a profile that forbids overlap.
	p, err := ParseProfile([]byte("name: f\nversion: \"1\"\nthresholds: " +
		"{segments_overlap: forbidden}\nrules: {overlap: {enabled: true}}\n"))
	if err != nil {
		t.Fatalf("ParseProfile() error: %v", err)
	}
	s, src, _ := overlapping("UNDEFINED")()
	rep := NewEngine(p).Check(context.Background(), s, src)
	if len(rep.Findings) != 1 || !strings.Contains(rep.Findings[0].Message,
		"the profile forbids overlap: segments 1 and 2 share 4 voxels") ||
		rep.Decision != DecisionRejected {
		t.Errorf("forbidden overlap: decision %s, findings %+v", rep.Decision, rep.Findings)
	}
}

// lmFrame is one 8-bit LABELMAP frame on plane k: the rectangles' labels,
// later rectangles over earlier ones.
type lmFrame struct {
	k     int
	rects []lmRect
}

// lmRect labels rows r0..r1, columns c0..c1 (inclusive) of a frame.
type lmRect struct{ label, r0, r1, c0, c1 int }

// labelmapSeg returns an 8-bit LABELMAP SEG of 8x8 frames on the sources
// of volumeSeg (two planes), with segments 1 (liver) and 2 (spleen)
// described and the frames given.
func labelmapSeg(frames ...lmFrame) (*Segmentation, *SourceSet, CheckOptions) {
	s, src := volumeSeg("1.9.1", 8, 8, 2, seg(1, "Liver", cLiver), seg(2, "Spleen", cSpleen))
	s.SegmentationType = SegmentationTypeLabelmap
	s.BitsAllocated, s.BitsStored = 8, 8
	var px [][]byte
	for _, f := range frames {
		fr := baseFrame(len(s.Frames)+1, 0, f.k+1)
		fr.ImagePositionPatient = []float64{0, 0, float64(f.k)}
		s.Frames = append(s.Frames, fr)
		p := make([]byte, 64)
		for _, rc := range f.rects {
			for r := rc.r0; r <= rc.r1; r++ {
				for c := rc.c0; c <= rc.c1; c++ {
					p[r*8+c] = byte(rc.label)
				}
			}
		}
		px = append(px, p)
	}
	s.NumberOfFrames = len(s.Frames)
	s.pixels = testPixels{frames: px}
	return s, src, CheckOptions{}
}

func TestRulesOverlapLabelmap(t *testing.T) {
	ids := []string{"overlap.segments"}
	// liver: rows 2-5, columns 2-5 (16 pixels); spleen: rows 5-6, columns
	// 4-6, which meets the liver at row 5, columns 4 and 5 (2 pixels).
	liver := lmRect{1, 2, 5, 2, 5}
	spleen := lmRect{2, 5, 6, 4, 6}
	runFamilyCases(t, []familyCase{
		{
			name: "one frame a plane: labels cannot overlap",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return labelmapSeg(lmFrame{0, []lmRect{liver, spleen}},
					lmFrame{1, []lmRect{liver, spleen}})
			},
			rules: ids,
		},
		{
			name: "two frames on plane 0 give 2 voxels two labels",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return labelmapSeg(lmFrame{0, []lmRect{liver}}, lmFrame{0, []lmRect{spleen}},
					lmFrame{1, []lmRect{liver}})
			},
			rules: ids,
			want:  []found{{"overlap.segments", 1, 0}},
			wantText: "frames on a shared plane give segments 1 and 2 the same 2 voxels " +
				"on 1 slices",
		},
		{
			// Plane 0: the 2 shared pixels; plane 1: the whole liver
			// relabelled 2 by a second frame (16 pixels): 18 on 2 slices.
			name: "overlaps on two planes add up",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return labelmapSeg(lmFrame{0, []lmRect{liver}}, lmFrame{1, []lmRect{liver}},
					lmFrame{0, []lmRect{spleen}}, lmFrame{1, []lmRect{{2, 2, 5, 2, 5}}})
			},
			rules:    ids,
			want:     []found{{"overlap.segments", 1, 0}},
			wantText: "segments 1 and 2 the same 18 voxels on 2 slices",
		},
		{
			name: "the same label twice on a plane is no overlap",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return labelmapSeg(lmFrame{0, []lmRect{liver}}, lmFrame{0, []lmRect{liver}})
			},
			rules: ids,
		},
		{
			// Label 3 is undescribed: still a label, so it overlaps the
			// liver (4 pixels: rows 2-3, columns 2-3) and the spleen's
			// frame (none).
			name: "three frames, one undescribed label",
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return labelmapSeg(lmFrame{0, []lmRect{liver}}, lmFrame{0, []lmRect{spleen}},
					lmFrame{0, []lmRect{{3, 0, 3, 0, 3}}})
			},
			rules:    ids,
			want:     []found{{"overlap.segments", 1, 0}, {"overlap.segments", 1, 0}},
			wantText: "segments 1 and 2 the same 2 voxels on 1 slices",
		},
	})
}

func TestRulesOverlapLabelmapPadding(t *testing.T) {
	// The second frame pads the liver's pixels with the Pixel Padding Value
	// 3, which no segment describes: background, not a label.
	s, src, _ := labelmapSeg(lmFrame{0, []lmRect{{1, 2, 5, 2, 5}}},
		lmFrame{0, []lmRect{{3, 0, 7, 0, 7}}})
	pad := 3
	s.PixelPaddingValue = &pad
	p, err := ParseProfile([]byte(familyProfile))
	if err != nil {
		t.Fatalf("ParseProfile() error: %v", err)
	}
	rep := NewEngine(p).Check(context.Background(), s, src)
	for _, f := range rep.Findings {
		if f.Rule == "overlap.segments" {
			t.Errorf("Check(padded frame) finding %s: %s, want none", f.Rule, f.Message)
		}
	}

	// Without the padding value, 3 is a label over all 16 liver pixels.
	s.PixelPaddingValue = nil
	rep = NewEngine(p).Check(context.Background(), s, src)
	var got []string
	for _, f := range rep.Findings {
		if f.Rule == "overlap.segments" {
			got = append(got, f.Message)
		}
	}
	want := []string{"a LABELMAP voxel holds one segment, but frames on a shared plane " +
		"give segments 1 and 3 the same 16 voxels on 1 slices"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check(unpadded frame) overlap findings (-want +got):\n%s", diff)
	}
}

// fractionalSeg returns a FRACTIONAL SEG of one 2x4 frame holding values.
func fractionalSeg(values ...byte) (*Segmentation, *SourceSet, CheckOptions) {
	s, src := volumeSeg("1.9.1", 2, 4, 1, seg(1, "Liver", cLiver, block(2, 4, 0, 0, 0, 0)),
		seg(2, "Spleen", cSpleen, block(2, 4, 0, 0, 3, 3)))
	s.SegmentationType = SegmentationTypeFractional
	s.SegmentationFractionalType = SegmentationFractionalTypeProbability
	s.MaximumFractionalValue = 255
	s.BitsAllocated, s.BitsStored = 8, 8
	f1 := make([]byte, 8)
	copy(f1, values)
	f2 := make([]byte, 8)
	f2[7] = values[0]
	s.pixels = testPixels{frames: [][]byte{f1, f2}}
	return s, src, CheckOptions{}
}

func TestRulesFractional(t *testing.T) {
	ids := []string{"fractional.binary_like", "fractional.bit_field"}
	runFamilyCases(t, []familyCase{
		{name: "only 0 and max", rules: ids,
			build: func() (*Segmentation, *SourceSet, CheckOptions) { return fractionalSeg(255, 255) },
			want:  []found{{"fractional.binary_like", 0, 0}},
			wantText: "is binary: use Segmentation Type BINARY (1 bit, 8 times smaller); " +
				"found the values 0 and 255 only"},
		{name: "powers of two", rules: ids,
			build:    func() (*Segmentation, *SourceSet, CheckOptions) { return fractionalSeg(1, 2, 4, 8) },
			want:     []found{{"fractional.bit_field", 0, 0}},
			wantText: "every non-zero value is a power of two (1, 2, 4, 8)"},
		{name: "probabilities", rules: ids,
			build: func() (*Segmentation, *SourceSet, CheckOptions) { return fractionalSeg(17, 200, 255) }},
	})
}

func TestRulesPlausibility(t *testing.T) {
	ids := []string{"plausibility.volume", "plausibility.laterality"}
	// 80 columns of 0.5 mm from x = 0: the image centre is x = 19.75 mm.
	kidney := func(c0 int) func() (*Segmentation, *SourceSet, CheckOptions) {
		return func() (*Segmentation, *SourceSet, CheckOptions) {
			b := block(8, 80, 2, 3, c0, c0+3)
			k := seg(3, "kidney", cKidney, b)
			k.desc.SegmentedPropertyTypeModifier = cRight
			lv := seg(1, "Liver", cLiver, block(8, 80, 2, 5, 2, 5), block(8, 80, 2, 5, 2, 5))
			sp := seg(2, "Spleen", cSpleen, block(8, 80, 6, 6, 6, 6))
			return opts0(volumeSeg("1.9.1", 8, 80, 2, lv, sp, k))
		}
	}
	runFamilyCases(t, []familyCase{
		{name: "volume in range", rules: ids, build: kidney(2)},
		{
			// 2 voxels of 0.25 mm3: 0.0005 mL, under the liver's 0.001.
			name: "volume too small", rules: ids,
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				lv := seg(1, "Liver", cLiver, block(8, 8, 3, 3, 3, 4))
				return opts0(volumeSeg("1.9.1", 8, 8, 2, lv, spleenBlock()))
			},
			want:     []found{{"plausibility.volume", 1, 0}},
			wantText: `within [0.001, 0.1] mL: segment 1 ("Liver") measures 0.0005 mL`,
		},
		{
			// Columns 70 to 73: centre x = 35.75 mm, on the patient's left.
			name: "right kidney on the left", rules: ids, build: kidney(70),
			want:     []found{{"plausibility.laterality", 3, 0}},
			wantText: `(x < 19.75 mm in LPS, the image centre): segment 3 ("kidney") has its centre at x = 35.75 mm`,
		},
	})
}

// inner moves a test segment one plane up, off the first source slice.
func inner(vs volSegment) volSegment {
	vs.planes = append([]plane{nil}, vs.planes...)
	return vs
}

func TestRulesBoundary(t *testing.T) {
	ids := []string{"boundary.components", "boundary.islands", "boundary.holes",
		"boundary.image_border"}
	runFamilyCases(t, []familyCase{
		{name: "clean", rules: ids, build: func() (*Segmentation, *SourceSet, CheckOptions) {
			return opts0(volumeSeg("1.9.1", 8, 8, 4, inner(liverBlock()), inner(spleenBlock())))
		}},
		{
			// A voxel at row 0 column 7 of plane 2, diagonal to nothing: a
			// second component of 0.25 mm3, under island_mm3 1, on the border.
			name: "island on the border", rules: ids,
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				p1 := block(8, 8, 2, 5, 2, 5)
				p1[0] = ".......#"
				lv := seg(1, "Liver", cLiver, nil, block(8, 8, 2, 5, 2, 5), p1)
				return opts0(volumeSeg("1.9.1", 8, 8, 4, lv, inner(spleenBlock())))
			},
			want: []found{{"boundary.components", 1, 0}, {"boundary.islands", 1, 0},
				{"boundary.image_border", 1, 0}},
			wantText: "at most 1 connected components (26-connectivity): segment 1 " +
				`("Liver") has 2`,
		},
		{
			// Touching diagonally across planes: one component under
			// 26-connectivity.
			name: "diagonal neighbour joins", rules: []string{"boundary.components"},
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				p1 := block(8, 8, 2, 5, 2, 5)
				p2 := block(8, 8, 6, 6, 6, 6)
				lv := seg(1, "Liver", cLiver, nil, p1, p2)
				return opts0(volumeSeg("1.9.1", 8, 8, 4, lv, inner(spleenBlock())))
			},
		},
		{
			// A 6x6 ring with a 2x2 hole on plane 2: 4 pixels, 1 mm3. The
			// spleen's voxel at row 0, column 0 touches the image border.
			name: "hole", rules: ids,
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				ring := block(8, 8, 1, 6, 1, 6)
				ring[3], ring[4] = ".##..##.", ".##..##."
				lv := seg(1, "Liver", cLiver, nil, block(8, 8, 1, 6, 1, 6), ring,
					block(8, 8, 1, 6, 1, 6))
				return opts0(volumeSeg("1.9.1", 8, 8, 5, lv, seg(2, "Spleen", cSpleen,
					nil, block(8, 8, 0, 0, 0, 0))))
			},
			want: []found{{"boundary.holes", 1, 0}, {"boundary.image_border", 2, 0}},
			wantText: `segment 1 ("Liver") has 1 (1 mm3 together; the largest 4 pixels, ` +
				`1 mm3, near [1.5, 1.5, 2] mm)`,
		},
		{
			name: "first and last slice", rules: []string{"boundary.image_border"},
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return opts0(volumeSeg("1.9.1", 8, 8, 2, liverBlock(), spleenBlock()))
			},
			want:     []found{{"boundary.image_border", 1, 0}, {"boundary.image_border", 2, 0}},
			wantText: `segment 1 ("Liver") reaches the first or last slice of the series`,
		},
	})
}

// halfAir gives CT values of -1000 HU on columns 0 to 3 and 40 HU on the
// others, and counts its calls.
type halfAir struct{ calls *int }

func (h halfAir) FrameValues(_ context.Context, inst *SourceInstance,
	_ int) ([]float64, error) {
	*h.calls++
	v := make([]float64, inst.Rows*inst.Columns)
	for i := range v {
		v[i] = 40
		if i%inst.Columns < 4 {
			v[i] = -1000
		}
	}
	return v, nil
}

func TestRuleAirShare(t *testing.T) {
	calls := 0
	runFamilyCases(t, []familyCase{
		{
			// Liver columns 2 to 5 on 2 planes: 16 of 32 voxels on air, 50%.
			name: "half on air", rules: []string{"boundary.air", RuleSkipped},
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				s, src := volumeSeg("1.9.1", 8, 8, 4, liverBlock(), spleenBlock())
				return s, src, CheckOptions{Pixels: halfAir{&calls}}
			},
			want:     []found{{"boundary.air", 1, 0}},
			wantText: `under -900 HU): 50% of segment 1 ("Liver") does, 16 of 32 voxels on CT`,
		},
		{
			name: "no pixels", rules: []string{"boundary.air", RuleSkipped},
			build: func() (*Segmentation, *SourceSet, CheckOptions) {
				return opts0(volumeSeg("1.9.1", 8, 8, 4, liverBlock(), spleenBlock()))
			},
			want:     []found{{RuleSkipped, 0, 0}},
			wantText: "boundary.air did not run: no source pixels were available",
		},
	})
	// Planes 0 and 1 hold frames: each source frame is fetched once.
	if calls != 2 {
		t.Errorf("FrameValues calls = %d, want 2", calls)
	}
}

func TestRuleAgreement(t *testing.T) {
	p, err := ParseProfile([]byte(familyProfile))
	if err != nil {
		t.Fatalf("ParseProfile() error: %v", err)
	}
	s, src := volumeSeg("1.9.1", 8, 8, 4, liverBlock(), spleenBlock())
	// The peer's liver is shifted by one column (0.5 mm): 24 of 32 voxels
	// shared, Dice 48/64 = 0.75, Jaccard 24/40 = 0.6. Every voxel of these
	// two-plane blocks is surface; the 8 unshared ones of each are 0.5 mm
	// from the other surface, the rest 0: HD = HD95 = 0.5 mm, ASSD = 16 x
	// 0.5 / 64 = 0.125 mm, NSD at 2 mm = 1. The peer's spleen is the same.
	b := block(8, 8, 2, 5, 3, 6)
	peer, _ := volumeSeg("1.9.2", 8, 8, 4, seg(7, "Liver", cLiver, b, b), spleenBlock())
	rep := NewEngine(p).CheckWith(context.Background(), s, src, CheckOptions{
		Peers: PeerList{{Segmentation: peer, Annotator: "reader-2"}},
	})
	half, zero, one8 := 0.5, 0.0, 0.125
	want := []Agreement{
		{OtherSOPInstanceUID: "1.9.2", OtherAnnotator: "reader-2", Segment: 1, OtherSegment: 7,
			Concept: "liver", Dice: 0.75, Jaccard: 0.6, HDMM: &half, HD95MM: &half,
			ASSDMM: &one8, NSD: 1, NSDToleranceMM: 2},
		{OtherSOPInstanceUID: "1.9.2", OtherAnnotator: "reader-2", Segment: 2, OtherSegment: 2,
			Concept: "spleen", Dice: 1, Jaccard: 1, HDMM: &zero, HD95MM: &zero, ASSDMM: &zero,
			NSD: 1, NSDToleranceMM: 2},
	}
	if diff := cmp.Diff(want, rep.Agreement); diff != "" {
		t.Errorf("agreement mismatch (-want +got):\n%s", diff)
	}
	var got []string
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.Rule, "agreement.") {
			got = append(got, fmt.Sprintf("%s %d: %s", f.Rule, f.Segment, f.Message))
		}
	}
	wantF := []string{
		`agreement.dice 1: two annotators of "liver" must agree with Dice at least 0.85: ` +
			"segment 1 has Dice 0.7500 with segment 7 of SEG 1.9.2",
		`agreement.hd95 1: two annotators of "liver" must agree with HD95 at most 0.4 mm: ` +
			"segment 1 has HD95 0.5 mm to segment 7 of SEG 1.9.2",
	}
	if diff := cmp.Diff(wantF, got); diff != "" {
		t.Errorf("agreement findings mismatch (-want +got):\n%s", diff)
	}
}

// TestOptionalRulesOffByDefault checks that the default profile runs none
// of the optional rules, so its cost and decisions stay those of the core.
func TestOptionalRulesOffByDefault(t *testing.T) {
	def := DefaultProfile()
	n := 0
	for _, r := range Rules() {
		if r.Optional {
			n++
			if def.enabled(r.ID) {
				t.Errorf("optional rule %s is on in the default profile", r.ID)
			}
		}
	}
	if n != 17 {
		t.Errorf("%d optional rules, want 17", n)
	}
}

// TestExampleProfileOnRealLiver checks the shipped profile on the real dcmqi
// liver SEG and its 3 CT slices. Expected values, verified with pydicom and
// scipy: 107098 voxels of 0.810547² x 1 mm = 70.36 mL (under the liver's
// 800 mL); ndimage.label with 26-connectivity finds 4 components of 107094,
// 2, 1 and 1 voxels (3 islands, 4 voxels, 2.628 mm3); binary_fill_holes
// finds one hole per slice of 13, 25 and 13 pixels (8.5 to 16.4 mm3, under
// hole_mm3 20); no voxel lies under -900 HU; the liver spans all 3 slices.
// The decision is rejected because the spleen, required on CT, is missing.
func TestExampleProfileOnRealLiver(t *testing.T) {
	p, err := LoadProfile(exampleProfile)
	if err != nil {
		t.Fatalf("LoadProfile() error: %v", err)
	}
	data, sources := loadCase(t, "dcmqi-ct-liver-binary")
	s, err := ParseSegmentation(data)
	if err != nil {
		t.Fatalf("ParseSegmentation() error: %v", err)
	}
	pixels := NewFileSourcePixels()
	dir := "testdata/real/dcmqi-ct-liver-binary/source/"
	for k, uid := range []string{
		"1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23431.1",
		"1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23432.1",
		"1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1",
	} {
		pixels.Add(uid, fmt.Sprintf("%sct-3slice-%02d.dcm", dir, k+1))
	}
	rep := NewEngine(p).CheckWith(context.Background(), s, sources,
		CheckOptions{Pixels: pixels})
	var got []string
	for _, f := range rep.Findings {
		got = append(got, fmt.Sprintf("%s %s %d", f.Severity, f.Rule, f.Segment))
	}
	want := []string{
		"error completeness.required_segment 0",
		"warning plausibility.volume 1",
		"warning boundary.components 1",
		"warning boundary.islands 1",
		"warning boundary.image_border 1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings mismatch (-want +got):\n%s\n%+v", diff, rep.Findings)
	}
	if rep.Decision != DecisionRejected || rep.Profile != p.Info() {
		t.Errorf("decision %s with profile %+v, want rejected with %+v", rep.Decision,
			rep.Profile, p.Info())
	}
	for _, part := range []string{`requires a "spleen" segment on CT sources`,
		"measures 70.36 mL", `("Liver") has 4;`, "has 3 such islands (2.628 mm3"} {
		found := false
		for _, f := range rep.Findings {
			found = found || strings.Contains(f.Message, part)
		}
		if !found {
			t.Errorf("no finding says %q", part)
		}
	}
}
