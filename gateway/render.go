package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"

	"github.com/qcgate/qcgate/qc"
)

// The SEG page's pictures are drawn here: a source frame, windowed to 8-bit
// grey, with each segment's outline over it in the segment's colour. The
// functions below are pure; render_frame.go fetches the pixels.

// maxRenderSide is the longest side of a picture, in pixels; larger frames
// are reduced by a whole factor.
const maxRenderSide = 1024

// maxFrameSide is the longest side of a source frame the gateway renders at
// all, in pixels; a larger frame (a slide microscopy tile matrix, say) is
// refused rather than read.
const maxFrameSide = 8192

// defaultCTWindow is the window of a CT frame whose source gives none: an
// abdomen window of centre 40 HU and width 400 HU.
var defaultCTWindow = voiWindow{Center: 40, Width: 400}

// voiWindow is a linear VOI LUT window (PS3.3 C.11.2.1.2), in the units of
// the modality LUT's output (HU for CT).
type voiWindow struct {
	Center, Width float64
}

// sourceFrame is one grey frame of a source image after the modality LUT:
// stored values times Rescale Slope plus Rescale Intercept (PS3.3
// C.11.1.1.2), row by row.
type sourceFrame struct {
	Rows, Columns int
	Values        []float64
	// Monochrome1 is true when the lowest value is displayed white (PS3.3
	// C.7.6.3.1.2).
	Monochrome1 bool
}

// pixelLayout describes how a native frame's bytes hold its samples (PS3.3
// C.7.6.3): little endian, one sample per pixel.
type pixelLayout struct {
	Rows, Columns int
	// BitsAllocated is 8 or 16; BitsStored at most BitsAllocated.
	BitsAllocated, BitsStored int
	// Signed is true when Pixel Representation is 1 (two's complement).
	Signed bool
	// Slope and Intercept are the modality rescale; a zero Slope means 1.
	Slope, Intercept float64
	Monochrome1      bool
}

// frameBytes returns the length of one native frame of l.
func (l pixelLayout) frameBytes() int { return l.Rows * l.Columns * l.BitsAllocated / 8 }

// check reports why l cannot be rendered, or nil.
func (l pixelLayout) check() error {
	switch {
	case l.Rows <= 0 || l.Columns <= 0:
		return fmt.Errorf("%w: %d x %d pixels", errUnrenderable, l.Rows, l.Columns)
	case l.Rows > maxFrameSide || l.Columns > maxFrameSide:
		return fmt.Errorf("%w: %d x %d pixels, more than %d on a side", errUnrenderable,
			l.Rows, l.Columns, maxFrameSide)
	case l.BitsAllocated != 8 && l.BitsAllocated != 16:
		return fmt.Errorf("%w: Bits Allocated %d", errUnrenderable, l.BitsAllocated)
	case l.BitsStored <= 0 || l.BitsStored > l.BitsAllocated:
		return fmt.Errorf("%w: Bits Stored %d of %d", errUnrenderable, l.BitsStored,
			l.BitsAllocated)
	}
	return nil
}

// errUnrenderable marks a source frame the gateway cannot draw: compressed,
// colour, too large or inconsistent. Its text is safe to show.
var errUnrenderable = errors.New("source frame cannot be rendered")

