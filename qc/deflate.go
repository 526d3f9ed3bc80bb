package qc

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"sync"
)

// deflateMaxExpansion bounds what DEFLATE can expand to: at most 258 bytes
// per 2 bits of a run (RFC 1951), so a little over 1032 to 1.
const deflateMaxExpansion = 1040

// inflaters keeps DEFLATE decompressors, whose window is costly to allocate
// for every frame.
var inflaters = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

// inflateFrame decodes a frame of Deflated Image Frame Compression (PS3.5
// A.4.13): one raw DEFLATE stream (RFC 1951) per frame whose output is the
// frame as stored natively, byte aligned. It writes want bytes into *buf.
func inflateFrame(src []byte, want int, buf *[]byte) error {
	if int64(want) > deflateMaxExpansion*int64(len(src))+64 {
		return fmt.Errorf("%w: DEFLATE stream of %d bytes cannot expand to the %d bytes of a "+
			"frame", ErrPixelData, len(src), want)
	}
	r := inflaters.Get().(io.ReadCloser)
	defer inflaters.Put(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(src), nil); err != nil {
		return fmt.Errorf("%w: resetting DEFLATE reader: %w", ErrPixelData, err)
	}
	dst := growBuffer(buf, want)
	if n, err := io.ReadFull(r, dst); err != nil {
		return fmt.Errorf("%w: DEFLATE stream gives %d of the %d bytes of a frame: %w",
			ErrPixelData, n, want, err)
	}
	return nil
}
