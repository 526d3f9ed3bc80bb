package qc

import (
	"encoding/binary"
	"fmt"
)

// rleMaxExpansion is the most a PackBits run can expand: 2 bytes give 128.
const rleMaxExpansion = 64

// decodeRLE decodes one RLE Lossless frame (PS3.5 Annex G) into *buf as the
// frame is stored natively, byte aligned: 1-bit frames as packed bits (one
// segment of ceil(Rows x Columns / 8) bytes), 8-bit frames as one byte per
// pixel, 16-bit frames little endian from their two byte segments, most
// significant first (PS3.5 G.2).
func decodeRLE(src []byte, l frameLayout, buf *[]byte) error {
	if len(src) < 64 {
		return fmt.Errorf("%w: RLE frame of %d bytes is shorter than its 64-byte header",
			ErrPixelData, len(src))
	}
	want := l.frameBytes()
	if want > rleMaxExpansion*len(src) {
		return fmt.Errorf("%w: RLE frame of %d bytes cannot expand to the %d bytes of a frame",
			ErrPixelData, len(src), want)
	}
	segments := 1
	if l.bits == 16 {
		segments = 2
	}
	if n := int(binary.LittleEndian.Uint32(src)); n != segments {
		return fmt.Errorf("%w: RLE header must list %d segments for %d-bit data: found %d",
			ErrPixelData, segments, l.bits, n)
	}
	dst := growBuffer(buf, want)
	for k := range segments {
		start := int64(binary.LittleEndian.Uint32(src[4+4*k:]))
		end := int64(len(src))
		if k+1 < segments {
			end = int64(binary.LittleEndian.Uint32(src[8+4*k:]))
		}
		if start < 64 || start > end || end > int64(len(src)) {
			return fmt.Errorf("%w: RLE segment %d has offsets %d to %d in a %d-byte frame",
				ErrPixelData, k+1, start, end, len(src))
		}
		// Segment k of 16-bit data holds byte k from the most significant,
		// which lands at byte 1-k of each little endian sample.
		first, stride := 0, 1
		if segments == 2 {
			first, stride = 1-k, 2
		}
		if err := unpackBitsRuns(src[start:end], dst, first, stride); err != nil {
			return fmt.Errorf("%w: RLE segment %d: %w", ErrPixelData, k+1, err)
		}
	}
	return nil
}

// unpackBitsRuns decodes a PackBits byte segment (PS3.5 G.3.2) into dst at
// first, first+stride, ... until those places are full. Output beyond them
// (an encoder's padding) is ignored; running out of input is an error.
func unpackBitsRuns(src, dst []byte, first, stride int) error {
	p, o := 0, first
	for o < len(dst) {
		if p >= len(src) {
			return fmt.Errorf("segment ends after %d of %d bytes", (o-first)/stride,
				(len(dst)-first+stride-1)/stride)
		}
		n := int(int8(src[p]))
		p++
		switch {
		case n >= 0:
			// Copy the next n+1 bytes literally.
			if len(src)-p < n+1 {
				return fmt.Errorf("literal run of %d bytes has only %d left", n+1, len(src)-p)
			}
			for _, b := range src[p : p+n+1] {
				if o >= len(dst) {
					break
				}
				dst[o] = b
				o += stride
			}
			p += n + 1
		case n != -128:
			// Repeat the next byte 1-n times.
			if p >= len(src) {
				return fmt.Errorf("replicate run has no byte to repeat")
			}
			b := src[p]
			p++
			for range 1 - n {
				if o >= len(dst) {
					break
				}
				dst[o] = b
				o += stride
			}
		}
	}
	return nil
}