// decodeNativeFrame reads the samples of one native little-endian frame
// (PS3.5 8.1.1) and applies the modality rescale. The bits above BitsStored
// are masked off, and signed values sign-extended from BitsStored.
func decodeNativeFrame(b []byte, l pixelLayout) (*sourceFrame, error) {
	if err := l.check(); err != nil {
		return nil, err
	}
	if len(b) != l.frameBytes() {
		return nil, fmt.Errorf("%w: %d bytes, want %d for a native frame", errUnrenderable,
			len(b), l.frameBytes())
	}
	slope := l.Slope
	if slope == 0 {
		slope = 1
	}
	n := l.Rows * l.Columns
	f := &sourceFrame{Rows: l.Rows, Columns: l.Columns, Values: make([]float64, n),
		Monochrome1: l.Monochrome1}
	mask := uint32(1)<<l.BitsStored - 1
	sign := uint32(1) << (l.BitsStored - 1)
	for i := range n {
		var v uint32
		if l.BitsAllocated == 8 {
			v = uint32(b[i])
		} else {
			v = uint32(b[2*i]) | uint32(b[2*i+1])<<8
		}
		v &= mask
		sv := float64(v)
		if l.Signed && v&sign != 0 {
			sv = float64(int64(v) - int64(mask) - 1)
		}
		f.Values[i] = sv*slope + l.Intercept
	}
	return f, nil
}

// minMaxWindow returns the window that spans f's values, for modalities
// without a window of their own.
func minMaxWindow(f *sourceFrame) voiWindow {
	if len(f.Values) == 0 {
		return voiWindow{Center: 0, Width: 1}
	}
	lo, hi := f.Values[0], f.Values[0]
	for _, v := range f.Values {
		lo, hi = min(lo, v), max(hi, v)
	}
	return voiWindow{Center: (lo + hi + 1) / 2, Width: max(hi-lo+1, 1)}
}

// grey applies the linear VOI LUT function of PS3.3 C.11.2.1.2.1 to v,
// giving an 8-bit grey value.
func (w voiWindow) grey(v float64) uint8 {
	width := max(w.Width, 1)
	lo := w.Center - 0.5 - (width-1)/2
	hi := w.Center - 0.5 + (width-1)/2
	switch {
	case v <= lo:
		return 0
	case v > hi:
		return 255
	case width == 1:
		return 255
	}
	y := ((v-(w.Center-0.5))/(width-1) + 0.5) * 255
	return uint8(math.Round(min(max(y, 0), 255)))
}

// outline is one segment to draw over a frame.
type outline struct {
	// Mask holds the segment's pixels on the frame, the frame's size.
	Mask *qc.Mask
	// Color is the segment's display colour.
	Color color.RGBA
}

// renderOutlines windows f with w and draws each outline's edge: the mask
// pixels that have a 4-neighbour outside the mask or the image. A frame
// with a side over maxRenderSide is reduced by the smallest whole factor
// that fits; a reduced pixel is coloured when any pixel of its block is an
// edge pixel, and takes the grey of its block's first pixel otherwise.
// Later outlines are drawn over earlier ones.
func renderOutlines(f *sourceFrame, w voiWindow, outlines []outline) (*image.RGBA, error) {
	if f.Rows <= 0 || f.Columns <= 0 || len(f.Values) != f.Rows*f.Columns {
		return nil, fmt.Errorf("%w: %d values for %d x %d pixels", errUnrenderable,
			len(f.Values), f.Rows, f.Columns)
	}
	for _, o := range outlines {
		if o.Mask.Rows != f.Rows || o.Mask.Columns != f.Columns {
			return nil, fmt.Errorf("%w: mask of %d x %d over a frame of %d x %d",
				errUnrenderable, o.Mask.Rows, o.Mask.Columns, f.Rows, f.Columns)
		}
	}
	k := 1
	for f.Rows > maxRenderSide*k || f.Columns > maxRenderSide*k {
		k++
	}
	rows, cols := (f.Rows+k-1)/k, (f.Columns+k-1)/k
	img := image.NewRGBA(image.Rect(0, 0, cols, rows))

	for y := range rows {
		for x := range cols {
			g := w.grey(f.Values[y*k*f.Columns+x*k])
			if f.Monochrome1 {
				g = 255 - g
			}
			img.SetRGBA(x, y, color.RGBA{g, g, g, 255})
		}
	}

	for _, o := range outlines {
		m := o.Mask
		for r := range f.Rows {
			for c := range f.Columns {
				if isEdge(m, r, c) {
					img.SetRGBA(c/k, r/k, o.Color)
				}
			}
		}
	}
	return img, nil
}

