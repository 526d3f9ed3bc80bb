package dicomweb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
)

// Defaults of [PartLimits].
const (
	// DefaultMaxHeaderBytes bounds the header block of one part: 16 KiB.
	DefaultMaxHeaderBytes = 16 << 10
	// DefaultMaxParts bounds the number of parts of one body.
	DefaultMaxParts = 100000
)

// maxBoundaryLen bounds the boundary parameter. RFC 2046 5.1.1 allows 70
// characters; a little more is accepted from lenient writers.
const maxBoundaryLen = 200

// readBufferSize is the size of the buffer a [PartReader] reads through.
const readBufferSize = 64 << 10

// MediaType is a parsed multipart/related Content-Type header (RFC 2387,
// PS3.18 8.6.1.2).
type MediaType struct {
	// Type is the media type without parameters, lowercased, for example
	// "multipart/related".
	Type string
	// Params holds every parameter; keys are lowercased, values unquoted.
	Params map[string]string
	// Boundary is the boundary parameter, unquoted, its case kept.
	Boundary string
	// RelatedType is the type parameter, unquoted and lowercased, for
	// example "application/dicom"; empty when absent.
	RelatedType string
}

// ParseMediaType parses the Content-Type header of a multipart/related body,
// quoted or unquoted parameters and any case of the type and the parameter
// names. It returns an error wrapping [ErrNoContentType] for an empty
// header, [ErrUnsupportedMediaType] for one that is not a media type,
// [ErrNotMultipart] for any type other than multipart/related and
// [ErrNoBoundary] when the boundary is missing, empty or unusable. It does
// not check the type parameter: see [ParseSTOWMediaType].
func ParseMediaType(header string) (MediaType, error) {
	if strings.TrimSpace(header) == "" {
		return MediaType{}, ErrNoContentType
	}

	typ, params, err := parseMediaType(header)
	if err != nil {
		return MediaType{}, fmt.Errorf("%w: %q: %w", ErrUnsupportedMediaType, header, err)
	}
	mt := MediaType{Type: typ, Params: params}
	if typ != "multipart/related" {
		return mt, fmt.Errorf("%w: %q", ErrNotMultipart, typ)
	}

	mt.Boundary = params["boundary"]
	if mt.Boundary == "" {
		return mt, ErrNoBoundary
	}
	if len(mt.Boundary) > maxBoundaryLen || strings.ContainsAny(mt.Boundary, "\r\n") {
		return mt, fmt.Errorf("%w: boundary of %d bytes is not usable", ErrNoBoundary,
			len(mt.Boundary))
	}

	// The type parameter is itself a media type; compare it without case
	// and without its own parameters' spacing.
	mt.RelatedType = strings.ToLower(strings.TrimSpace(params["type"]))
	return mt, nil
}

// parseMediaType splits a media type and its parameters (RFC 9110 8.3.1).
// Unlike mime.ParseMediaType it accepts an unquoted parameter value that
// holds a "/", as in type=application/dicom, which STOW-RS clients send.
// The type and the parameter names are lowercased; the first of repeated
// parameters wins.
func parseMediaType(v string) (string, map[string]string, error) {
	typ, rest, _ := strings.Cut(v, ";")
	typ = strings.ToLower(strings.TrimSpace(typ))
	major, minor, ok := strings.Cut(typ, "/")
	if !ok || !isToken(major) || !isToken(minor) {
		return "", nil, fmt.Errorf("media type %q is not type/subtype", typ)
	}

	params := make(map[string]string)
	for {
		rest = strings.TrimLeft(rest, " \t;")
		if rest == "" {
			return typ, params, nil
		}
		name, after, ok := strings.Cut(rest, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || !isToken(name) {
			return "", nil, fmt.Errorf("malformed parameter in %q", rest)
		}

		var value string
		value, rest, ok = paramValue(strings.TrimLeft(after, " \t"))
		if !ok {
			return "", nil, fmt.Errorf("unterminated quoted value of parameter %q", name)
		}
		if _, dup := params[name]; !dup {
			params[name] = value
		}
	}
}

// paramValue reads a quoted string or a bare value up to the next ";" from
// the start of s, returning the value and what follows it.
func paramValue(s string) (value, rest string, ok bool) {
	if !strings.HasPrefix(s, `"`) {
		v, r, _ := strings.Cut(s, ";")
		return strings.TrimSpace(v), r, true
	}

	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			r := strings.TrimLeft(s[i+1:], " \t")
			if r != "" && r[0] != ';' {
				return "", "", false
			}
			return b.String(), r, true
		default:
			b.WriteByte(c)
		}
	}
	return "", "", false
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}

