package qc

import (
	"fmt"
	"slices"
	"strings"
)

// missing describes how a Type 1 attribute fails: absent, or present and
// empty. present is nil when the decoder did not record presence.
func missing(present map[string]bool, keyword string) string {
	if present != nil && !present[keyword] {
		return "absent"
	}
	return "empty"
}

var ruleType1 = &rule{
	RuleInfo: RuleInfo{
		ID:              "structure.type1",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 A.51, C.8.20.2, C.7.6.16",
		Summary: "the Type 1 attributes of the Segmentation IOD are present and not " +
			"empty, and the Type 1C ones of FRACTIONAL segmentations",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		type attr struct {
			keyword, tag string
			empty        bool
		}
		attrs := []attr{
			{"SOPClassUID", "(0008,0016)", seg.SOPClassUID == ""},
			{"SOPInstanceUID", "(0008,0018)", seg.SOPInstanceUID == ""},
			{"StudyInstanceUID", "(0020,000D)", seg.StudyInstanceUID == ""},
			{"SeriesInstanceUID", "(0020,000E)", seg.SeriesInstanceUID == ""},
			{"Modality", "(0008,0060)", seg.Modality == ""},
			{"Rows", "(0028,0010)", seg.Rows <= 0},
			{"Columns", "(0028,0011)", seg.Columns <= 0},
			{"BitsAllocated", "(0028,0100)", seg.BitsAllocated <= 0},
			{"NumberOfFrames", "(0028,0008)", seg.NumberOfFrames <= 0},
			{"SegmentationType", "(0062,0001)", seg.SegmentationType == ""},
			{"SegmentSequence", "(0062,0002)", len(seg.Segments) == 0},
		}
		if seg.SegmentationType == SegmentationTypeFractional {
			attrs = append(attrs,
				attr{"SegmentationFractionalType", "(0062,0010)",
					seg.SegmentationFractionalType == ""},
				attr{"MaximumFractionalValue", "(0062,000E)", seg.MaximumFractionalValue <= 0})
		}
		for _, a := range attrs {
			switch {
			case !a.empty:
			case a.keyword == "NumberOfFrames" && seg.numberOfFramesText != "":
				c.addf(r, 0, 0, "%s %s is Type 1 in a SEG and must be a positive "+
					"integer: found %q", a.keyword, a.tag, seg.numberOfFramesText)
			default:
				c.addf(r, 0, 0, "%s %s is Type 1 in a SEG: found it %s",
					a.keyword, a.tag, missing(seg.Present, a.keyword))
			}
		}
		// Attributes the decoder only records as present or absent.
		if seg.Present == nil {
			return
		}
		for _, a := range []attr{
			{"ImageType", "(0008,0008)", false},
			{"ContentLabel", "(0070,0080)", false},
			{"InstanceNumber", "(0020,0013)", false},
			{"DimensionOrganizationSequence", "(0020,9221)", false},
		} {
			if !seg.Present[a.keyword] {
				c.addf(r, 0, 0, "%s %s is Type 1 in a SEG: found it absent", a.keyword, a.tag)
			}
		}
	},
}

var ruleSegmentationType = &rule{
	RuleInfo: RuleInfo{
		ID:              "structure.segmentation_type",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.1, C.8.20.2",
		Summary: "Modality is SEG, Segmentation Type fits the SOP Class, and a FRACTIONAL " +
			"SEG has a valid fractional type and maximum value",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		if seg.Modality != "" && seg.Modality != "SEG" {
			c.addf(r, 0, 0, "Modality (0008,0060) must be SEG: found %q", seg.Modality)
		}
		typ := seg.SegmentationType
		switch {
		case typ == "":
		case seg.SOPClassUID == LabelMapSegmentationStorage && typ != SegmentationTypeLabelmap:
			c.addf(r, 0, 0, "Segmentation Type (0062,0001) must be LABELMAP in a Label Map "+
				"Segmentation: found %q", typ)
		case seg.SOPClassUID == SegmentationStorage && typ != SegmentationTypeBinary &&
			typ != SegmentationTypeFractional:
			c.addf(r, 0, 0, "Segmentation Type (0062,0001) must be BINARY or FRACTIONAL in a "+
				"Segmentation Storage instance: found %q", typ)
		}
		if typ != SegmentationTypeFractional {
			return
		}
		switch seg.SegmentationFractionalType {
		case "", SegmentationFractionalTypeProbability, SegmentationFractionalTypeOccupancy:
		default:
			c.addf(r, 0, 0, "Segmentation Fractional Type (0062,0010) must be PROBABILITY or "+
				"OCCUPANCY: found %q", seg.SegmentationFractionalType)
		}
		if v := seg.MaximumFractionalValue; v != 0 && (v < 1 || v > 255) {
			c.addf(r, 0, 0, "Maximum Fractional Value (0062,000E) must lie in 1..255 for 8-bit "+
				"pixels: found %d", v)
		}
	},
}

