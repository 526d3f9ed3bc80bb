package gateway

import (
	"bufio"
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Transfer syntaxes whose data set encoding differs from explicit VR
// little endian (PS3.5 A.1 to A.5).
const (
	tsImplicitLittle = "1.2.840.10008.1.2"
	tsExplicitBig    = "1.2.840.10008.1.2.2"
	tsDeflated       = "1.2.840.10008.1.2.1.99"
)

// Header scan limits.
const (
	// maxHeaderScan bounds the bytes of a part read to find its UIDs and
	// where Pixel Data starts. The elements before (0020,000E) are small in
	// real data; the largest are the reference sequences of group 0008 in a
	// SEG, a few hundred bytes per source image. The rest of an image
	// header is a few KiB, or a few MiB for an enhanced multi-frame image.
	maxHeaderScan = 8 << 20
	// maxMetaElement bounds one element of the file meta information.
	maxMetaElement = 64 << 10
	// maxNesting bounds sequence nesting while skipping.
	maxNesting = 32
)

// errNotDICOM is the cause of a part that is not a DICOM Part 10 stream.
var errNotDICOM = errors.New("not DICOM")

// partHeader is what the gateway reads from the start of a STOW-RS part:
// the file meta information (PS3.10 7.1) and the data set up to Pixel
// Data.
type partHeader struct {
	TransferSyntaxUID string
	// MetaSOPClassUID and MetaSOPInstanceUID are Media Storage SOP Class
	// and Instance UID (0002,0002) and (0002,0003).
	MetaSOPClassUID    string
	MetaSOPInstanceUID string
	// SOPClassUID and the others are from the data set; empty when absent.
	SOPClassUID       string
	SOPInstanceUID    string
	StudyInstanceUID  string
	SeriesInstanceUID string
	// PixelDataOffset is where the Pixel Data element (7FE0,0010) starts
	// in the part: the bytes before it hold the whole geometry of an
	// image. 0 when not known: no Pixel Data, a header beyond the scan
	// limit or unreadable after the UIDs, or a deflated data set.
	PixelDataOffset int64
	// PixelDataEnd is where the value of Pixel Data ends in the part, from
	// its declared length: the size of a part with nothing after Pixel
	// Data. 0 when not known: PixelDataOffset unknown, or an undefined
	// length (encapsulated Pixel Data, PS3.5 A.4).
	PixelDataEnd int64
}

// isSegmentation reports whether either SOP Class UID names a SEG, so a SEG
// whose file meta says otherwise is still checked.
func (h *partHeader) isSegmentation(isSEG func(string) bool) bool {
	return isSEG(h.SOPClassUID) || isSEG(h.MetaSOPClassUID)
}

// sopClass returns the data set's SOP Class UID, else the file meta's.
func (h *partHeader) sopClass() string {
	if h.SOPClassUID != "" {
		return h.SOPClassUID
	}
	return h.MetaSOPClassUID
}

// sopInstance returns the data set's SOP Instance UID, else the file
// meta's.
func (h *partHeader) sopInstance() string {
	if h.SOPInstanceUID != "" {
		return h.SOPInstanceUID
	}
	return h.MetaSOPInstanceUID
}

// headerError is a part that could not be read as DICOM, with whatever
// was read before the problem.
type headerError struct {
	header partHeader
	err    error
}

func (e *headerError) Error() string { return e.err.Error() }
func (e *headerError) Unwrap() error { return e.err }

// readPartHeader reads the header of a part from r and returns it with
// every byte it consumed from r, to be sent on before the rest of r. A
// part that is not DICOM gives a *headerError wrapping errNotDICOM;
// a read error of r itself (the request body) is returned as it is.
func readPartHeader(r io.Reader) (*partHeader, []byte, error) {
	return readPartHeaderTo(r, new(bytes.Buffer))
}

// readPartHeaderTo is [readPartHeader] recording the bytes it consumes
// into buf, an empty buffer; the bytes returned are buf's.
func readPartHeaderTo(r io.Reader, buf *bytes.Buffer) (*partHeader, []byte, error) {
	rec := &recorder{r: r, buf: buf, limit: maxHeaderScan}
	h := &partHeader{}
	err := scanHeader(rec, h)
	if err != nil && rec.srcErr != nil {
		// The request body failed, not the DICOM in it.
		return nil, rec.buf.Bytes(), rec.srcErr
	}
	if err != nil {
		return nil, rec.buf.Bytes(), &headerError{header: *h,
			err: fmt.Errorf("%w: %w", errNotDICOM, err)}
	}
	return h, rec.buf.Bytes(), nil
}

// recorder keeps every byte read through it, up to limit.
type recorder struct {
	r      io.Reader
	buf    *bytes.Buffer
	limit  int
	srcErr error
}

// errScanLimit means a header runs past maxHeaderScan.
var errScanLimit = errors.New("header larger than the scan limit")

func (rc *recorder) Read(p []byte) (int, error) {
	if rc.buf.Len() >= rc.limit {
		return 0, errScanLimit
	}
	p = p[:min(len(p), rc.limit-rc.buf.Len())]
	n, err := rc.r.Read(p)
	rc.buf.Write(p[:n])
	if err != nil && err != io.EOF {
		rc.srcErr = err
	}
	return n, err
}

// scanHeader reads the preamble, the file meta information and the start
// of the data set into h.
func scanHeader(rec *recorder, h *partHeader) error {
	// PS3.10 7.1: a 128-byte preamble, then "DICM".
	var pre [132]byte
	if _, err := io.ReadFull(rec, pre[:]); err != nil {
		return fmt.Errorf("shorter than the 132-byte preamble and prefix: %w", eofAsShort(err))
	}
	if string(pre[128:]) != "DICM" {
		return errors.New(`no "DICM" prefix after the 128-byte preamble`)
	}

	hr := headerReader(rec)
	defer putHeaderReader(hr)
	br := &countingReader{r: hr, n: 132}
	if err := readFileMeta(br, h); err != nil {
		return err
	}

	// The data set, in its transfer syntax; a deflated one is a raw DEFLATE
	// stream of explicit VR little endian (PS3.5 A.5).
	ds := &elementReader{r: br, order: binary.LittleEndian, explicit: true}
	switch h.TransferSyntaxUID {
	case tsImplicitLittle:
		ds.explicit = false
	case tsExplicitBig:
		ds.order = binary.BigEndian
	case tsDeflated:
		// Offsets in the inflated stream say nothing of the part's bytes.
		ds.r = &countingReader{r: bufio.NewReader(flate.NewReader(br)), n: -1 << 62}
	}
	if err := scanDataset(ds, h); err != nil {
		return err
	}
	if h.PixelDataOffset <= 0 {
		h.PixelDataOffset, h.PixelDataEnd = 0, 0
	}
	return nil
}

// readFileMeta reads the file meta information (PS3.10 7.1): explicit VR
// little endian elements of group 0002, up to the first of another group.
func readFileMeta(br *countingReader, h *partHeader) error {
	meta := &elementReader{r: br, order: binary.LittleEndian, explicit: true}
	for {
		next, err := br.Peek(2)
		if err != nil {
			return fmt.Errorf("file meta information: %w", eofAsShort(err))
		}
		if binary.LittleEndian.Uint16(next) != 0x0002 {
			break
		}
		e, err := meta.header()
		if err != nil {
			return fmt.Errorf("file meta information: %w", err)
		}
		if e.length > maxMetaElement {
			return fmt.Errorf("file meta element %s claims %d bytes", e.tag, e.length)
		}
		v, err := meta.value(e.length)
		if err != nil {
			return fmt.Errorf("file meta element %s: %w", e.tag, err)
		}
		switch e.tag {
		case dicomTag{0x0002, 0x0002}:
			h.MetaSOPClassUID = uidValue(v)
		case dicomTag{0x0002, 0x0003}:
			h.MetaSOPInstanceUID = uidValue(v)
		case dicomTag{0x0002, 0x0010}:
			h.TransferSyntaxUID = uidValue(v)
		}
	}
	if h.TransferSyntaxUID == "" {
		return errors.New("file meta information has no Transfer Syntax UID")
	}
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r *bufio.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// Peek returns the next bytes without consuming them.
func (c *countingReader) Peek(n int) ([]byte, error) { return c.r.Peek(n) }

// readFull reads exactly len(p) bytes, as [io.ReadFull] does, through
// Peek and Discard, so that p, often an array on the stack, does not
// escape to the heap.
func (c *countingReader) readFull(p []byte) (int, error) {
	b, err := c.r.Peek(len(p))
	n := copy(p, b)
	c.Discard(n)
	switch {
	case n == len(p):
		return n, nil
	case n == 0 && errors.Is(err, io.EOF):
		return 0, io.EOF
	case errors.Is(err, io.EOF):
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// Discard skips n bytes.
func (c *countingReader) Discard(n int) (int, error) {
	d, err := c.r.Discard(n)
	c.n += int64(d)
	return d, err
}

// scanDataset reads the UIDs of the data set and walks on to Pixel Data
// to learn where it starts. A problem before the UIDs are read is an
// error; one after them only leaves PixelDataOffset unknown, and what the
// upstream makes of the instance is its business.
func scanDataset(ds *elementReader, h *partHeader) error {
	pastUIDs := false
	for {
		start := ds.r.n
		e, err := ds.header()
		if errors.Is(err, io.EOF) {
			// A data set may end early; what it lacks is judged later.
			return nil
		}
		if err != nil {
			return stopScan(pastUIDs, fmt.Errorf("data set: %w", err))
		}
		if e.tag == (dicomTag{0x7FE0, 0x0010}) {
			h.PixelDataOffset = start
			if e.length != undefinedLength {
				h.PixelDataEnd = ds.r.n + int64(e.length)
			}
			return nil
		}
		if e.tag.group > 0x0020 || (e.tag.group == 0x0020 && e.tag.element > 0x000E) {
			pastUIDs = true
		}
		if e.tag.group == 0xFFFE {
			return stopScan(pastUIDs, fmt.Errorf("data set: item tag %s outside a sequence",
				e.tag))
		}

		wanted := e.tag == dicomTag{0x0008, 0x0016} || e.tag == dicomTag{0x0008, 0x0018} ||
			e.tag == dicomTag{0x0020, 0x000D} || e.tag == dicomTag{0x0020, 0x000E}
		if !wanted {
			if err := ds.skip(e, 0); err != nil {
				return stopScan(pastUIDs, fmt.Errorf("data set element %s: %w", e.tag, err))
			}
			continue
		}
		if e.length > 1024 {
			return fmt.Errorf("data set element %s claims %d bytes for a UID", e.tag, e.length)
		}
		v, err := ds.value(e.length)
		if err != nil {
			return fmt.Errorf("data set element %s: %w", e.tag, err)
		}
		switch e.tag {
		case dicomTag{0x0008, 0x0016}:
			h.SOPClassUID = uidValue(v)
		case dicomTag{0x0008, 0x0018}:
			h.SOPInstanceUID = uidValue(v)
		case dicomTag{0x0020, 0x000D}:
			h.StudyInstanceUID = uidValue(v)
		case dicomTag{0x0020, 0x000E}:
			h.SeriesInstanceUID = uidValue(v)
		}
	}
}

// stopScan returns err while the UIDs are still to be read, and nil once
// they are: the scan for Pixel Data just ends.
func stopScan(pastUIDs bool, err error) error {
	if pastUIDs {
		return nil
	}
	return err
}

// dicomTag is a data element tag (PS3.5 7.1).
type dicomTag struct{ group, element uint16 }

func (t dicomTag) String() string { return fmt.Sprintf("(%04X,%04X)", t.group, t.element) }

// undefinedLength is the value length of a sequence or item delimited by
// a delimitation item (PS3.5 7.5).
const undefinedLength = 0xFFFFFFFF

// elementHeader is a tag, VR and value length.
type elementHeader struct {
	tag    dicomTag
	vr     string
	length uint32
}

// elementReader reads data element headers in one encoding.
type elementReader struct {
	r        *countingReader
	order    binary.ByteOrder
	explicit bool
}

// uint16 decodes b in the reader's byte order. A switch on the two orders,
// not a call through [binary.ByteOrder], keeps b on the caller's stack.
func (er *elementReader) uint16(b []byte) uint16 {
	if er.order == binary.BigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

// uint32 decodes b in the reader's byte order, as uint16 does.
func (er *elementReader) uint32(b []byte) uint32 {
	if er.order == binary.BigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

// longVRs have a 4-byte length after two reserved bytes in explicit VR
// encodings (PS3.5 7.1.2).
var longVRs = "OB OD OF OL OV OW SQ SV UC UN UR UT UV"

// header reads one element header. A clean end of input before it gives
// io.EOF.
func (er *elementReader) header() (elementHeader, error) {
	var b [8]byte
	if _, err := er.r.readFull(b[:4]); err != nil {
		if errors.Is(err, io.EOF) {
			return elementHeader{}, io.EOF
		}
		return elementHeader{}, eofAsShort(err)
	}
	e := elementHeader{tag: dicomTag{er.uint16(b[0:]), er.uint16(b[2:])}}

	// Items and delimiters have no VR in any encoding (PS3.5 7.5).
	if !er.explicit || e.tag.group == 0xFFFE {
		if _, err := er.r.readFull(b[4:8]); err != nil {
			return e, eofAsShort(err)
		}
		e.length = er.uint32(b[4:])
		return e, nil
	}
	if _, err := er.r.readFull(b[4:8]); err != nil {
		return e, eofAsShort(err)
	}
	e.vr = vrName(b[4:6])
	if !isVR(e.vr) {
		return e, fmt.Errorf("element %s has no valid VR (%q)", e.tag, e.vr)
	}
	if strings.Contains(longVRs, e.vr) {
		var l [4]byte
		if _, err := er.r.readFull(l[:]); err != nil {
			return e, eofAsShort(err)
		}
		e.length = er.uint32(l[:])
		return e, nil
	}
	e.length = uint32(er.uint16(b[6:]))
	return e, nil
}

// vrName returns b as a string, without an allocation for the VRs of
// PS3.5 6.2.
func vrName(b []byte) string {
	switch string(b) {
	case "AE", "AS", "AT", "CS", "DA", "DS", "DT", "FL", "FD", "IS", "LO", "LT",
		"OB", "OD", "OF", "OL", "OV", "OW", "PN", "SH", "SL", "SQ", "SS", "ST",
		"SV", "TM", "UC", "UI", "UL", "UN", "UR", "US", "UT", "UV":
		return vrNames[string(b)]
	}
	return string(b)
}

// vrNames holds the strings vrName returns.
var vrNames = func() map[string]string {
	m := map[string]string{}
	for _, vr := range strings.Fields("AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL " +
		"OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV") {
		m[vr] = vr
	}
	return m
}()

// isVR reports whether s is two upper-case letters, the form of every VR.
func isVR(s string) bool {
	return len(s) == 2 && s[0] >= 'A' && s[0] <= 'Z' && s[1] >= 'A' && s[1] <= 'Z'
}

// value reads a value of n bytes.
func (er *elementReader) value(n uint32) ([]byte, error) {
	if n == undefinedLength {
		return nil, errors.New("undefined length on a UID")
	}
	v := make([]byte, n)
	if _, err := io.ReadFull(er.r, v); err != nil {
		return nil, eofAsShort(err)
	}
	return v, nil
}

// skip skips the value of e, walking sequences and items of undefined
// length to their delimiters.
func (er *elementReader) skip(e elementHeader, depth int) error {
	if depth > maxNesting {
		return fmt.Errorf("sequences nested deeper than %d", maxNesting)
	}
	if e.length != undefinedLength {
		if e.length > maxHeaderScan {
			return fmt.Errorf("element claims %d bytes", e.length)
		}
		_, err := er.r.Discard(int(e.length))
		if errors.Is(err, errScanLimit) {
			return err
		}
		return eofAsShort(err)
	}
	// Undefined length: a sequence of items up to its delimiter. In
	// implicit VR, only sequences may have an undefined length before
	// Pixel Data.
	for {
		item, err := er.header()
		if err != nil {
			return eofAsShort(err)
		}
		switch item.tag {
		case dicomTag{0xFFFE, 0xE0DD}:
			return nil
		case dicomTag{0xFFFE, 0xE000}:
		default:
			return fmt.Errorf("%s inside a sequence, want an item", item.tag)
		}
		if item.length != undefinedLength {
			if err := er.skip(item, depth+1); err != nil {
				return err
			}
			continue
		}
		if err := er.skipItem(depth + 1); err != nil {
			return err
		}
	}
}

// skipItem skips the elements of an item of undefined length up to its
// delimiter.
func (er *elementReader) skipItem(depth int) error {
	for {
		e, err := er.header()
		if err != nil {
			return eofAsShort(err)
		}
		if e.tag == (dicomTag{0xFFFE, 0xE00D}) {
			return nil
		}
		if err := er.skip(e, depth+1); err != nil {
			return err
		}
	}
}

// uidValue trims the padding of a UI value (PS3.5 6.2: NUL; some writers
// pad with a space).
func uidValue(v []byte) string {
	return strings.TrimRight(string(v), "\x00 ")
}

// errShort means the part ended inside its header.
var errShort = errors.New("part ends inside its DICOM header")

// eofAsShort turns an end of input inside a structure into errShort.
func eofAsShort(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errShort
	}
	return err
}