// ParseSTOWMediaType parses the Content-Type of a STOW-RS request whose
// parts are DICOM files (PS3.18 10.5.1.2.1): multipart/related with a
// boundary and type="application/dicom". Other related types, including a
// missing one, give an error wrapping [ErrUnsupportedMediaType]; the other
// errors are those of [ParseMediaType].
func ParseSTOWMediaType(header string) (MediaType, error) {
	mt, err := ParseMediaType(header)
	if err != nil {
		return mt, err
	}

	rt, _, _ := strings.Cut(mt.RelatedType, ";")
	switch strings.TrimSpace(rt) {
	case "application/dicom":
		return mt, nil
	case "":
		return mt, fmt.Errorf("%w: multipart/related without a type parameter",
			ErrUnsupportedMediaType)
	default:
		return mt, fmt.Errorf("%w: type %q", ErrUnsupportedMediaType, mt.RelatedType)
	}
}

// PartLimits bounds what a [PartReader] accepts. A zero or negative field
// means its default.
type PartLimits struct {
	// MaxHeaderBytes bounds the header block of one part, in bytes,
	// including line ends. Default [DefaultMaxHeaderBytes] (16 KiB).
	MaxHeaderBytes int
	// MaxParts bounds the number of parts in one body. Default
	// [DefaultMaxParts] (100000).
	MaxParts int
}

func (l PartLimits) withDefaults() PartLimits {
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if l.MaxParts <= 0 {
		l.MaxParts = DefaultMaxParts
	}
	return l
}

// Part is one part of a multipart body.
type Part struct {
	// Header holds the part's header fields.
	Header textproto.MIMEHeader
	// ContentType is the part's Content-Type header value as sent, with
	// its parameters; empty when the part has none.
	ContentType string
	// Type is the media type of ContentType without parameters,
	// lowercased, for example "application/dicom", or "multipart/related"
	// for a nested multipart part; empty when absent or unparsable.
	Type string
	// Body streams the part's content. It is valid until the next call of
	// [PartReader.Next]; reading it after that gives an error.
	Body io.Reader
}

// PartReader streams the parts of a multipart body (RFC 2046 5.1, RFC 2387),
// as STOW-RS sends them (PS3.18 8.6.1.2). It keeps one buffer of 64 KiB and
// never holds a whole part. The preamble and the epilogue are ignored, as is
// transport padding after a boundary. Line ends are CRLF, or LF when the
// first boundary line ends with a bare LF.
//
// A body that ends before the closing boundary gives an error wrapping
// [ErrTruncated], from [PartReader.Next] when it ends between parts or in a
// part's header, from the part's Body when it ends inside the content.
// Errors of the underlying reader are returned wrapped, except io.EOF and
// io.ErrUnexpectedEOF, which are reported as [ErrTruncated].
type PartReader struct {
	br     *bufio.Reader
	limits PartLimits

	dashBoundary   []byte // "--boundary"
	nlDashBoundary []byte // "\r\n--boundary", or "\n--boundary" in LF mode

	parts int
	cur   *partBody
	done  bool
	err   error // sticky
}