var ruleImagePixel = &rule{
	RuleInfo: RuleInfo{
		ID:              "structure.image_pixel",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.2, C.8.20.2.1",
		Summary: "the Image Pixel attributes have the values a SEG of its type requires " +
			"(bits, samples, photometric interpretation, pixel representation)",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		var bits []int
		switch seg.SegmentationType {
		case SegmentationTypeBinary:
			bits = []int{1}
		case SegmentationTypeFractional:
			bits = []int{8}
		case SegmentationTypeLabelmap:
			bits = []int{8, 16}
		}
		if bits != nil && seg.BitsAllocated > 0 && !slices.Contains(bits, seg.BitsAllocated) {
			c.addf(r, 0, 0, "Bits Allocated (0028,0100) of a %s SEG must be %s: found %d",
				seg.SegmentationType, joinInts(bits), seg.BitsAllocated)
		}
		if seg.BitsStored > 0 && seg.BitsAllocated > 0 && seg.BitsStored != seg.BitsAllocated {
			c.addf(r, 0, 0, "Bits Stored (0028,0101) must equal Bits Allocated (%d): found %d",
				seg.BitsAllocated, seg.BitsStored)
		}
		if seg.Present == nil {
			return
		}
		if seg.Present["HighBit"] && seg.BitsStored > 0 && seg.HighBit != seg.BitsStored-1 {
			c.addf(r, 0, 0, "High Bit (0028,0102) must be Bits Stored - 1 = %d: found %d",
				seg.BitsStored-1, seg.HighBit)
		}
		if seg.Present["SamplesPerPixel"] && seg.SamplesPerPixel != 1 {
			c.addf(r, 0, 0, "Samples per Pixel (0028,0002) must be 1: found %d",
				seg.SamplesPerPixel)
		}
		if seg.Present["PixelRepresentation"] && seg.PixelRepresentation != 0 {
			c.addf(r, 0, 0, "Pixel Representation (0028,0103) must be 0 (unsigned): found %d",
				seg.PixelRepresentation)
		}
		pi := seg.PhotometricInterpretation
		allowed := []string{"MONOCHROME2"}
		if seg.SegmentationType == SegmentationTypeLabelmap {
			allowed = append(allowed, "PALETTE COLOR")
		}
		if seg.Present["PhotometricInterpretation"] && !slices.Contains(allowed, pi) {
			c.addf(r, 0, 0, "Photometric Interpretation (0028,0004) must be %s: found %q",
				strings.Join(allowed, " or "), pi)
		}
	},
}

// joinInts writes 1 or "8 or 16".
func joinInts(v []int) string {
	parts := make([]string, len(v))
	for i, n := range v {
		parts[i] = fmt.Sprint(n)
	}
	return strings.Join(parts, " or ")
}

// segmentAlgorithmTypes are the enumerated values of Segment Algorithm Type.
var segmentAlgorithmTypes = []string{"AUTOMATIC", "SEMIAUTOMATIC", "MANUAL"}

var ruleSegmentDescription = &rule{
	RuleInfo: RuleInfo{
		ID:              "structure.segment_description",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.2, Table 10-25",
		Summary: "each Segment Sequence item has its Type 1 attributes: number, label, " +
			"algorithm type (and name unless MANUAL), category and type codes with code " +
			"value, scheme and meaning",
	},
	check: func(c *checkContext, r *rule) {
		for _, d := range c.seg.Segments {
			n := int(d.SegmentNumber)
			type attr struct {
				keyword, tag string
				empty        bool
			}
			attrs := []attr{
				{"SegmentNumber", "(0062,0004)", d.Present != nil && !d.Present["SegmentNumber"]},
				{"SegmentLabel", "(0062,0005)", d.SegmentLabel == ""},
				{"SegmentAlgorithmType", "(0062,0008)", d.SegmentAlgorithmType == ""},
			}
			if d.SegmentAlgorithmType != "" && d.SegmentAlgorithmType != "MANUAL" {
				attrs = append(attrs, attr{"SegmentAlgorithmName", "(0062,0009)",
					d.SegmentAlgorithmName == ""})
			}
			for _, a := range attrs {
				if a.empty {
					c.addf(r, n, 0, "segment %d: %s %s is required: found it %s",
						n, a.keyword, a.tag, missing(d.Present, a.keyword))
				}
			}
			if t := d.SegmentAlgorithmType; t != "" && !slices.Contains(segmentAlgorithmTypes, t) {
				c.addf(r, n, 0, "segment %d: Segment Algorithm Type (0062,0008) must be "+
					"AUTOMATIC, SEMIAUTOMATIC or MANUAL: found %q", n, t)
			}
			checkCode(c, r, n, "SegmentedPropertyCategoryCodeSequence", "(0062,0003)",
				d.SegmentedPropertyCategory, d.Present)
			checkCode(c, r, n, "SegmentedPropertyTypeCodeSequence", "(0062,000F)",
				d.SegmentedPropertyType, d.Present)
		}
	},
}

