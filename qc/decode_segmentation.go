package qc

import (
	"github.com/suyashkumar/dicom/pkg/tag"
)

// readAttributes fills the top-level attributes of s from ds.
func (s *Segmentation) readAttributes(ds item, f *part10) {
	s.SOPClassUID = ds.str(tag.SOPClassUID)
	if s.SOPClassUID == "" {
		s.SOPClassUID = f.metaSOPClassUID
	}
	s.SOPInstanceUID = ds.str(tag.SOPInstanceUID)
	if s.SOPInstanceUID == "" {
		s.SOPInstanceUID = f.metaSOPInstanceUID
	}
	s.StudyInstanceUID = ds.str(tag.StudyInstanceUID)
	s.SeriesInstanceUID = ds.str(tag.SeriesInstanceUID)
	s.FrameOfReferenceUID = ds.str(tag.FrameOfReferenceUID)
	s.TransferSyntaxUID = f.ts.UID
	s.Modality = ds.str(tag.Modality)
	s.ClinicalTrialProtocolID = ds.str(tag.ClinicalTrialProtocolID)

	s.Rows, _ = ds.int(tag.Rows)
	s.Columns, _ = ds.int(tag.Columns)
	s.NumberOfFrames = 1
	if ds.has(tag.NumberOfFrames) {
		// A value that is empty, not an integer or out of range counts no
		// frame: the Type 1 rule then names the value as found.
		s.numberOfFramesText = ds.str(tag.NumberOfFrames)
		s.NumberOfFrames = 0
		if n, ok := ds.int(tag.NumberOfFrames); ok {
			s.NumberOfFrames = n
		}
	}
	s.BitsAllocated, _ = ds.int(tag.BitsAllocated)
	s.BitsStored, _ = ds.int(tag.BitsStored)
	s.HighBit, _ = ds.int(tag.HighBit)
	s.SamplesPerPixel, _ = ds.int(tag.SamplesPerPixel)
	s.PixelRepresentation, _ = ds.int(tag.PixelRepresentation)
	s.PhotometricInterpretation = ds.str(tag.PhotometricInterpretation)

	s.SegmentationType = SegmentationType(ds.str(tag.SegmentationType))
	s.SegmentationFractionalType = SegmentationFractionalType(
		ds.str(tag.SegmentationFractionalType))
	s.MaximumFractionalValue, _ = ds.int(tag.MaximumFractionalValue)
	s.SegmentsOverlap = ds.str(tag.SegmentsOverlap)
	if v, ok := ds.int(tag.PixelPaddingValue); ok {
		s.PixelPaddingValue = &v
	}
	s.DimensionOrganizationType = ds.str(tag.DimensionOrganizationType)
	s.TotalPixelMatrixRows, _ = ds.int(tag.TotalPixelMatrixRows)
	s.TotalPixelMatrixColumns, _ = ds.int(tag.TotalPixelMatrixColumns)
	s.TotalPixelMatrixFocalPlanes, _ = ds.int(tag.TotalPixelMatrixFocalPlanes)
	s.Present = ds.keywords()

	s.Segments = readSegments(ds)
	s.ReferencedSeries = readReferencedSeries(ds)
	s.SourceImages = readImageReferences(ds.items(tag.SourceImageSequence))
}

// segmentKeywords are the attributes of the Segment Description macro whose
// presence is recorded (PS3.3 Table 10-25): its Type 1 attributes and the
// Type 1C Segment Algorithm Name.
var segmentKeywords = []struct {
	keyword string
	tag     tag.Tag
}{
	{"SegmentNumber", tag.SegmentNumber},
	{"SegmentLabel", tag.SegmentLabel},
	{"SegmentAlgorithmType", tag.SegmentAlgorithmType},
	{"SegmentAlgorithmName", tag.SegmentAlgorithmName},
	{"SegmentedPropertyCategoryCodeSequence", tag.SegmentedPropertyCategoryCodeSequence},
	{"SegmentedPropertyTypeCodeSequence", tag.SegmentedPropertyTypeCodeSequence},
}

