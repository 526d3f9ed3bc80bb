package plant

import (
	"fmt"

	"github.com/qcgate/qcgate/qc"
)

// frames holds the native pixels of a SEG, one value per pixel and frame:
// 0 or 1 for BINARY, the label for an 8-bit LABELMAP.
type frames struct {
	rows, cols int
	bits       int // Bits Allocated: 1 or 8
	px         [][]uint8
}

// readFrames unpacks the native Pixel Data of a BINARY (1 bit, frames
// packed one after the other, PS3.5 8.1.1) or 8-bit LABELMAP SEG.
func readFrames(f *file, seg *qc.Segmentation) (*frames, error) {
	pd := find(f.ds, tagPixelData)
	if pd == nil || !f.native {
		return nil, fmt.Errorf("%w: Pixel Data is compressed or absent", ErrNotApplicable)
	}
	fr := &frames{rows: seg.Rows, cols: seg.Columns}
	n := len(seg.Frames)
	size := seg.Rows * seg.Columns
	switch seg.SegmentationType {
	case qc.SegmentationTypeBinary:
		fr.bits = 1
		if len(pd.value)*8 < n*size {
			return nil, fmt.Errorf("%w: Pixel Data of %d bytes for %d frames", ErrFormat,
				len(pd.value), n)
		}
		for k := range n {
			p := make([]uint8, size)
			for i := range p {
				b := k*size + i
				p[i] = pd.value[b/8] >> (b % 8) & 1
			}
			fr.px = append(fr.px, p)
		}
	case qc.SegmentationTypeLabelmap:
		fr.bits = 8
		if len(pd.value) < n*size {
			return nil, fmt.Errorf("%w: LABELMAP Pixel Data is not 8-bit", ErrNotApplicable)
		}
		for k := range n {
			fr.px = append(fr.px, append([]uint8(nil), pd.value[k*size:(k+1)*size]...))
		}
	default:
		return nil, fmt.Errorf("%w: %s SEG", ErrNotApplicable, seg.SegmentationType)
	}
	return fr, nil
}

// write packs the frames back into f's Pixel Data, padded to an even
// length, and sets Number of Frames.
func (fr *frames) write(f *file) {
	size := fr.rows * fr.cols
	var out []byte
	if fr.bits == 1 {
		out = make([]byte, (len(fr.px)*size+7)/8)
		for k, p := range fr.px {
			for i, v := range p {
				if v != 0 {
					b := k*size + i
					out[b/8] |= 1 << (b % 8)
				}
			}
		}
	} else {
		for _, p := range fr.px {
			out = append(out, p...)
		}
	}
	if len(out)%2 == 1 {
		out = append(out, 0)
	}
	find(f.ds, tagPixelData).value = out
	if e := find(f.ds, tagNumberOfFrames); e != nil {
		setString(e, fmt.Sprint(len(fr.px)))
	}
}

// at reports whether pixel (r, c) of frame p is set; false outside.
func (fr *frames) at(p []uint8, r, c int) bool {
	return r >= 0 && c >= 0 && r < fr.rows && c < fr.cols && p[r*fr.cols+c] != 0
}