// checkCode checks one required coded concept of a segment: one item with
// Code Value, Coding Scheme Designator and Code Meaning (PS3.3 Table 8.8-1).
func checkCode(c *checkContext, r *rule, n int, keyword, tag string, code CodedConcept,
	present map[string]bool) {
	if code.IsZero() {
		c.addf(r, n, 0, "segment %d: %s %s must hold one coded item: found it %s",
			n, keyword, tag, missing(present, keyword))
		return
	}
	var empty []string
	if code.CodeValue == "" {
		empty = append(empty, "Code Value (0008,0100)")
	}
	if code.CodingSchemeDesignator == "" {
		empty = append(empty, "Coding Scheme Designator (0008,0102)")
	}
	if code.CodeMeaning == "" {
		empty = append(empty, "Code Meaning (0008,0104)")
	}
	if len(empty) > 0 {
		c.addf(r, n, 0, "segment %d: the code of %s %s must have a code value, scheme and "+
			"meaning: %s empty or absent in (%q, %q, %q)", n, keyword, tag,
			strings.Join(empty, ", "), code.CodeValue, code.CodingSchemeDesignator,
			code.CodeMeaning)
	}
}

var ruleSegmentNumbers = &rule{
	RuleInfo: RuleInfo{
		ID:              "structure.segment_numbers",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.2, Table 10-25",
		Summary: "Segment Numbers are unique; in BINARY and FRACTIONAL SEGs they run 1..N " +
			"in order",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		seen := make(map[uint16]bool, len(seg.Segments))
		for _, d := range seg.Segments {
			if seen[d.SegmentNumber] {
				c.addf(r, int(d.SegmentNumber), 0, "Segment Number (0062,0004) must be unique: "+
					"%d appears more than once", d.SegmentNumber)
			}
			seen[d.SegmentNumber] = true
		}
		if seg.SegmentationType == SegmentationTypeLabelmap {
			return
		}
		for i, d := range seg.Segments {
			if int(d.SegmentNumber) != i+1 {
				got := make([]string, len(seg.Segments))
				for j, s := range seg.Segments {
					got[j] = fmt.Sprint(s.SegmentNumber)
				}
				c.addf(r, 0, 0, "Segment Numbers (0062,0004) of a %s SEG must start at 1 and "+
					"increase by 1 through the Segment Sequence: found %s",
					seg.SegmentationType, strings.Join(got, ", "))
				return
			}
		}
	},
}

var ruleFrameSegment = &rule{
	RuleInfo: RuleInfo{
		ID:              "structure.frame_segment",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.20.3, C.8.20.2",
		Summary: "every frame's segment is described: the Referenced Segment Number of a " +
			"BINARY or FRACTIONAL frame, and every non-zero value of a LABELMAP frame other " +
			"than the Pixel Padding Value",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		described := make(map[uint16]bool, len(seg.Segments))
		for _, d := range seg.Segments {
			described[d.SegmentNumber] = true
		}
		if seg.SegmentationType == SegmentationTypeLabelmap {
			values := make([]uint16, 0, len(c.stats.undescribed))
			for v := range c.stats.undescribed {
				values = append(values, v)
			}
			slices.Sort(values)
			for _, v := range values {
				c.addf(r, int(v), c.stats.undescribed[v], "every value of a LABELMAP frame "+
					"must be the number of a described segment, 0 or the Pixel Padding Value: "+
					"found %d, first in frame %d", v, c.stats.undescribed[v])
			}
			return
		}
		for _, f := range seg.Frames {
			switch {
			case f.SegmentNumber == 0:
				c.addf(r, 0, f.Number, "a %s frame must name its segment in the Segment "+
					"Identification Sequence (0062,000A): found no Referenced Segment Number "+
					"(or 0)", seg.SegmentationType)
			case !described[f.SegmentNumber]:
				c.addf(r, int(f.SegmentNumber), f.Number, "a frame's Referenced Segment Number "+
					"(0062,000B) must be described in the Segment Sequence: found %d",
					f.SegmentNumber)
			}
		}
	},
}

var rulePixelDecode = &rule{
	RuleInfo: RuleInfo{
		ID:              "structure.pixel_decode",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.5 8.2, PS3.3 C.7.6.3",
		Summary:         "every frame's pixel data can be decoded",
	},
	check: func(c *checkContext, r *rule) {
		for _, fe := range c.stats.decodeErrs {
			segment := 0
			if i := fe.frame - 1; i < len(c.seg.Frames) {
				segment = int(c.seg.Frames[i].SegmentNumber)
			}
			c.addf(r, segment, fe.frame, "the pixel data of every frame must decode: "+
				"frame %d does not: %v", fe.frame, fe.err)
		}
	},
}