// readSegments reads the Segment Sequence (PS3.3 C.8.20.2).
func readSegments(ds item) []SegmentDescription {
	items := ds.items(tag.SegmentSequence)
	if len(items) == 0 {
		return nil
	}
	out := make([]SegmentDescription, 0, len(items))
	for _, it := range items {
		category := it.first(tag.SegmentedPropertyCategoryCodeSequence)
		d := SegmentDescription{
			SegmentLabel:              it.str(tag.SegmentLabel),
			SegmentDescription:        it.str(tag.SegmentDescription),
			SegmentAlgorithmType:      it.str(tag.SegmentAlgorithmType),
			SegmentAlgorithmName:      it.str(tag.SegmentAlgorithmName),
			SegmentedPropertyCategory: readCode(category),
			AnatomicRegion:            readCode(it.first(tag.AnatomicRegionSequence)),
			TrackingID:                it.str(tag.TrackingID),
			TrackingUID:               it.str(tag.TrackingUID),
			Present:                   make(map[string]bool, len(segmentKeywords)),
		}
		if n, ok := it.int(tag.SegmentNumber); ok && n >= 0 && n <= 0xFFFF {
			d.SegmentNumber = uint16(n)
		}
		typ := it.first(tag.SegmentedPropertyTypeCodeSequence)
		d.SegmentedPropertyType = readCode(typ)
		// The modifier sits in the type code item (PS3.3 Table 10-25); older
		// writers put it next to the type sequence.
		mod := typ.first(tag.SegmentedPropertyTypeModifierCodeSequence)
		if mod == nil {
			mod = it.first(tag.SegmentedPropertyTypeModifierCodeSequence)
		}
		d.SegmentedPropertyTypeModifier = readCode(mod)
		if lab, ok := it.ints(tag.RecommendedDisplayCIELabValue); ok && len(lab) > 0 {
			d.RecommendedDisplayCIELabValue = make([]uint16, len(lab))
			for i, v := range lab {
				d.RecommendedDisplayCIELabValue[i] = uint16(v)
			}
		}
		for _, k := range segmentKeywords {
			if it.has(k.tag) {
				d.Present[k.keyword] = true
			}
		}
		out = append(out, d)
	}
	return out
}

// readCode reads a Code Sequence macro item (PS3.3 Table 8.8-1). Long Code
// Value and URN Code Value stand in for Code Value when it is absent.
func readCode(it item) CodedConcept {
	if it == nil {
		return CodedConcept{}
	}
	c := CodedConcept{
		CodeValue:              it.str(tag.CodeValue),
		CodingSchemeDesignator: it.str(tag.CodingSchemeDesignator),
		CodeMeaning:            it.str(tag.CodeMeaning),
	}
	if c.CodeValue == "" {
		c.CodeValue = it.str(tag.LongCodeValue)
	}
	if c.CodeValue == "" {
		c.CodeValue = it.str(tag.URNCodeValue)
	}
	return c
}

// readImageReferences reads items of a Source Image Sequence or Referenced
// Instance Sequence (PS3.3 Table 10-3).
func readImageReferences(items []item) []ImageReference {
	if len(items) == 0 {
		return nil
	}
	out := make([]ImageReference, 0, len(items))
	for _, it := range items {
		ref := ImageReference{
			SOPClassUID:    it.str(tag.ReferencedSOPClassUID),
			SOPInstanceUID: it.str(tag.ReferencedSOPInstanceUID),
		}
		if frames, _ := it.ints(tag.ReferencedFrameNumber); len(frames) > 0 {
			ref.ReferencedFrameNumber = frames
		}
		out = append(out, ref)
	}
	return out
}

// readReferencedSeries reads the Referenced Series Sequence of the Common
// Instance Reference module (PS3.3 C.12.2).
func readReferencedSeries(ds item) []ReferencedSeries {
	items := ds.items(tag.ReferencedSeriesSequence)
	if len(items) == 0 {
		return nil
	}
	out := make([]ReferencedSeries, 0, len(items))
	for _, it := range items {
		out = append(out, ReferencedSeries{
			SeriesInstanceUID: it.str(tag.SeriesInstanceUID),
			Instances:         readImageReferences(it.items(tag.ReferencedInstanceSequence)),
		})
	}
	return out
}
