package qc

// SOP Class UIDs of the segmentation storage classes (PS3.4 B.5).
const (
	SegmentationStorage         = "1.2.840.10008.5.1.4.1.1.66.4"
	LabelMapSegmentationStorage = "1.2.840.10008.5.1.4.1.1.66.7"
)

// IsSegmentationClass reports whether uid is the SOP Class UID of a
// segmentation storage class that qc checks.
func IsSegmentationClass(uid string) bool {
	return uid == SegmentationStorage || uid == LabelMapSegmentationStorage
}

// SegmentationType is the Segmentation Type (0062,0001) of a SEG
// (PS3.3 C.8.20.2).
type SegmentationType string

// Defined terms of Segmentation Type.
const (
	SegmentationTypeBinary     SegmentationType = "BINARY"
	SegmentationTypeFractional SegmentationType = "FRACTIONAL"
	SegmentationTypeLabelmap   SegmentationType = "LABELMAP"
)

// SegmentationFractionalType is the Segmentation Fractional Type (0062,0010).
type SegmentationFractionalType string

// Defined terms of Segmentation Fractional Type.
const (
	SegmentationFractionalTypeProbability SegmentationFractionalType = "PROBABILITY"
	SegmentationFractionalTypeOccupancy   SegmentationFractionalType = "OCCUPANCY"
)

// CodedConcept is a Code Sequence Macro item (PS3.3 Table 8.8-1).
type CodedConcept struct {
	CodeValue              string `json:"code_value"`
	CodingSchemeDesignator string `json:"coding_scheme_designator"`
	CodeMeaning            string `json:"code_meaning"`
}

// IsZero reports whether c carries no code at all.
func (c CodedConcept) IsZero() bool { return c == CodedConcept{} }

// SegmentDescription is one item of the Segment Sequence (0062,0002), the
// Segment Description macro of PS3.3 Table 10-25. It is not the Segment
// Description attribute (0062,0006), which is a free-text field of the item.
type SegmentDescription struct {
	// SegmentNumber is 1-based and consecutive for BINARY and FRACTIONAL
	// segmentations; 0 is the background in a LABELMAP.
	SegmentNumber             uint16
	SegmentLabel              string
	SegmentDescription        string
	SegmentAlgorithmType      string
	SegmentAlgorithmName      string
	SegmentedPropertyCategory CodedConcept
	SegmentedPropertyType     CodedConcept
	// SegmentedPropertyTypeModifier and AnatomicRegion are optional codes;
	// the zero value means absent.
	SegmentedPropertyTypeModifier CodedConcept
	AnatomicRegion                CodedConcept
	TrackingID                    string
	TrackingUID                   string
	// RecommendedDisplayCIELabValue holds the three PCS values, or nil.
	RecommendedDisplayCIELabValue []uint16
	// Present lists the Type 1 attributes of the macro that the item holds,
	// by keyword, so structure rules can tell absent from empty.
	Present map[string]bool
}

// ImageReference is an item of a Source Image Sequence or Referenced
// Instance Sequence: a SOP instance and, for multi-frame sources, the frames
// referenced (1-based; nil when the whole instance is referenced).
type ImageReference struct {
	SOPClassUID           string
	SOPInstanceUID        string
	ReferencedFrameNumber []int
}

// ReferencedSeries is an item of the Referenced Series Sequence (0008,1115).
type ReferencedSeries struct {
	SeriesInstanceUID string
	Instances         []ImageReference
}

// Frame describes one frame of a SEG after the shared and per-frame
// functional groups are merged (PS3.3 C.7.6.16). A field that neither group
// holds is left at its zero value (nil for slices).
type Frame struct {
	// Number is the 1-based frame number in Pixel Data.
	Number int
	// SegmentNumber is the Referenced Segment Number of the Segment
	// Identification Sequence; 0 in a LABELMAP, whose frames hold all
	// segments.
	SegmentNumber uint16
	// ImagePositionPatient is the Plane Position (Patient) of the frame, in mm.
	ImagePositionPatient []float64
	// ImageOrientationPatient holds the row and column direction cosines.
	ImageOrientationPatient []float64
	// PixelSpacing is the row and column spacing in mm.
	PixelSpacing []float64
	// SliceThickness is in mm; 0 when absent.
	SliceThickness float64
	// SourceImages are the Source Image Sequence items of the Derivation
	// Image Sequence of this frame.
	SourceImages []ImageReference
	// RowPositionInTotalImagePixelMatrix and
	// ColumnPositionInTotalImagePixelMatrix place a tile of a slide
	// microscopy SEG (1-based; 0 when absent).
	RowPositionInTotalImagePixelMatrix    int
	ColumnPositionInTotalImagePixelMatrix int
	// DimensionIndexValues are the frame's Frame Content values, if any.
	DimensionIndexValues []int
	// SpacingBetweenSlices is the Pixel Measures value in mm; 0 when absent.
	SpacingBetweenSlices float64
}

// Segmentation is a decoded SEG instance: its identifying attributes,
// segments, frames and a handle on its pixel data.
type Segmentation struct {
	SOPClassUID         string
	SOPInstanceUID      string
	StudyInstanceUID    string
	SeriesInstanceUID   string
	FrameOfReferenceUID string
	TransferSyntaxUID   string
	Modality            string
	// ClinicalTrialProtocolID is used to choose a profile; empty if absent.
	ClinicalTrialProtocolID string

	Rows           int
	Columns        int
	NumberOfFrames int
	// numberOfFramesText is the Number of Frames value as found, for
	// findings about a value that is not a positive integer.
	numberOfFramesText string
	BitsAllocated      int
	BitsStored         int

	SegmentationType           SegmentationType
	SegmentationFractionalType SegmentationFractionalType
	MaximumFractionalValue     int
	// SegmentsOverlap is YES, UNDEFINED or NO; empty when absent.
	SegmentsOverlap string
	// PixelPaddingValue is the value of unencoded pixels of a LABELMAP, or
	// nil when absent.
	PixelPaddingValue *int
	// DimensionOrganizationType is TILED_FULL, TILED_SPARSE, 3D, ... or empty.
	DimensionOrganizationType string
	TotalPixelMatrixRows      int
	TotalPixelMatrixColumns   int
	Segments                  []SegmentDescription
	Frames                    []Frame
	ReferencedSeries          []ReferencedSeries
	// SourceImages are the top-level Source Image Sequence items.
	SourceImages []ImageReference

	// Problems found while decoding that did not stop it, as findings of
	// the structure rules.
	Problems []Finding

	// SamplesPerPixel, PhotometricInterpretation, HighBit and
	// PixelRepresentation are the Image Pixel module values (PS3.3
	// C.7.6.3); 0 or "" when absent.
	SamplesPerPixel           int
	PhotometricInterpretation string
	HighBit                   int
	PixelRepresentation       int
	// TotalPixelMatrixFocalPlanes is 0 when absent.
	TotalPixelMatrixFocalPlanes int
	// Present holds the keywords (PS3.6) of the top-level attributes the
	// data set holds, even empty ones, so rules can tell absent from empty.
	Present map[string]bool
	// SharedFunctionalGroups holds the keywords of the functional group
	// sequences found in the Shared Functional Groups Sequence, for example
	// "DerivationImageSequence" when the source references apply to every
	// frame rather than naming each frame's own source (PS3.3 C.7.6.16).
	SharedFunctionalGroups map[string]bool

	pixels pixelSource
}
