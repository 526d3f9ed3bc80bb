package qc

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSegmentation feeds the decoder mutations of the real SEGs and of
// generated ones in every transfer syntax it decodes. It must never panic,
// must return only its documented errors, and must decode frames without
// reading or allocating beyond what the input can hold.
func FuzzParseSegmentation(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "real", "*", "*.dcm"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seed files: %v", err)
	}
	for _, path := range seeds {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("reading seed: %v", err)
		}
		f.Add(data)
	}
	for _, ts := range []string{uidImplicitVRLittleEndian, uidDeflatedExplicitVRLittle,
		uidRLELossless, uidDeflatedImageFrame, uidEncapsulatedUncompressed} {
		b := onePixelPerFrame(ts)
		b.OffsetTable = true
		f.Add(b.Build())
	}
	lm := labelmap(3, 5, 16, []uint16{0, 1, 300},
		[]uint16{0, 1, 300, 0, 1, 1, 0, 0, 300, 300, 1, 0, 0, 0, 1})
	lm.TransferSyntax = uidRLELossless
	f.Add(lm.Build())

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSegmentation(data)
		if err != nil {
			if !errors.Is(err, ErrNotDICOM) && !errors.Is(err, ErrNotSegmentation) &&
				!errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseSegmentation error %v wraps no sentinel", err)
			}
			return
		}
		if len(s.Frames) > deflateMaxExpansion*len(data) {
			t.Fatalf("%d frames from %d bytes", len(s.Frames), len(data))
		}
		var m Mask
		var vals []uint16
		for i := range min(len(s.Frames), 64) {
			seg := s.Frames[i].SegmentNumber
			if err := s.FrameMask(i, seg, &m); err != nil {
				if !errors.Is(err, ErrPixelData) && !errors.Is(err, ErrUnsupportedTransferSyntax) {
					t.Fatalf("FrameMask(%d) error %v wraps no sentinel", i, err)
				}
				continue
			}
			if vals, err = s.FrameValues(i, vals); err != nil {
				t.Fatalf("FrameValues(%d) failed after FrameMask did not: %v", i, err)
			}
			if len(vals) != s.Rows*s.Columns {
				t.Fatalf("FrameValues(%d) gave %d values for %dx%d", i, len(vals), s.Rows,
					s.Columns)
			}
		}
	})
}
