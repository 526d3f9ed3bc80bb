package dicomweb

import (
	"io"
	"net/textproto"
)

// MediaType is a parsed multipart/related Content-Type header (RFC 2387,
// PS3.18 8.6.1.2).
type MediaType struct {
	// Type is the media type without parameters, lowercased, for example
	// "multipart/related".
	Type string
	// Params holds every parameter; keys are lowercased, values unquoted.
	Params map[string]string
	// Boundary is the boundary parameter, unquoted, case kept.
	Boundary string
	// RelatedType is the type parameter, unquoted and lowercased, for
	// example "application/dicom"; empty when absent.
	RelatedType string
}

// ParseMediaType parses a multipart/related Content-Type header value.
func ParseMediaType(header string) (MediaType, error) {
	return MediaType{}, ErrNoContentType
}

// PartLimits bounds what a [PartReader] accepts. A zero field means its
// default.
type PartLimits struct {
	// MaxHeaderBytes bounds the header block of one part, in bytes.
	// Default 16 KiB.
	MaxHeaderBytes int
	// MaxParts bounds the number of parts in one body. Default 100000.
	MaxParts int
}

// Part is one part of a multipart body.
type Part struct {
	// Header holds the part's header fields.
	Header textproto.MIMEHeader
	// ContentType is the part's Content-Type header value as sent, with
	// its parameters; empty when the part has none.
	ContentType string
	// Type is the media type of ContentType without parameters,
	// lowercased, for example "application/dicom" or "multipart/related";
	// empty when absent or unparsable.
	Type string
	// Body streams the part's content. It is valid until the next call of
	// [PartReader.Next].
	Body io.Reader
}

// PartReader streams the parts of a multipart body.
type PartReader struct {
	r        io.Reader
	boundary string
	limits   PartLimits
}

// NewPartReader returns a reader of the parts of r, delimited by boundary.
func NewPartReader(r io.Reader, boundary string, limits PartLimits) *PartReader {
	return &PartReader{r: r, boundary: boundary, limits: limits}
}

// Next returns the next part, or io.EOF after the closing boundary.
func (pr *PartReader) Next() (*Part, error) {
	return nil, io.EOF
}

// StowWriter writes the body of a STOW-RS request.
type StowWriter struct {
	w io.Writer
}

// NewStowWriter returns a writer of a STOW-RS body into w.
func NewStowWriter(w io.Writer) *StowWriter { return &StowWriter{w: w} }

// ContentType returns the Content-Type header of the body.
func (sw *StowWriter) ContentType() string { return "" }

// CreatePart starts a new application/dicom part.
func (sw *StowWriter) CreatePart() (io.Writer, error) { return sw.w, nil }

// Close writes the closing boundary.
func (sw *StowWriter) Close() error { return nil }
