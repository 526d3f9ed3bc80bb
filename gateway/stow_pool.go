package gateway

import (
	"bufio"
	"bytes"
	"io"
	"sync"
)

// Buffers reused across STOW-RS requests. A small STOW-RS would otherwise
// allocate several times its own size in buffers, and the garbage
// collector's work became a large part of the gateway's cost per request.
// Each buffer is taken and given back by one request, never kept past it,
// and reset before it is given back so that it holds no reader of a
// finished request.

// Sizes of the pooled buffers, in bytes.
const (
	// bodyBufferSize is the buffer the multipart reader reads a request
	// body through. It is at least the size [dicomweb.NewPartReader]
	// wants, so that the reader uses it as it is instead of wrapping it
	// in a buffer of its own.
	bodyBufferSize = 64 << 10
	// copyBufferSize is the buffer a forwarded part is copied through.
	copyBufferSize = 32 << 10
	// headerBufferSize is the read-ahead of the DICOM header scan.
	headerBufferSize = 4 << 10
	// maxPooledHeader bounds the recorded headers kept for reuse: a header
	// that grew larger is left to the garbage collector.
	maxPooledHeader = 256 << 10
)

var (
	bodyReaders = sync.Pool{New: func() any {
		return bufio.NewReaderSize(nil, bodyBufferSize)
	}}
	headerReaders = sync.Pool{New: func() any {
		return bufio.NewReaderSize(nil, headerBufferSize)
	}}
	copyBuffers = sync.Pool{New: func() any {
		b := make([]byte, copyBufferSize)
		return &b
	}}
	headerBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}
)

// bodyReader returns a pooled buffered reader of r; give it back with
// [putBodyReader] once nothing reads from it.
func bodyReader(r io.Reader) *bufio.Reader {
	br := bodyReaders.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putBodyReader gives br back to the pool.
func putBodyReader(br *bufio.Reader) {
	br.Reset(nil)
	bodyReaders.Put(br)
}

// headerReader returns a pooled buffered reader of r for the header scan;
// give it back with [putHeaderReader].
func headerReader(r io.Reader) *bufio.Reader {
	br := headerReaders.Get().(*bufio.Reader)
	br.Reset(r)
	return br
}

// putHeaderReader gives br back to the pool.
func putHeaderReader(br *bufio.Reader) {
	br.Reset(nil)
	headerReaders.Put(br)
}

// headerBuffer returns an empty pooled buffer for the bytes of a part's
// header; give it back with [putHeaderBuffer] once its bytes are no
// longer referenced.
func headerBuffer() *bytes.Buffer {
	return headerBuffers.Get().(*bytes.Buffer)
}

// putHeaderBuffer empties b and gives it back to the pool.
func putHeaderBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledHeader {
		return
	}
	b.Reset()
	headerBuffers.Put(b)
}

// copyPooled copies src to dst, as [io.Copy] does, through a pooled buffer.
func copyPooled(dst io.Writer, src io.Reader) (int64, error) {
	buf := copyBuffers.Get().(*[]byte)
	defer copyBuffers.Put(buf)
	return io.CopyBuffer(dst, src, *buf)
}
