package gateway

import (
	"bytes"
	"io"
)

// replacement is one prefix to replace in a streamed answer.
type replacement struct {
	old, new []byte
}

// replaceReader replaces every occurrence of the old strings of its
// replacements in a stream, without holding more than one read and the
// longest old string in memory.
type replaceReader struct {
	src   io.ReadCloser
	pairs []replacement
	// keep is how many bytes at the end of pending may be the start of a
	// match and wait for the next read: the longest old string minus one.
	keep    int
	pending []byte
	out     []byte
	buf     []byte
	err     error
}

// newReplaceReader returns a reader of src with pairs applied.
func newReplaceReader(src io.ReadCloser, pairs []replacement) *replaceReader {
	keep := 0
	for _, p := range pairs {
		keep = max(keep, len(p.old)-1)
	}
	return &replaceReader{src: src, pairs: pairs, keep: keep, buf: make([]byte, 32<<10)}
}

// Read implements io.Reader.
func (rr *replaceReader) Read(p []byte) (int, error) {
	for len(rr.out) == 0 {
		if rr.err != nil {
			return 0, rr.err
		}
		n, err := rr.src.Read(rr.buf)
		rr.pending = append(rr.pending, rr.buf[:n]...)
		if err != nil {
			rr.err = err
		}
		safe := len(rr.pending) - rr.keep
		if rr.err != nil {
			safe = len(rr.pending)
		}
		rr.process(safe)
	}
	n := copy(p, rr.out)
	rr.out = rr.out[n:]
	return n, nil
}

// process moves the bytes of pending before safe to out, replacing
// matches that start before safe. A match starting before safe ends within
// pending, since safe leaves room for the longest old string.
func (rr *replaceReader) process(safe int) {
	rr.out = rr.out[:0]
	i := 0
	for i < safe {
		at, which := -1, -1
		for k, p := range rr.pairs {
			if j := bytes.Index(rr.pending[i:], p.old); j >= 0 && (at < 0 || j < at) {
				at, which = j, k
			}
		}
		if at < 0 || i+at >= safe {
			rr.out = append(rr.out, rr.pending[i:safe]...)
			i = safe
			break
		}
		rr.out = append(rr.out, rr.pending[i:i+at]...)
		rr.out = append(rr.out, rr.pairs[which].new...)
		i += at + len(rr.pairs[which].old)
	}
	rr.pending = append(rr.pending[:0], rr.pending[i:]...)
}

// Close implements io.Closer.
func (rr *replaceReader) Close() error { return rr.src.Close() }
