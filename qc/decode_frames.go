package qc

import (
	"fmt"
	"math"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// readFrames fills s.Frames from the Shared and Per-frame Functional Groups
// (PS3.3 C.7.6.16): a per-frame macro replaces the shared one. Values that
// come from the shared group are the same slices in every frame. With
// DimensionOrganizationType TILED_FULL and no per-frame items, tile
// positions and segments follow from the frame order (PS3.3 C.7.6.17.3).
func (s *Segmentation) readFrames(ds item) {
	n := s.NumberOfFrames
	if n <= 0 {
		return
	}
	shared := ds.first(tag.SharedFunctionalGroupsSequence)
	perFrame := ds.items(tag.PerFrameFunctionalGroupsSequence)
	s.SharedFunctionalGroups = make(map[string]bool)
	for k := range shared.keywords() {
		if strings.HasSuffix(k, "Sequence") {
			s.SharedFunctionalGroups[k] = true
		}
	}

	var base Frame
	applyFunctionalGroups(&base, shared)
	s.Frames = make([]Frame, n)
	for i := range s.Frames {
		f := base
		f.Number = i + 1
		if i < len(perFrame) {
			applyFunctionalGroups(&f, perFrame[i])
		}
		s.Frames[i] = f
	}

	tiledFull := s.DimensionOrganizationType == "TILED_FULL"
	if tiledFull && len(perFrame) == 0 {
		s.placeTiledFull()
		return
	}
	if len(perFrame) != n {
		s.addProblem(decodeRuleFunctionalGroups, SeverityError, "PS3.3 C.7.6.16",
			"Per-frame Functional Groups Sequence (5200,9230) must have one item per frame: "+
				"found %d items for Number of Frames %d", len(perFrame), n)
	}
}

// applyFunctionalGroups sets the fields of f that the functional group
// macros of g hold.
func applyFunctionalGroups(f *Frame, g item) {
	if g == nil {
		return
	}
	if g.has(tag.SegmentIdentificationSequence) {
		f.SegmentNumber = 0
		id := g.first(tag.SegmentIdentificationSequence)
		if v, ok := id.int(tag.ReferencedSegmentNumber); ok && v >= 0 && v <= 0xFFFF {
			f.SegmentNumber = uint16(v)
		}
	}
	if g.has(tag.DerivationImageSequence) {
		var refs []ImageReference
		for _, d := range g.items(tag.DerivationImageSequence) {
			refs = append(refs, readImageReferences(d.items(tag.SourceImageSequence))...)
		}
		f.SourceImages = refs
	}
	if g.has(tag.PlanePositionSequence) {
		f.ImagePositionPatient = g.first(tag.PlanePositionSequence).floats(
			tag.ImagePositionPatient)
	}
	if g.has(tag.PlaneOrientationSequence) {
		f.ImageOrientationPatient = g.first(tag.PlaneOrientationSequence).floats(
			tag.ImageOrientationPatient)
	}
	if g.has(tag.PixelMeasuresSequence) {
		pm := g.first(tag.PixelMeasuresSequence)
		f.PixelSpacing = pm.floats(tag.PixelSpacing)
		f.SliceThickness = pm.float(tag.SliceThickness)
		f.SpacingBetweenSlices = pm.float(tag.SpacingBetweenSlices)
	}
	if g.has(tag.PlanePositionSlideSequence) {
		ps := g.first(tag.PlanePositionSlideSequence)
		f.RowPositionInTotalImagePixelMatrix, _ = ps.int(tag.RowPositionInTotalImagePixelMatrix)
		f.ColumnPositionInTotalImagePixelMatrix, _ = ps.int(
			tag.ColumnPositionInTotalImagePixelMatrix)
	}
	if g.has(tag.FrameContentSequence) {
		f.DimensionIndexValues, _ = g.first(tag.FrameContentSequence).ints(
			tag.DimensionIndexValues)
	}
}

// placeTiledFull computes the tile position and, for BINARY and FRACTIONAL,
// the segment of every frame of a TILED_FULL SEG without per-frame items.
// Frames run along a row of tiles first, then down the rows, then through
// the focal planes, then through the segments (PS3.3 C.7.6.17.3).
func (s *Segmentation) placeTiledFull() {
	if s.Rows <= 0 || s.Columns <= 0 || s.TotalPixelMatrixRows <= 0 ||
		s.TotalPixelMatrixColumns <= 0 {
		s.addProblem(decodeRuleFunctionalGroups, SeverityError, "PS3.3 C.7.6.17.3",
			"TILED_FULL frames are placed from Rows, Columns and the Total Pixel Matrix size: "+
				"found %dx%d tiles in a %dx%d matrix", s.Rows, s.Columns,
			s.TotalPixelMatrixRows, s.TotalPixelMatrixColumns)
		return
	}
	// The counts come from the file: keep their products from overflowing.
	across := min((s.TotalPixelMatrixColumns+s.Columns-1)/s.Columns, math.MaxInt32)
	down := min((s.TotalPixelMatrixRows+s.Rows-1)/s.Rows, math.MaxInt32)
	planes := min(max(s.TotalPixelMatrixFocalPlanes, 1), math.MaxInt32)
	perSegment := satMul(satMul(across, down), planes)
	labelmap := s.SegmentationType == SegmentationTypeLabelmap
	for i := range s.Frames {
		f := &s.Frames[i]
		f.ColumnPositionInTotalImagePixelMatrix = (i%across)*s.Columns + 1
		f.RowPositionInTotalImagePixelMatrix = (i/across%down)*s.Rows + 1
		if !labelmap && f.SegmentNumber == 0 {
			f.SegmentNumber = uint16(min(i/perSegment+1, 0xFFFF))
		}
	}
	want, segments := perSegment, 1
	if !labelmap {
		segments = len(s.Segments)
		want = satMul(want, segments)
	}
	if s.NumberOfFrames != want {
		s.addProblem(decodeRuleFunctionalGroups, SeverityError, "PS3.3 C.7.6.17.3",
			"TILED_FULL needs %d tiles x %d focal planes x %d segments = %d frames: found "+
				"Number of Frames %d", across*down, planes, segments, want, s.NumberOfFrames)
	}
}

// satMul returns a x b for non-negative a and b, at most math.MaxInt32.
func satMul(a, b int) int {
	if a != 0 && b > math.MaxInt32/a {
		return math.MaxInt32
	}
	return a * b
}

// addProblem records a finding of the decoder.
func (s *Segmentation) addProblem(rule string, sev Severity, ref, format string, args ...any) {
	s.Problems = append(s.Problems, Finding{
		Rule:      rule,
		Severity:  sev,
		Message:   fmt.Sprintf(format, args...),
		Reference: ref,
	})
}