// NewPartReader returns a reader of the parts of r, delimited by boundary
// (as given by [MediaType.Boundary]).
func NewPartReader(r io.Reader, boundary string, limits PartLimits) *PartReader {
	return &PartReader{
		br:             bufio.NewReaderSize(r, readBufferSize),
		limits:         limits.withDefaults(),
		dashBoundary:   []byte("--" + boundary),
		nlDashBoundary: []byte("\r\n--" + boundary),
	}
}

// Next returns the next part, or io.EOF after the closing boundary. The
// previous part's body, if not read to its end, is skipped. Once Next has
// returned an error other than io.EOF, it returns the same error again.
func (pr *PartReader) Next() (*Part, error) {
	if pr.err != nil {
		return nil, pr.err
	}
	if pr.done {
		return nil, io.EOF
	}

	p, err := pr.next()
	if err == io.EOF {
		pr.done = true
		return nil, io.EOF
	}
	if err != nil {
		pr.err = err
		return nil, err
	}
	return p, nil
}

func (pr *PartReader) next() (*Part, error) {
	if len(pr.dashBoundary) == 2 {
		return nil, ErrNoBoundary
	}

	if pr.cur == nil {
		if err := pr.skipPreamble(); err != nil {
			return nil, err
		}
	} else {
		if err := pr.finishPart(); err != nil {
			return nil, err
		}
	}

	if pr.parts >= pr.limits.MaxParts {
		return nil, fmt.Errorf("%w: more than %d", ErrTooManyParts, pr.limits.MaxParts)
	}
	pr.parts++

	h, err := pr.readHeader()
	if err != nil {
		return nil, err
	}

	pr.cur = &partBody{pr: pr, atStart: true}
	p := &Part{Header: h, ContentType: h.Get("Content-Type"), Body: pr.cur}
	if p.ContentType != "" {
		if typ, _, err := parseMediaType(p.ContentType); err == nil {
			p.Type = typ
		}
	}
	return p, nil
}

// skipPreamble reads up to and including the first delimiter line. The line
// end of that line sets the line mode of the whole body.
func (pr *PartReader) skipPreamble() error {
	midLine := false
	for {
		line, err := pr.readLine()
		if !midLine && bytes.HasPrefix(line, pr.dashBoundary) {
			rest := line[len(pr.dashBoundary):]
			if bytes.HasPrefix(rest, []byte("--")) {
				// An empty multipart: the closing delimiter only.
				return io.EOF
			}
			if pad := trimLWSP(rest); isLineEnd(pad) {
				if string(pad) == "\n" {
					pr.nlDashBoundary = pr.nlDashBoundary[1:]
				}
				return nil
			}
		}
		midLine = errors.Is(err, bufio.ErrBufferFull)
		if err != nil && !midLine {
			return pr.truncated(err, "before the first boundary line is complete")
		}
	}
}

// finishPart drains the current part and reads the rest of its delimiter
// line: "--" for the closing delimiter, else padding and a line end.
func (pr *PartReader) finishPart() error {
	if _, err := io.Copy(io.Discard, pr.cur); err != nil {
		return err
	}
	pr.cur.closed = true

	line, err := pr.readLine()
	switch {
	case bytes.HasPrefix(line, []byte("--")):
		return io.EOF
	case isLineEnd(trimLWSP(line)):
		return nil
	case err != nil && !errors.Is(err, bufio.ErrBufferFull):
		return pr.truncated(err, fmt.Sprintf("after part %d", pr.parts))
	}
	return fmt.Errorf("%w: boundary after part %d followed by %q",
		ErrMalformedMultipart, pr.parts, clip(line))
}

