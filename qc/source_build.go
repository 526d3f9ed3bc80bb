package qc

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// maxSourceFrames bounds the frames of one source instance, so that a forged
// Number of Frames cannot make the reader allocate without limit. The largest
// whole slide images have a few hundred thousand tiles.
const maxSourceFrames = 1 << 21

// attrs is read access to one data set or sequence item, whether it comes
// from a Part 10 stream or from DICOM JSON (PS3.18 F.2). Both readers of
// source geometry build a [SourceInstance] through it, so the two give the
// same values for the same instance.
type attrs interface {
	// strings returns the values of an attribute as text, each trimmed of
	// padding; nil when the attribute is absent or empty.
	strings(t tag.Tag) []string
	// floats returns the values of a DS, FL or FD attribute; nil when it is
	// absent or empty.
	floats(t tag.Tag) ([]float64, error)
	// ints returns the values of an IS, US, UL, SS or SL attribute; nil when
	// it is absent or empty.
	ints(t tag.Tag) ([]int, error)
	// items returns the items of a sequence; nil when it is absent or empty.
	items(t tag.Tag) []attrs
}

// Tags of the source geometry that package tag spells differently or not at
// all.
var (
	tagRowPositionInTotalImagePixelMatrix = tag.Tag{Group: 0x0048, Element: 0x021F}
	tagPlanePositionSequence              = tag.Tag{Group: 0x0020, Element: 0x9113}
	tagPlaneOrientationSequence           = tag.Tag{Group: 0x0020, Element: 0x9116}
)

// parseDS parses the text of a Decimal String or Integer String value.
func parseDS(s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid decimal string %q", s)
	}
	return v, nil
}

