package qc

// SourceFrame is the geometry of one frame of a source instance. A field
// the instance does not hold is left at its zero value (nil for slices).
type SourceFrame struct {
	// Number is the 1-based frame number within its instance.
	Number int
	// ImagePositionPatient is in mm.
	ImagePositionPatient    []float64
	ImageOrientationPatient []float64
	// PixelSpacing is the row and column spacing in mm.
	PixelSpacing []float64
	// SliceThickness is in mm; 0 when absent.
	SliceThickness float64
	// SpacingBetweenSlices is in mm; 0 when absent.
	SpacingBetweenSlices float64
	// RowPositionInTotalImagePixelMatrix and
	// ColumnPositionInTotalImagePixelMatrix place a tile of a slide
	// microscopy image (1-based; 0 when the image is not tiled). For
	// TILED_FULL images, which list no per-frame positions, they are computed
	// from the tiling (PS3.3 C.7.6.17.3).
	RowPositionInTotalImagePixelMatrix    int
	ColumnPositionInTotalImagePixelMatrix int
}

// SourceInstance is the geometry of one image a SEG may be derived from. It
// is filled from a DICOM file or a STOW-RS part ([ReadSourceInstance]) or
// from WADO-RS metadata ([SourcesFromMetadata]); both give the same values.
type SourceInstance struct {
	SOPClassUID         string
	SOPInstanceUID      string
	SeriesInstanceUID   string
	StudyInstanceUID    string
	FrameOfReferenceUID string
	Modality            string
	// BodyPartExamined is Body Part Examined (0018,0015), for example
	// ABDOMEN or HEAD (PS3.16 CID 4031 code meanings in upper case);
	// empty when absent.
	BodyPartExamined string
	Rows             int
	Columns          int
	// NumberOfFrames is 1 for single-frame images.
	NumberOfFrames int
	// Frames holds one item per frame; single-frame images have one.
	Frames []SourceFrame
	// TotalPixelMatrixRows and TotalPixelMatrixColumns describe a tiled
	// slide microscopy image; 0 otherwise.
	TotalPixelMatrixRows    int
	TotalPixelMatrixColumns int
	// DimensionOrganizationType is TILED_FULL, TILED_SPARSE, 3D, ... or
	// empty.
	DimensionOrganizationType string
}

// SourceSet holds the source instances known for a check, by SOP Instance
// UID and by series. The zero value is not usable; call [NewSourceSet].
type SourceSet struct {
	byInstance map[string]*SourceInstance
	bySeries   map[string][]*SourceInstance
}

// NewSourceSet returns an empty set.
func NewSourceSet() *SourceSet {
	return &SourceSet{
		byInstance: make(map[string]*SourceInstance),
		bySeries:   make(map[string][]*SourceInstance),
	}
}

// Add puts inst into the set. An instance already present by SOP Instance
// UID is kept and inst is ignored.
func (s *SourceSet) Add(inst *SourceInstance) {
	if inst == nil || inst.SOPInstanceUID == "" {
		return
	}
	if _, ok := s.byInstance[inst.SOPInstanceUID]; ok {
		return
	}
	s.byInstance[inst.SOPInstanceUID] = inst
	s.bySeries[inst.SeriesInstanceUID] = append(s.bySeries[inst.SeriesInstanceUID], inst)
}

// Instance returns the instance with that SOP Instance UID, or nil.
func (s *SourceSet) Instance(uid string) *SourceInstance { return s.byInstance[uid] }

// Series returns the instances of a series, in the order they were added.
func (s *SourceSet) Series(uid string) []*SourceInstance { return s.bySeries[uid] }

// HasSeries reports whether any instance of the series is in the set.
func (s *SourceSet) HasSeries(uid string) bool { return len(s.bySeries[uid]) > 0 }

// Len returns the number of instances in the set.
func (s *SourceSet) Len() int { return len(s.byInstance) }
