package qc

import (
	"fmt"
	"sync"
)

// Rule ids of the findings the decoder itself records in
// [Segmentation.Problems].
const (
	decodeRuleTransferSyntax   = "structure.transfer_syntax"
	decodeRulePixelData        = "structure.pixel_data"
	decodeRulePixelDataLength  = "structure.pixel_data_length"
	decodeRuleEncapsulation    = "structure.encapsulation"
	decodeRuleFunctionalGroups = "structure.functional_groups"
)

// failureReasonUnsupportedSyntax is the STOW-RS Failure Reason for a
// transfer syntax the receiver cannot handle (PS3.18 10.5.3).
const failureReasonUnsupportedSyntax = 0xC122

// ParseSegmentation reads a SEG from a DICOM Part 10 file held in data. It
// returns an error only when data is not a readable SEG at all; problems that
// still let it decode are in the Problems field.
//
// data is kept, not copied: Pixel Data stays a slice of it and frames are
// decoded on demand by [Segmentation.FrameMask] and
// [Segmentation.FrameValues], so the caller must not change data while the
// Segmentation is in use.
//
// Frames are decoded from implicit and explicit VR little endian, deflated
// explicit VR little endian, Encapsulated Uncompressed, RLE Lossless,
// Deflated Image Frame Compression and, in builds with cgo, JPEG 2000
// (PS3.5 Annex A). Pixel Data in any other transfer syntax (JPEG, JPEG-LS,
// HTJ2K, big endian) gives a structure.transfer_syntax finding with Failure
// Reason C122, and decoding its frames gives [ErrUnsupportedTransferSyntax].
//
// The error wraps [ErrNotDICOM], [ErrNotSegmentation] or [ErrMalformed].
func ParseSegmentation(data []byte) (*Segmentation, error) {
	f, err := readPart10(data)
	if err != nil {
		return nil, err
	}
	elems, err := parseDataset(f.body[:f.headEnd], f.ts)
	if err != nil {
		return nil, err
	}
	s := &Segmentation{}
	s.readAttributes(item(elems), f)
	if !IsSegmentationClass(s.SOPClassUID) {
		return nil, fmt.Errorf("SOP Class UID %q: %w", s.SOPClassUID, ErrNotSegmentation)
	}

	// A frame takes at least one byte of any encoding: a larger count is a
	// lie that must not size any allocation.
	if s.NumberOfFrames > len(f.body) {
		return nil, fmt.Errorf("%w: Number of Frames %d exceeds what a %d-byte data set can hold",
			ErrMalformed, s.NumberOfFrames, len(f.body))
	}
	s.readFrames(item(elems))
	s.attachPixelData(f)
	return s, nil
}

// FrameMask fills dst with the pixels of 0-based frame i that belong to
// segment: the set bits of a BINARY frame, values above 0 of a FRACTIONAL
// one, and values equal to segment in a LABELMAP (PS3.3 C.8.20.2.3).
//
// A BINARY or FRACTIONAL frame holds one segment, named by its Segment
// Identification: when that names another segment, dst is left empty; when
// the frame names none, its pixels are taken. dst is resized to Rows x
// Columns and its storage reused. FrameMask is safe for concurrent use with
// distinct dst.
func (s *Segmentation) FrameMask(i int, segment uint16, dst *Mask) error {
	buf := frameBuffers.Get().(*[]byte)
	defer frameBuffers.Put(buf)
	data, l, bit, err := s.frame(i, buf)
	if err != nil {
		return err
	}
	dst.Reset(l.rows, l.cols)
	n := l.rows * l.cols
	if s.SegmentationType == SegmentationTypeLabelmap {
		if l.bits == 1 {
			// A 1-bit label map can only hold the labels 0 and 1.
			if segment <= 1 {
				unpackBits(dst.Bits, data, bit, n)
			}
			if segment == 0 {
				invertMask(dst)
			}
			return nil
		}
		maskEqual(dst.Bits, data, l.bits, n, segment)
		return nil
	}
	if own := s.Frames[i].SegmentNumber; own != 0 && own != segment {
		return nil
	}
	if l.bits == 1 {
		unpackBits(dst.Bits, data, bit, n)
		return nil
	}
	maskNonZero(dst.Bits, data, l.bits, n)
	return nil
}

// FrameValues returns the stored values of 0-based frame i, one per pixel in
// row-major order, reusing dst when it is large enough. BINARY values are 0
// or 1.
func (s *Segmentation) FrameValues(i int, dst []uint16) ([]uint16, error) {
	buf := frameBuffers.Get().(*[]byte)
	defer frameBuffers.Put(buf)
	data, l, bit, err := s.frame(i, buf)
	if err != nil {
		return dst, err
	}
	n := l.rows * l.cols
	if cap(dst) < n {
		dst = make([]uint16, n)
	}
	dst = dst[:n]
	frameValues(dst, data, bit, l.bits)
	return dst, nil
}

// frame returns the stored data of frame i, checked to hold a whole frame
// of the shape the exported fields give. A compressed frame is decoded into
// *buf.
func (s *Segmentation) frame(i int, buf *[]byte) ([]byte, frameLayout, int, error) {
	l := frameLayout{rows: s.Rows, cols: s.Columns, bits: s.BitsAllocated, samples: 1}
	if i < 0 || i >= len(s.Frames) {
		return nil, l, 0, fmt.Errorf("frame %d of %d: %w", i+1, len(s.Frames), ErrFrameRange)
	}
	if s.pixels == nil {
		return nil, l, 0, fmt.Errorf("frame %d: no Pixel Data: %w", i+1, ErrPixelData)
	}
	data, bit, err := s.pixels.frame(i, buf)
	if err != nil {
		return nil, l, 0, fmt.Errorf("decoding frame %d: %w", i+1, err)
	}
	// The fields may have been changed since the data was read: never
	// read past what the source gave.
	if (l.bits != 1 && l.bits != 8 && l.bits != 16) || l.rows < 0 || l.cols < 0 ||
		int64(len(data))*8 < int64(bit)+l.frameBits() {
		return nil, l, 0, fmt.Errorf("frame %d: %d bytes cannot hold %dx%d pixels of %d bits: %w",
			i+1, len(data), l.rows, l.cols, l.bits, ErrPixelData)
	}
	return data, l, bit, nil
}

// frameBuffers holds scratch buffers for decoding compressed frames.
var frameBuffers = sync.Pool{New: func() any { return new([]byte) }}

// pixelSource yields the pixel data of one frame.
type pixelSource interface {
	// frame returns 0-based frame i as stored: for 1-bit data, the frame's
	// bits start at bit offset bit of data[0] (LSB first); otherwise data
	// holds its samples from data[0], little endian. It may decode into
	// *buf, growing it. The result holds the whole frame.
	frame(i int, buf *[]byte) (data []byte, bit int, err error)
}