// readHeader reads a part's header block, up to and including the empty
// line that ends it.
func (pr *PartReader) readHeader() (textproto.MIMEHeader, error) {
	var block []byte
	for {
		line, err := pr.readLine()
		if errors.Is(err, bufio.ErrBufferFull) || len(block)+len(line) > pr.limits.MaxHeaderBytes {
			return nil, fmt.Errorf("%w: part %d header over %d bytes", ErrHeaderTooLarge,
				pr.parts, pr.limits.MaxHeaderBytes)
		}
		if err != nil {
			return nil, pr.truncated(err, fmt.Sprintf("in the header of part %d", pr.parts))
		}
		if isLineEnd(line) {
			break
		}

		// A header line is "name: value" or a continuation starting with
		// white space; anything else means the part has no header block.
		if line[0] != ' ' && line[0] != '\t' && bytes.IndexByte(line, ':') <= 0 {
			return nil, fmt.Errorf("%w: part %d header line %q has no colon",
				ErrMalformedMultipart, pr.parts, clip(line))
		}
		block = append(block, line...)
	}

	block = append(block, "\r\n"...)
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(block))).ReadMIMEHeader()
	if err != nil {
		return nil, fmt.Errorf("%w: part %d header: %w", ErrMalformedMultipart, pr.parts, err)
	}
	return h, nil
}

// readLine reads one line including its end. At the end of the input it
// returns what was read with the error; a line longer than the buffer comes
// back in pieces with bufio.ErrBufferFull.
func (pr *PartReader) readLine() ([]byte, error) {
	line, err := pr.br.ReadSlice('\n')
	if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
		return line, pr.sourceError(err)
	}
	return line, err
}

// sourceError classifies an error of the underlying reader: the end of
// input is marked with io.ErrUnexpectedEOF (turned into [ErrTruncated] by
// the caller); other errors pass, wrapped.
func (pr *PartReader) sourceError(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.ErrUnexpectedEOF
	}
	return fmt.Errorf("reading multipart body: %w", err)
}

// truncated turns the end of input into [ErrTruncated] and passes other
// errors.
func (pr *PartReader) truncated(err error, where string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: body ends %s", ErrTruncated, where)
	}
	return err
}

// partBody is the Body of the current part. It hands out bytes known not to
// belong to the next delimiter.
type partBody struct {
	pr       *PartReader
	safe     int  // buffered bytes that are content
	atEnd    bool // the delimiter follows the safe bytes
	delimLen int  // length of that delimiter
	atStart  bool // nothing of the content was read yet
	eof      bool // the delimiter was consumed
	closed   bool // Next moved on
	err      error
}

// errPartClosed is returned by the Body of a part after Next moved on.
var errPartClosed = errors.New("multipart part read after the next part was requested")

// Read implements io.Reader.
func (b *partBody) Read(p []byte) (int, error) {
	if b.closed {
		return 0, errPartClosed
	}
	if b.err != nil {
		return 0, b.err
	}
	if b.eof {
		return 0, io.EOF
	}

	for b.safe == 0 && !b.atEnd {
		if err := b.scan(); err != nil {
			b.err = err
			b.pr.err = err
			return 0, err
		}
	}

	if b.safe == 0 {
		// Consume the delimiter; Next reads the rest of its line.
		b.eof = true
		_, _ = b.pr.br.Discard(b.delimLen)
		return 0, io.EOF
	}

	n, _ := b.pr.br.Read(p[:min(len(p), b.safe)])
	b.safe -= n
	if n > 0 {
		b.atStart = false
	}
	return n, nil
}

// scan looks for the delimiter in the buffered input and sets safe, atEnd
// and delimLen, reading more input while the buffer cannot decide.
func (b *partBody) scan() error {
	br := b.pr.br
	buf, _ := br.Peek(br.Buffered())
	eof := false
	for {
		if len(buf) > 0 || eof {
			if b.scanBuf(buf, eof) {
				return nil
			}
		}

		// Too little is buffered to tell content from delimiter.
		more, err := br.Peek(len(buf) + 1)
		if err != nil {
			err = b.pr.sourceError(err)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				return err
			}
			if eof || len(more) == 0 {
				where := fmt.Sprintf("in the content of part %d", b.pr.parts)
				return b.pr.truncated(err, where)
			}
			eof = true
		}
		buf = more
	}
}

