package qc

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// setAll applies f to every frame.
func setAll(s *Segmentation, f func(fr *Frame)) {
	for i := range s.Frames {
		f(&s.Frames[i])
	}
}

func TestRuleFrameOfReference(t *testing.T) {
	runRuleCases(t, "geometry.frame_of_reference", []ruleCase{
		{
			name: "other Frame of Reference",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.FrameOfReferenceUID = "1.2.826.0.1.5"
			},
			want:     []found{{"geometry.frame_of_reference", 0, 0}},
			wantText: "the SEG has 1.2.826.0.1.5, source series " + tSeries + " has " + tFoR,
		},
		{
			name:   "positions without Frame of Reference",
			modify: func(s *Segmentation, _ *SourceSet) { s.FrameOfReferenceUID = "" },
			want:   []found{{"geometry.frame_of_reference", 0, 0}},
		},
	})
}

func TestRuleOrientation(t *testing.T) {
	runRuleCases(t, "geometry.orientation", []ruleCase{
		{
			name: "sagittal frames on axial sources",
			modify: func(s *Segmentation, _ *SourceSet) {
				setAll(s, func(f *Frame) {
					f.ImageOrientationPatient = []float64{0, 1, 0, 0, 0, -1}
				})
			},
			want: []found{
				{"geometry.orientation", 1, 1}, {"geometry.orientation", 1, 2},
				{"geometry.orientation", 2, 3},
			},
			wantText: "must match the source images' [1, 0, 0, 0, 1, 0] within 0.001: " +
				"found [0, 1, 0, 0, 0, -1]",
		},
		{
			name: "rounding within tolerance",
			modify: func(s *Segmentation, _ *SourceSet) {
				setAll(s, func(f *Frame) {
					f.ImageOrientationPatient = []float64{
						0.9999995, 0.0004, 0, -0.0004, 0.9999995, 0,
					}
				})
			},
		},
	})
}

func TestRulePixelSpacing(t *testing.T) {
	runRuleCases(t, "geometry.pixel_spacing", []ruleCase{
		{
			name: "slide microscopy tiles at another resolution",
			modify: func(s *Segmentation, src *SourceSet) {
				smSeg(s, src)
				for _, inst := range src.byInstance {
					for i := range inst.Frames {
						inst.Frames[i].PixelSpacing = []float64{0.0005, 0.0005}
					}
				}
				setAll(s, func(f *Frame) { f.PixelSpacing = []float64{0.001, 0.001} })
			},
			want: []found{
				{"geometry.pixel_spacing", 1, 1}, {"geometry.pixel_spacing", 1, 2},
				{"geometry.pixel_spacing", 2, 3},
			},
			wantText: "[0.0005, 0.0005] mm, within 0.001 relative: found [0.001, 0.001] mm",
		},
		{
			name: "slide microscopy tiles at the same resolution",
			modify: func(s *Segmentation, src *SourceSet) {
				smSeg(s, src)
				for _, inst := range src.byInstance {
					for i := range inst.Frames {
						inst.Frames[i].PixelSpacing = []float64{0.0005, 0.0005}
					}
				}
				setAll(s, func(f *Frame) { f.PixelSpacing = []float64{0.0005, 0.0005} })
			},
		},
		{
			name: "coarser pixels",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[1].PixelSpacing = []float64{0.6, 0.6}
			},
			want:     []found{{"geometry.pixel_spacing", 1, 2}},
			wantText: "[0.5, 0.5] mm, within 0.001 relative: found [0.6, 0.6] mm",
		},
		{
			name: "DS rounding",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[1].PixelSpacing = []float64{0.5000001, 0.4999999}
			},
		},
	})
}

func TestRuleFramePosition(t *testing.T) {
	runRuleCases(t, "geometry.frame_position", []ruleCase{
		{
			name: "between slices",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[0].ImagePositionPatient = []float64{-1, -1, 0.4}
			},
			want:     []found{{"geometry.frame_position", 1, 1}},
			wantText: "within 0.05 mm: Image Position (Patient) [-1, -1, 0.4] lies 0.4 mm",
		},
		{
			name: "beyond the last slice",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[2].ImagePositionPatient = []float64{-1, -1, 7}
				s.Frames[2].SourceImages = nil
			},
			want: []found{{"geometry.frame_position", 2, 3}},
		},
		{
			name: "within the tolerance",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[0].ImagePositionPatient = []float64{-1, -1, 0.04}
			},
		},
	})
}

func TestRuleSourcePlane(t *testing.T) {
	runRuleCases(t, "geometry.source_plane", []ruleCase{
		{
			name: "frame on slice 2 names slice 1",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[0].ImagePositionPatient = []float64{-1, -1, 1}
			},
			want:     []found{{"geometry.source_plane", 1, 1}},
			wantText: "it lies 1 mm from the plane of source image " + tInstance(1),
		},
		{
			name: "references only in the shared group place by geometry",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.SharedFunctionalGroups = map[string]bool{"DerivationImageSequence": true}
				setAll(s, func(f *Frame) {
					f.SourceImages = []ImageReference{{SOPInstanceUID: tInstance(1)}}
				})
			},
		},
	})
}

