package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/qcgate/qcgate/dicomweb"
)

// Errors that say why no part was found in a STOW-RS body.
var (
	// errEmptyBody: the body has no byte at all.
	errEmptyBody = errors.New("empty request body")
	// errBoundaryNotFound: the body never holds a delimiter line of the
	// boundary its Content-Type names.
	errBoundaryNotFound = errors.New("boundary not found in the body")
	// errFirstPartCut: the body ends inside the header of its first part.
	errFirstPartCut = errors.New("body ends inside the first part's header")
)

// probeHead is how much of the start of a body [bodyProbe] searches for
// the boundary: far more than the preamble of any STOW-RS client.
const probeHead = 64 << 10

// bodyProbe counts the bytes of a STOW-RS body and watches its first
// probeHead bytes for a delimiter of the boundary, to tell what is wrong
// with a body in which no part was found. It keeps no copy of the body:
// only the last bytes of the head, in case a delimiter spans two reads.
type bodyProbe struct {
	r io.Reader
	n int64
	// delim is "--" and the boundary; found reports whether the head
	// holds it.
	delim []byte
	found bool
	// tail is the end of the head read so far, shorter than delim.
	tail []byte
}

// newBodyProbe returns a probe of r for the delimiter of boundary.
func newBodyProbe(r io.Reader, boundary string) *bodyProbe {
	return &bodyProbe{r: r, delim: []byte("--" + boundary)}
}

func (b *bodyProbe) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if !b.found && b.n < probeHead {
		b.search(p[:min(int64(n), probeHead-b.n)])
	}
	b.n += int64(n)
	return n, err
}

// search looks for the delimiter in the next bytes of the head, including
// one that begins in the tail of the bytes before them.
func (b *bodyProbe) search(next []byte) {
	keep := len(b.delim) - 1
	if len(b.tail) > 0 {
		joined := append(b.tail, next[:min(len(next), keep)]...)
		if bytes.Contains(joined, b.delim) {
			b.found = true
			return
		}
	}
	if bytes.Contains(next, b.delim) {
		b.found = true
		return
	}
	if len(next) >= keep {
		b.tail = append(b.tail[:0], next[len(next)-keep:]...)
		return
	}
	b.tail = append(b.tail, next...)
	b.tail = b.tail[max(0, len(b.tail)-keep):]
}

// explain returns err, the end of reading a body after parts parts,
// wrapped in what is wrong when it ended before any part was found: an
// empty body, a boundary the body does not hold, or a first part cut in
// its header.
func (b *bodyProbe) explain(err error, parts int) error {
	if parts > 0 || !errors.Is(err, dicomweb.ErrTruncated) {
		return err
	}
	switch {
	case b.n == 0:
		return fmt.Errorf("%w: %w", errEmptyBody, err)
	case !b.found:
		return fmt.Errorf("%w: %w", errBoundaryNotFound, err)
	}
	return fmt.Errorf("%w: %w", errFirstPartCut, err)
}

// limitReader reads at most limit bytes of r; past them it returns an
// [*http.MaxBytesError], as [http.MaxBytesReader] does for the bytes sent.
type limitReader struct {
	r     io.Reader
	left  int64
	limit int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	// One byte more than is left tells a body at the limit from one past it.
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) <= l.left {
		l.left -= int64(n)
		return n, err
	}
	n, l.left = int(l.left), 0
	return n, &http.MaxBytesError{Limit: l.limit}
}
