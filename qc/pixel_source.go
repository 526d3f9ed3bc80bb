package qc

import (
	"fmt"
	"math"
)

// frameLayout is the shape of one frame.
type frameLayout struct {
	rows, cols, bits, samples int
}

// frameBits returns the number of bits one frame takes in native encoding.
func (l frameLayout) frameBits() int64 {
	return int64(l.rows) * int64(l.cols) * int64(l.bits) * int64(l.samples)
}

// frameBytes returns the bytes of one frame encoded on its own, as in the
// encapsulated syntaxes: 1-bit frames start on a byte boundary.
func (l frameLayout) frameBytes() int { return int((l.frameBits() + 7) / 8) }

// nativeSource reads frames of native (uncompressed) Pixel Data: frames are
// concatenated, so a 1-bit frame k starts at bit k x Rows x Columns and may
// start inside a byte (PS3.5 8.1.1).
type nativeSource struct {
	data   []byte
	layout frameLayout
}

func (n *nativeSource) frame(i int, _ *[]byte) ([]byte, int, error) {
	fb := n.layout.frameBits()
	have := int64(len(n.data)) * 8
	// Compare by division first: the product may not fit in an int64.
	if fb > have || int64(i) > (have-fb)/fb {
		return nil, 0, fmt.Errorf("%w: frame needs bits %d to %d; Pixel Data holds %d bits",
			ErrPixelData, int64(i)*fb, int64(i+1)*fb, have)
	}
	start := int64(i) * fb
	end := start + fb
	return n.data[start/8 : (end+7)/8], int(start % 8), nil
}

// failedSource answers every frame with the same error.
type failedSource struct{ err error }

func (f failedSource) frame(int, *[]byte) ([]byte, int, error) { return nil, 0, f.err }

// attachPixelData checks the Pixel Data element against the transfer syntax
// and the frame layout, records what is wrong in s.Problems, and sets the
// source frames are decoded from.
func (s *Segmentation) attachPixelData(f *part10) {
	px := f.pixel
	if px == nil {
		s.addProblem(decodeRulePixelData, SeverityError, "PS3.3 C.7.6.3",
			"Pixel Data (7FE0,0010) is required in a SEG: found none")
		s.pixels = failedSource{fmt.Errorf("no Pixel Data: %w", ErrPixelData)}
		return
	}
	ts := f.ts
	if ts.Known && px.encapsulated != ts.Encapsulated {
		s.addProblem(decodeRuleEncapsulation, SeverityError, "PS3.5 A.4, PS3.5 8.2",
			"Transfer Syntax %s (%s) requires %s Pixel Data: found %s Pixel Data",
			ts.UID, ts.Name, encapsulation(ts.Encapsulated), encapsulation(px.encapsulated))
	}
	layout, ok := s.frameLayout()
	if ok && !px.encapsulated {
		s.checkNativeLength(px, layout)
	}
	switch {
	case !ts.decodable():
		s.Problems = append(s.Problems, Finding{
			Rule:     decodeRuleTransferSyntax,
			Severity: SeverityError,
			Message: fmt.Sprintf("Transfer Syntax %s (%s) cannot be decoded: qc decodes implicit "+
				"and explicit VR little endian, deflated, RLE Lossless, Deflated Image Frame "+
				"Compression and JPEG 2000", ts.UID, ts.Name),
			Reference:     "PS3.5 8.2, PS3.18 10.5.3",
			FailureReason: failureReasonUnsupportedSyntax,
		})
		s.pixels = failedSource{fmt.Errorf("transfer syntax %s (%s): %w", ts.UID, ts.Name,
			ErrUnsupportedTransferSyntax)}
	case !ok:
		s.pixels = failedSource{fmt.Errorf("%w: frames of %dx%d pixels, %d samples of %d bits "+
			"cannot be decoded", ErrPixelData, s.Rows, s.Columns, s.SamplesPerPixel,
			s.BitsAllocated)}
	case px.encapsulated != ts.Encapsulated:
		s.pixels = failedSource{fmt.Errorf("%w: Pixel Data encapsulation does not match "+
			"transfer syntax %s", ErrPixelData, ts.UID)}
	case px.encapsulated:
		s.pixels = s.encapsulatedSource(f, layout)
	default:
		s.pixels = &nativeSource{data: px.value, layout: layout}
	}
}

// frameLayout returns the shape of a frame, or false with a problem
// recorded when the attributes describe no frame qc can decode.
func (s *Segmentation) frameLayout() (frameLayout, bool) {
	l := frameLayout{rows: s.Rows, cols: s.Columns, bits: s.BitsAllocated, samples: 1}
	if s.SamplesPerPixel > 1 {
		l.samples = s.SamplesPerPixel
	}
	if l.bits != 1 && l.bits != 8 && l.bits != 16 {
		s.addProblem(decodeRulePixelData, SeverityError, "PS3.3 C.8.20.2",
			"Bits Allocated (0028,0100) of a SEG must be 1 (BINARY), 8 (FRACTIONAL, LABELMAP) "+
				"or 16 (LABELMAP): found %d", l.bits)
		return l, false
	}
	if l.samples != 1 {
		s.addProblem(decodeRulePixelData, SeverityError, "PS3.3 C.8.20.2",
			"Samples per Pixel (0028,0002) of a SEG must be 1: found %d", l.samples)
		return l, false
	}
	if l.rows <= 0 || l.cols <= 0 {
		s.addProblem(decodeRulePixelData, SeverityError, "PS3.3 C.7.6.3",
			"Rows (0028,0010) and Columns (0028,0011) must be positive: found %d x %d",
			l.rows, l.cols)
		return l, false
	}
	return l, true
}

// checkNativeLength checks that native Pixel Data is exactly as long as
// the frames need, rounded up to even (PS3.5 8.1.1, 7.1.1).
func (s *Segmentation) checkNativeLength(px *rawPixelData, l frameLayout) {
	frames := max(s.NumberOfFrames, 0)
	want := ceilBytes(l.frameBits(), frames)
	want += want % 2
	found := int64(px.declaredLength)
	if int64(len(px.value)) < found {
		s.addProblem(decodeRulePixelDataLength, SeverityError, "PS3.5 7.1.1",
			"Pixel Data (7FE0,0010) value must lie within the file: found a length of %d bytes "+
				"with %d bytes left in the file", found, len(px.value))
	}
	if found == want {
		return
	}
	msg := fmt.Sprintf("Pixel Data (7FE0,0010) must be exactly %d bytes for %d rows x %d "+
		"columns x %d frames x %d bits, rounded up to even length: found %d bytes",
		want, l.rows, l.cols, frames, l.bits, found)
	if l.bits == 1 && (l.rows*l.cols)%8 != 0 {
		perFrame := int64(frames) * int64(l.frameBytes())
		if found == perFrame || found == perFrame+perFrame%2 {
			msg += "; that is the length of frames each padded to a whole byte, but 1-bit " +
				"frames must follow each other without padding"
		}
	}
	s.addProblem(decodeRulePixelDataLength, SeverityError, "PS3.5 8.1.1, PS3.5 7.1.1", "%s",
		msg)
}

// ceilBytes returns ceil(frameBits x frames / 8), saturating at MaxInt64.
func ceilBytes(frameBits int64, frames int) int64 {
	if frames == 0 || frameBits == 0 {
		return 0
	}
	if frameBits > (math.MaxInt64-7)/int64(frames) {
		return math.MaxInt64
	}
	return (frameBits*int64(frames) + 7) / 8
}

func encapsulation(encapsulated bool) string {
	if encapsulated {
		return "encapsulated"
	}
	return "native"
}