// isEdge reports whether pixel (r, c) of m is set and has a 4-neighbour
// that is not, counting pixels beyond the image as not set.
func isEdge(m *qc.Mask, r, c int) bool {
	// Mask.At is false beyond the mask, so edge pixels of the image count.
	return m.At(r, c) && (!m.At(r-1, c) || !m.At(r+1, c) || !m.At(r, c-1) || !m.At(r, c+1))
}

// encodePNG encodes img as PNG.
func encodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encoding PNG: %w", err)
	}
	return buf.Bytes(), nil
}

// segmentPalette colours segments without a Recommended Display CIELab
// Value, by segment number: distinct hues that stand out on grey.
var segmentPalette = []color.RGBA{
	{230, 25, 75, 255}, {60, 180, 75, 255}, {255, 225, 25, 255}, {0, 130, 200, 255},
	{245, 130, 48, 255}, {145, 30, 180, 255}, {70, 240, 240, 255}, {240, 50, 230, 255},
}

// segmentColor returns the display colour of sd: its Recommended Display
// CIELab Value (0062,000D) converted to sRGB, else a palette colour.
func segmentColor(sd qc.SegmentDescription) color.RGBA {
	if len(sd.RecommendedDisplayCIELabValue) == 3 {
		lab := sd.RecommendedDisplayCIELabValue
		return labToSRGB(lab[0], lab[1], lab[2])
	}
	i := int(sd.SegmentNumber) - 1
	if i < 0 {
		i = 0
	}
	return segmentPalette[i%len(segmentPalette)]
}

// labToSRGB converts a CIELab colour in DICOM's PCS encoding (PS3.3
// C.10.7.1.1: L* 0 to 100 as 0 to 0xFFFF, a* and b* -128 to 127 as 0 to
// 0xFFFF) to 8-bit sRGB (IEC 61966-2-1), out-of-gamut values clipped.
//
// The white point is D65 with no chromatic adaptation, as DCMTK's
// cielabutil (which dcmqi uses to write these values), OHIF and dcm4che
// convert; the standard speaks of the D50 PCS, but decoding with D50 would
// shift every colour those tools wrote. The colours thus round-trip: the
// dcmqi liver colour 41661\41167\40792 gives back Slicer's liver colour
// 221, 130, 101.
func labToSRGB(l, a, b uint16) color.RGBA {
	L := float64(l) * 100 / 0xFFFF
	A := float64(a)*255/0xFFFF - 128
	B := float64(b)*255/0xFFFF - 128

	// CIELab to XYZ (CIE 15), with the D65 white point.
	const eps, kappa = 216.0 / 24389, 24389.0 / 27
	fy := (L + 16) / 116
	fx, fz := fy+A/500, fy-B/200
	inv := func(t float64) float64 {
		if t*t*t > eps {
			return t * t * t
		}
		return (116*t - 16) / kappa
	}
	y := L / kappa
	if L > kappa*eps {
		y = fy * fy * fy
	}
	x, z := inv(fx)*0.950456, inv(fz)*1.088754

	// XYZ to linear sRGB, then the sRGB transfer function.
	r := 3.2404542*x - 1.5371385*y - 0.4985314*z
	g := -0.9692660*x + 1.8760108*y + 0.0415560*z
	bl := 0.0556434*x - 0.2040259*y + 1.0572252*z
	return color.RGBA{srgbByte(r), srgbByte(g), srgbByte(bl), 255}
}

// srgbByte applies the sRGB transfer function to a linear value and
// scales it to 0-255.
func srgbByte(v float64) uint8 {
	v = min(max(v, 0), 1)
	if v <= 0.0031308 {
		v *= 12.92
	} else {
		v = 1.055*math.Pow(v, 1/2.4) - 0.055
	}
	return uint8(math.Round(v * 255))
}
