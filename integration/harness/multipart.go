package harness

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"testing"
)

// MediaTypeDICOM is the media type of one DICOM file (PS3.18 8.7.3.1).
const MediaTypeDICOM = "application/dicom"

// Part is one part of a multipart/related body.
type Part struct {
	// ContentType is the part's Content-Type header; empty sends none.
	ContentType string
	// Data is the part's content.
	Data []byte
}

// Body is a request body with its media type.
type Body struct {
	// ContentType is the Content-Type header; empty sends none.
	ContentType string
	// Data is the body.
	Data []byte
}

// FilePart reads a DICOM file (PS3.10) into an application/dicom part.
func FilePart(t testing.TB, path string) Part {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading test file: %v", err)
	}
	return Part{ContentType: MediaTypeDICOM, Data: data}
}

// FileParts reads several files with [FilePart].
func FileParts(t testing.TB, paths ...string) []Part {
	t.Helper()
	parts := make([]Part, 0, len(paths))
	for _, p := range paths {
		parts = append(parts, FilePart(t, p))
	}
	return parts
}

// Multipart builds a STOW-RS request body (PS3.18 10.5.1.2):
// multipart/related with type="application/dicom" and a random boundary.
func Multipart(parts ...Part) Body {
	boundary := "qcgate-" + randomHex(12)
	var b bytes.Buffer
	for _, p := range parts {
		writePartHeader(&b, boundary, p.ContentType)
		b.Write(p.Data)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return Body{ContentType: StowContentType(boundary), Data: b.Bytes()}
}

// StowContentType is the Content-Type of a STOW-RS body of DICOM files
// with that boundary.
func StowContentType(boundary string) string {
	return fmt.Sprintf(`multipart/related; type="%s"; boundary=%s`, MediaTypeDICOM, boundary)
}

// writePartHeader writes a part's delimiter line and header block.
func writePartHeader(w io.Writer, boundary, contentType string) {
	fmt.Fprintf(w, "--%s\r\n", boundary)
	if contentType != "" {
		fmt.Fprintf(w, "Content-Type: %s\r\n", contentType)
	}
	fmt.Fprint(w, "\r\n")
}

// StreamBody is a multipart/related STOW-RS body generated while it is
// read, for bodies too large to hold in memory. Every part must have the
// same length, so the body's size is known in advance.
type StreamBody struct {
	// ContentType is the body's media type with its boundary.
	ContentType string
	// Size is the body's length in bytes.
	Size int64

	boundary string
	count    int
	next     func(i int) []byte
	i        int
	cur      *bytes.Reader
	closed   bool
}

// NewStreamBody returns a body of count parts, part i being next(i), each
// partSize bytes long.
func NewStreamBody(count, partSize int, next func(i int) []byte) *StreamBody {
	s := &StreamBody{boundary: "qcgate-" + randomHex(12), count: count, next: next}
	s.ContentType = StowContentType(s.boundary)
	var head bytes.Buffer
	writePartHeader(&head, s.boundary, MediaTypeDICOM)
	perPart := int64(head.Len() + partSize + len("\r\n"))
	s.Size = int64(count)*perPart + int64(len("--"+s.boundary+"--\r\n"))
	return s
}

// Read implements io.Reader.
func (s *StreamBody) Read(p []byte) (int, error) {
	for s.cur == nil || s.cur.Len() == 0 {
		if s.closed {
			return 0, io.EOF
		}
		var b bytes.Buffer
		if s.i < s.count {
			writePartHeader(&b, s.boundary, MediaTypeDICOM)
			b.Write(s.next(s.i))
			b.WriteString("\r\n")
			s.i++
		} else {
			fmt.Fprintf(&b, "--%s--\r\n", s.boundary)
			s.closed = true
		}
		s.cur = bytes.NewReader(b.Bytes())
	}
	return s.cur.Read(p)
}