// scanBuf decides what of buf is content. It returns false when it needs
// more input; with eof set it always decides.
func (b *partBody) scanBuf(buf []byte, eof bool) bool {
	dash, nlDash := b.pr.dashBoundary, b.pr.nlDashBoundary

	// Lenient like mime/multipart: an empty content may start with the
	// delimiter without its line end.
	if b.atStart {
		if bytes.HasPrefix(buf, dash) {
			switch matchAfter(buf, len(dash), eof) {
			case +1:
				b.safe, b.atEnd, b.delimLen = 0, true, len(dash)
				return true
			case 0:
				return false
			}
		} else if bytes.HasPrefix(dash, buf) && !eof {
			return false
		}
	}

	if i := bytes.Index(buf, nlDash); i >= 0 {
		switch matchAfter(buf[i:], len(nlDash), eof) {
		case +1:
			b.safe, b.atEnd, b.delimLen = i, true, len(nlDash)
			return true
		case 0:
			if i == 0 {
				return false
			}
			b.safe = i
			return true
		default:
			// The boundary string followed by other text is content.
			b.safe = i + 1
			return true
		}
	}

	// Hold back a tail that may be the start of a delimiter.
	if i := bytes.LastIndexByte(buf, nlDash[0]); i >= 0 && bytes.HasPrefix(nlDash, buf[i:]) {
		if i > 0 {
			b.safe = i
			return true
		}
		if !eof {
			return false
		}
	}
	b.safe = len(buf)
	return true
}

// matchAfter tells what follows a boundary string that starts buf and is
// plen long: +1 a delimiter (padding, a line end, "--" or the end of input),
// -1 other text, 0 not known yet.
func matchAfter(buf []byte, plen int, eof bool) int {
	if len(buf) == plen {
		if eof {
			return +1
		}
		return 0
	}
	switch c := buf[plen]; c {
	case ' ', '\t', '\r', '\n':
		return +1
	case '-':
		if len(buf) == plen+1 {
			if eof {
				return -1
			}
			return 0
		}
		if buf[plen+1] == '-' {
			return +1
		}
	}
	return -1
}

func trimLWSP(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

func isLineEnd(b []byte) bool { return string(b) == "\r\n" || string(b) == "\n" }

// clip shortens text quoted in an error message.
func clip(b []byte) []byte {
	const n = 40
	if len(b) > n {
		return b[:n]
	}
	return b
}

// StowWriter writes the body of a STOW-RS request (PS3.18 10.5.1.2.1): a
// multipart/related body of application/dicom parts.
type StowWriter struct {
	mw *multipart.Writer
}

// NewStowWriter returns a writer of a STOW-RS body into w, with a random
// boundary.
func NewStowWriter(w io.Writer) *StowWriter {
	return &StowWriter{mw: multipart.NewWriter(w)}
}

// Boundary returns the boundary of the body.
func (sw *StowWriter) Boundary() string { return sw.mw.Boundary() }

// ContentType returns the Content-Type header of the body:
// multipart/related; type="application/dicom"; boundary=....
func (sw *StowWriter) ContentType() string {
	return `multipart/related; type="application/dicom"; boundary=` + sw.mw.Boundary()
}

// CreatePart starts a new part with Content-Type application/dicom and
// returns the writer of its content, valid until the next part or Close.
func (sw *StowWriter) CreatePart() (io.Writer, error) {
	return sw.CreatePartType("application/dicom")
}

// CreatePartType starts a new part with the given Content-Type, for example
// one keeping a transfer-syntax parameter (PS3.18 8.7.3.5.2).
func (sw *StowWriter) CreatePartType(contentType string) (io.Writer, error) {
	h := textproto.MIMEHeader{"Content-Type": {contentType}}
	w, err := sw.mw.CreatePart(h)
	if err != nil {
		return nil, fmt.Errorf("starting STOW-RS part: %w", err)
	}
	return w, nil
}

// Close writes the closing delimiter. It does not close the underlying
// writer.
func (sw *StowWriter) Close() error {
	if err := sw.mw.Close(); err != nil {
		return fmt.Errorf("closing STOW-RS body: %w", err)
	}
	return nil
}