func TestRulePixelGrid(t *testing.T) {
	runRuleCases(t, "geometry.pixel_grid", []ruleCase{
		{
			name: "half a pixel off",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[1].ImagePositionPatient = []float64{-0.75, -1, 1}
			},
			want:     []found{{"geometry.pixel_grid", 1, 2}},
			wantText: "it starts 0.000 rows and 0.500 columns",
		},
		{
			name: "crop by one pixel is on the grid",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[1].ImagePositionPatient = []float64{-0.5, -0.5, 1}
			},
		},
	})
}

func TestRuleMatrixSize(t *testing.T) {
	runRuleCases(t, "geometry.matrix_size", []ruleCase{
		{
			name: "3x3 crop at row 1, column 1",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Rows, s.Columns = 3, 3
				setAll(s, func(f *Frame) {
					f.ImagePositionPatient[0], f.ImagePositionPatient[1] = -0.5, -0.5
				})
				s.pixels = testPixels{frames: [][]byte{{0xFF, 0xFF}, {0xFF, 0xFF}, {0xFF, 0xFF}}}
			},
			want:     []found{{"geometry.matrix_size", 0, 1}},
			wantText: "it is 3x3 at row 1, column 1 of the 4x4 grid",
		},
		{
			name: "larger than its source",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Rows, s.Columns = 4, 6
				s.pixels = testPixels{frames: [][]byte{{0xFF, 0xFF, 0xFF}, {0xFF, 0xFF, 0xFF},
					{0xFF, 0xFF, 0xFF}}}
			},
			want:     []found{{"geometry.matrix_size", 0, 1}},
			wantText: "it is 4x6 at row 0, column 0 of the 4x4 grid",
		},
	})
}

// crSeg makes the base SEG a CR-like one: no Frame of Reference, no plane
// geometry, each frame naming its source image.
func crSeg(s *Segmentation, src *SourceSet) {
	s.FrameOfReferenceUID = ""
	setAll(s, func(f *Frame) {
		f.ImagePositionPatient, f.ImageOrientationPatient, f.PixelSpacing = nil, nil, nil
	})
	for _, inst := range src.byInstance {
		inst.FrameOfReferenceUID = ""
		inst.Frames[0] = SourceFrame{Number: 1}
	}
}

func TestRuleFramePlacement(t *testing.T) {
	runRuleCases(t, "geometry.frame_placement", []ruleCase{
		{
			name:   "placed by source image alone",
			modify: crSeg,
		},
		{
			name: "no geometry and no source image of its own",
			modify: func(s *Segmentation, src *SourceSet) {
				crSeg(s, src)
				s.Frames[1].SourceImages = nil
			},
			want:     []found{{"geometry.frame_placement", 1, 2}},
			wantText: "it has neither",
		},
		{
			name: "no geometry and a matrix unlike its source's",
			modify: func(s *Segmentation, src *SourceSet) {
				crSeg(s, src)
				s.Rows = 8
				s.pixels = testPixels{frames: [][]byte{
					make([]byte, 4), make([]byte, 4), make([]byte, 4),
				}}
			},
			want: []found{
				{"geometry.frame_placement", 1, 1}, {"geometry.frame_placement", 1, 2},
				{"geometry.frame_placement", 2, 3},
			},
			wantText: "it is 8x4, source image " + tInstance(1) + " is 4x4",
		},
	})
}

// smSeg makes the base SEG a slide microscopy one of three 2x2 tiles on a
// 4x4 TILED_FULL source whose frames are 2x2 tiles.
func smSeg(s *Segmentation, src *SourceSet) {
	sm := &SourceInstance{
		SOPInstanceUID: tInstance(9), SeriesInstanceUID: tSeries, StudyInstanceUID: tStudy,
		FrameOfReferenceUID: tFoR, Modality: "SM", Rows: 2, Columns: 2, NumberOfFrames: 4,
		TotalPixelMatrixRows: 4, TotalPixelMatrixColumns: 4,
		DimensionOrganizationType: "TILED_FULL",
		Frames:                    []SourceFrame{{Number: 1}, {Number: 2}, {Number: 3}, {Number: 4}},
	}
	placeTiledFull(sm)
	*src = *NewSourceSet()
	src.Add(sm)
	s.Rows, s.Columns = 2, 2
	s.TotalPixelMatrixRows, s.TotalPixelMatrixColumns = 4, 4
	s.ReferencedSeries[0].Instances = []ImageReference{{SOPInstanceUID: sm.SOPInstanceUID}}
	tiles := [][3]int{{1, 1, 1}, {2, 1, 3}, {4, 3, 3}} // source frame, row, column
	for i := range s.Frames {
		f := &s.Frames[i]
		f.ImagePositionPatient, f.ImageOrientationPatient = nil, nil
		f.SourceImages = []ImageReference{{SOPInstanceUID: sm.SOPInstanceUID,
			ReferencedFrameNumber: []int{tiles[i][0]}}}
		f.RowPositionInTotalImagePixelMatrix = tiles[i][1]
		f.ColumnPositionInTotalImagePixelMatrix = tiles[i][2]
	}
	s.pixels = testPixels{frames: [][]byte{{0x0F}, {0x0F}, {0x0F}}}
}