// parseIS parses the text of an Integer String value. Some writers put a
// decimal point in IS values ("25.0"); a whole number so written is accepted.
func parseIS(s string) (int, error) {
	s = strings.TrimSpace(s)
	if v, err := strconv.Atoi(s); err == nil {
		return v, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != float64(int(f)) {
		return 0, fmt.Errorf("invalid integer string %q", s)
	}
	return int(f), nil
}

// parseTexts parses the texts of an attribute's values one by one with
// parse (parseDS or parseIS); nil texts, an absent or empty attribute,
// give nil.
func parseTexts[T any](texts []string, parse func(string) (T, error)) ([]T, error) {
	if texts == nil {
		return nil, nil
	}
	out := make([]T, len(texts))
	for i, s := range texts {
		v, err := parse(s)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// firstString returns the first value of a string attribute, or "".
func firstString(a attrs, t tag.Tag) string {
	if v := a.strings(t); len(v) > 0 {
		return v[0]
	}
	return ""
}

// firstInt returns the first value of an integer attribute, or 0 when it is
// absent.
func firstInt(a attrs, t tag.Tag) (int, error) {
	v, err := a.ints(t)
	if err != nil || len(v) == 0 {
		return 0, err
	}
	return v[0], nil
}

// firstFloat returns the first value of a numeric attribute, or 0 when it is
// absent.
func firstFloat(a attrs, t tag.Tag) (float64, error) {
	v, err := a.floats(t)
	if err != nil || len(v) == 0 {
		return 0, err
	}
	return v[0], nil
}

// firstItem returns the first item of a sequence, or nil.
func firstItem(a attrs, t tag.Tag) attrs {
	if a == nil {
		return nil
	}
	if items := a.items(t); len(items) > 0 {
		return items[0]
	}
	return nil
}

// attrError names the attribute a value error comes from.
func attrError(keyword string, err error) error {
	return fmt.Errorf("%s: %w: %w", keyword, ErrInvalidSource, err)
}

// sourceFromAttrs builds the geometry of one source instance. Geometry is
// taken, for each frame, from the per-frame functional group item first,
// then the shared one, then the top level of the data set (classic
// single-frame images), as PS3.3 C.7.6.16 orders them.
func sourceFromAttrs(a attrs) (*SourceInstance, error) {
	inst := &SourceInstance{
		SOPClassUID:               firstString(a, tag.SOPClassUID),
		SOPInstanceUID:            firstString(a, tag.SOPInstanceUID),
		SeriesInstanceUID:         firstString(a, tag.SeriesInstanceUID),
		StudyInstanceUID:          firstString(a, tag.StudyInstanceUID),
		FrameOfReferenceUID:       firstString(a, tag.FrameOfReferenceUID),
		Modality:                  firstString(a, tag.Modality),
		BodyPartExamined:          firstString(a, tag.BodyPartExamined),
		DimensionOrganizationType: firstString(a, tag.DimensionOrganizationType),
	}
	if inst.SOPInstanceUID == "" {
		return nil, fmt.Errorf("SOPInstanceUID: %w: absent or empty", ErrInvalidSource)
	}

	var err error
	ints := []struct {
		keyword string
		t       tag.Tag
		dst     *int
	}{
		{"Rows", tag.Rows, &inst.Rows},
		{"Columns", tag.Columns, &inst.Columns},
		{"NumberOfFrames", tag.NumberOfFrames, &inst.NumberOfFrames},
		{"TotalPixelMatrixRows", tag.TotalPixelMatrixRows, &inst.TotalPixelMatrixRows},
		{"TotalPixelMatrixColumns", tag.TotalPixelMatrixColumns, &inst.TotalPixelMatrixColumns},
	}
	for _, f := range ints {
		if *f.dst, err = firstInt(a, f.t); err != nil {
			return nil, attrError(f.keyword, err)
		}
	}
	if inst.NumberOfFrames <= 0 {
		inst.NumberOfFrames = 1
	}
	if inst.NumberOfFrames > maxSourceFrames {
		return nil, fmt.Errorf("NumberOfFrames: %w: %d is more than %d",
			ErrInvalidSource, inst.NumberOfFrames, maxSourceFrames)
	}

	if err := fillSourceFrames(inst, a); err != nil {
		return nil, err
	}
	return inst, nil
}

// fillSourceFrames merges the top-level, shared and per-frame geometry into
// one SourceFrame per frame.
func fillSourceFrames(inst *SourceInstance, a attrs) error {
	top, err := frameGeometry(a, nil)
	if err != nil {
		return err
	}
	shared, err := frameGeometry(nil, firstItem(a, tag.SharedFunctionalGroupsSequence))
	if err != nil {
		return err
	}
	perFrame := a.items(tag.PerFrameFunctionalGroupsSequence)

	inst.Frames = make([]SourceFrame, inst.NumberOfFrames)
	for i := range inst.Frames {
		f := &inst.Frames[i]
		f.Number = i + 1
		top.mergeInto(f)
		shared.mergeInto(f)
		if i < len(perFrame) {
			own, err := frameGeometry(nil, perFrame[i])
			if err != nil {
				return fmt.Errorf("frame %d: %w", i+1, err)
			}
			own.mergeInto(f)
		}
	}

	if inst.DimensionOrganizationType == "TILED_FULL" {
		placeTiledFull(inst)
	}
	return nil
}

// placeTiledFull computes the tile positions of a TILED_FULL image whose
// frames do not list them: frames run along a row of tiles first, then down
// the rows, then through focal planes and optical paths (PS3.3 C.7.6.17.3).
func placeTiledFull(inst *SourceInstance) {
	if inst.Rows <= 0 || inst.Columns <= 0 || inst.TotalPixelMatrixRows <= 0 ||
		inst.TotalPixelMatrixColumns <= 0 {
		return
	}
	across := (inst.TotalPixelMatrixColumns + inst.Columns - 1) / inst.Columns
	down := (inst.TotalPixelMatrixRows + inst.Rows - 1) / inst.Rows
	for i := range inst.Frames {
		f := &inst.Frames[i]
		if f.RowPositionInTotalImagePixelMatrix != 0 ||
			f.ColumnPositionInTotalImagePixelMatrix != 0 {
			continue
		}
		tile := i % (across * down)
		f.RowPositionInTotalImagePixelMatrix = (tile/across)*inst.Rows + 1
		f.ColumnPositionInTotalImagePixelMatrix = (tile%across)*inst.Columns + 1
	}
}

// geometry is the part of a frame's geometry one level (top level, shared
// or per-frame group) holds; nil slices and zero values mean absent.
type geometry struct {
	position, orientation, spacing []float64
	thickness, between             float64
	tileRow, tileColumn            int
}

// mergeInto copies into f what g holds.
func (g *geometry) mergeInto(f *SourceFrame) {
	if g.position != nil {
		f.ImagePositionPatient = g.position
	}
	if g.orientation != nil {
		f.ImageOrientationPatient = g.orientation
	}
	if g.spacing != nil {
		f.PixelSpacing = g.spacing
	}
	if g.thickness != 0 {
		f.SliceThickness = g.thickness
	}
	if g.between != 0 {
		f.SpacingBetweenSlices = g.between
	}
	if g.tileRow != 0 {
		f.RowPositionInTotalImagePixelMatrix = g.tileRow
	}
	if g.tileColumn != 0 {
		f.ColumnPositionInTotalImagePixelMatrix = g.tileColumn
	}
}

// frameGeometry reads geometry either from the top level of a data set (top
// non-nil) or from a functional group item (group non-nil): Plane Position
// (Patient), Plane Orientation (Patient), Pixel Measures and Plane Position
// (Slide) (PS3.3 C.7.6.16.2.1, C.7.6.16.2.3, C.7.6.16.2.4, C.8.12.6.1).
func frameGeometry(top, group attrs) (*geometry, error) {
	g := &geometry{}
	pos, orient, measures, slide := top, top, top, attrs(nil)
	if group != nil {
		pos = firstItem(group, tagPlanePositionSequence)
		orient = firstItem(group, tagPlaneOrientationSequence)
		measures = firstItem(group, tag.PixelMeasuresSequence)
		slide = firstItem(group, tag.PlanePositionSlideSequence)
	}

	var err error
	vectors := []struct {
		keyword string
		src     attrs
		t       tag.Tag
		n       int
		dst     *[]float64
	}{
		{"ImagePositionPatient", pos, tag.ImagePositionPatient, 3, &g.position},
		{"ImageOrientationPatient", orient, tag.ImageOrientationPatient, 6, &g.orientation},
		{"PixelSpacing", measures, tag.PixelSpacing, 2, &g.spacing},
	}
	for _, v := range vectors {
		if v.src == nil {
			continue
		}
		if *v.dst, err = v.src.floats(v.t); err != nil {
			return nil, attrError(v.keyword, err)
		}
		if *v.dst != nil && len(*v.dst) != v.n {
			return nil, fmt.Errorf("%s: %w: %d values, want %d",
				v.keyword, ErrInvalidSource, len(*v.dst), v.n)
		}
	}

	if measures != nil {
		if g.thickness, err = firstFloat(measures, tag.SliceThickness); err != nil {
			return nil, attrError("SliceThickness", err)
		}
		if g.between, err = firstFloat(measures, tag.SpacingBetweenSlices); err != nil {
			return nil, attrError("SpacingBetweenSlices", err)
		}
	}
	if slide != nil {
		if g.tileRow, err = firstInt(slide, tagRowPositionInTotalImagePixelMatrix); err != nil {
			return nil, attrError("RowPositionInTotalImagePixelMatrix", err)
		}
		g.tileColumn, err = firstInt(slide, tag.ColumnPositionInTotalImagePixelMatrix)
		if err != nil {
			return nil, attrError("ColumnPositionInTotalImagePixelMatrix", err)
		}
	}
	return g, nil
}
