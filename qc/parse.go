package qc

// ParseSegmentation reads a SEG from a DICOM Part 10 file held in data. It
// returns an error only when data is not a readable SEG at all; problems that
// still let it decode are in the Problems field.
func ParseSegmentation(data []byte) (*Segmentation, error) {
	panic("qc: ParseSegmentation not implemented yet")
}

// FrameMask fills dst with the pixels of 0-based frame i that belong to
// segment: the set bits of a BINARY frame, values above 0 of a FRACTIONAL
// one, and values equal to segment in a LABELMAP (PS3.3 C.8.20.2.3).
func (s *Segmentation) FrameMask(i int, segment uint16, dst *Mask) error {
	panic("qc: FrameMask not implemented yet")
}

// FrameValues returns the stored values of 0-based frame i, one per pixel in
// row-major order, reusing dst when it is large enough. BINARY values are 0
// or 1.
func (s *Segmentation) FrameValues(i int, dst []uint16) ([]uint16, error) {
	panic("qc: FrameValues not implemented yet")
}

// pixelSource yields the pixel data of one frame.
type pixelSource interface{}