func TestRuleTilePosition(t *testing.T) {
	runRuleCases(t, "geometry.tile_position", []ruleCase{
		{
			name:   "tiles where their source tiles are",
			modify: smSeg,
		},
		{
			name: "row and column swapped",
			modify: func(s *Segmentation, src *SourceSet) {
				smSeg(s, src)
				s.Frames[1].RowPositionInTotalImagePixelMatrix = 3
				s.Frames[1].ColumnPositionInTotalImagePixelMatrix = 1
			},
			want:     []found{{"geometry.tile_position", 1, 2}},
			wantText: "row 1, column 3 of the total pixel matrix (frame 2 of source image",
		},
		{
			name: "outside the total pixel matrix",
			modify: func(s *Segmentation, src *SourceSet) {
				smSeg(s, src)
				s.Frames[2].RowPositionInTotalImagePixelMatrix = 5
			},
			want:     []found{{"geometry.tile_position", 2, 3}},
			wantText: "within the 4x4 total pixel matrix: it starts at row 5, column 3",
		},
	})
}

// TestFramePositionAgainstReferencedImage moves frames of the real liver SEG
// (dcmqi) away from the CT slices they name, in memory: onto the plane of
// another slice, then between slices.
func TestFramePositionAgainstReferencedImage(t *testing.T) {
	tests := []struct {
		name string
		// z is the new z of frame 1, which names the slice at -128.69.
		z    float64
		want []found
	}{
		{"as written", -128.69, nil},
		{"on the plane of the next slice", -127.69, []found{{"geometry.source_plane", 1, 1}}},
		{"between slices", -128.29, []found{{"geometry.frame_position", 1, 1}}},
		{"within 0.05 of the 1 mm spacing", -128.66, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, sources := loadCase(t, "dcmqi-ct-liver-binary")
			seg, err := ParseSegmentation(data)
			if err != nil {
				t.Fatalf("ParseSegmentation() error: %v", err)
			}
			if z := seg.Frames[0].ImagePositionPatient[2]; z != -128.69 {
				t.Fatalf("frame 1 z = %v, want -128.69", z)
			}
			pos := append([]float64(nil), seg.Frames[0].ImagePositionPatient...)
			pos[2] = tt.z
			seg.Frames[0].ImagePositionPatient = pos
			rep := NewEngine(nil).Check(context.Background(), seg, sources)
			var got []found
			for _, f := range rep.Findings {
				got = append(got, found{f.Rule, f.Segment, f.Frame})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("findings mismatch (-want +got):\n%s\n%+v", diff, rep.Findings)
			}
		})
	}
}

// enhancedSource replaces the base sources by one Enhanced CT instance
// holding the three slices as frames, and makes each SEG frame name its
// slice by Referenced Frame Number.
func enhancedSource(s *Segmentation, src *SourceSet) {
	mf := &SourceInstance{
		SOPClassUID: "1.2.840.10008.5.1.4.1.1.2.1", SOPInstanceUID: tInstance(7),
		SeriesInstanceUID: tSeries, StudyInstanceUID: tStudy, FrameOfReferenceUID: tFoR,
		Modality: "CT", Rows: 4, Columns: 4, NumberOfFrames: 3,
	}
	for k := 1; k <= 3; k++ {
		mf.Frames = append(mf.Frames, SourceFrame{
			Number:                  k,
			ImagePositionPatient:    []float64{-1, -1, float64(k - 1)},
			ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0},
			PixelSpacing:            []float64{0.5, 0.5},
		})
	}
	*src = *NewSourceSet()
	src.Add(mf)
	s.ReferencedSeries[0].Instances = []ImageReference{{SOPInstanceUID: mf.SOPInstanceUID}}
	for i := range s.Frames {
		s.Frames[i].SourceImages = []ImageReference{{SOPInstanceUID: mf.SOPInstanceUID,
			ReferencedFrameNumber: []int{i + 1}}}
	}
}

func TestRulesMultiFrameSource(t *testing.T) {
	runRuleCases(t, "geometry.source_plane", []ruleCase{
		{name: "frames on the frames they name", modify: enhancedSource},
		{
			name: "frame 3 names source frame 1",
			modify: func(s *Segmentation, src *SourceSet) {
				enhancedSource(s, src)
				s.Frames[2].SourceImages[0].ReferencedFrameNumber = []int{1}
			},
			want:     []found{{"geometry.source_plane", 2, 3}},
			wantText: "it lies 2 mm from the plane of frame 1 of source image " + tInstance(7),
		},
	})
	runRuleCases(t, "references.frame_number", []ruleCase{
		{
			name: "frame 4 of three",
			modify: func(s *Segmentation, src *SourceSet) {
				enhancedSource(s, src)
				s.Frames[0].SourceImages[0].ReferencedFrameNumber = []int{4}
			},
			want:     []found{{"references.frame_number", 1, 1}},
			wantText: "must lie in 1..3, the frames of source image " + tInstance(7) + ": found 4",
		},
	})
}
