package qc

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// The raw reader walks the element structure of a Part 10 file over the
// input bytes without copying them. It does three things the data set
// parser cannot: it finds Pixel Data and keeps it as a slice of the input,
// it checks every length against its container before anything is
// allocated, and it refuses structures the parser would mishandle, so that
// hostile input fails fast instead of allocating what it claims.
//
// TODO(qc): an element of VR OV, SV or UV before Pixel Data makes the file
// unreadable, because suyashkumar/dicom v1.1.0 reads those VRs with a 2-byte
// length; reading such elements here and hiding them from the parser would
// lift it.

const (
	undefinedLength = 0xFFFFFFFF
	// maxNesting bounds the depth of nested sequences.
	maxNesting = 32
	// maxInflated bounds the size of a deflated data set once inflated.
	maxInflated = 1 << 30

	tagItem                 = 0xFFFEE000
	tagItemDelimitation     = 0xFFFEE00D
	tagSequenceDelimitation = 0xFFFEE0DD
	tagPixelData            = 0x7FE00010
	tagExtendedOffsetTable  = 0x7FE00001
	tagExtendedOffsetLength = 0x7FE00002
)

// part10 is a Part 10 file split into its parts.
type part10 struct {
	metaSOPClassUID    string
	metaSOPInstanceUID string
	ts                 transferSyntax
	// body is the data set after the file meta information, inflated for
	// the deflated transfer syntax; otherwise a slice of the input.
	body []byte
	// headEnd is the offset in body of the first top-level element of group
	// 7FE0 or above: body[:headEnd] holds every attribute the decoder reads
	// except the pixel data.
	headEnd int
	pixel   *rawPixelData
	// extOffsets and extLengths are the Extended Offset Table and its
	// lengths (PS3.3 C.7.6.3.1.8), nil when absent.
	extOffsets []byte
	extLengths []byte
}

// rawPixelData is the top-level Pixel Data element.
type rawPixelData struct {
	encapsulated bool
	// value is the native value (encapsulated false).
	value []byte
	// declaredLength is the value length of a native element; it can exceed
	// len(value) when the file is truncated.
	declaredLength uint32
	// offsetTable is the Basic Offset Table item value, fragments the other
	// items and fragmentPos the offset of each fragment's item tag from the
	// first fragment's item tag (PS3.5 A.4).
	offsetTable []byte
	fragments   [][]byte
	fragmentPos []uint64
	// truncated is set when the encapsulated value ends without a Sequence
	// Delimitation Item.
	truncated bool
}

// readPart10 checks the preamble, reads the file meta information and walks
// the top-level data set.
func readPart10(data []byte) (*part10, error) {
	if len(data) < 132 || string(data[128:132]) != "DICM" {
		return nil, ErrNotDICOM
	}
	f := &part10{}
	p, err := f.readMeta(data, 132)
	if err != nil {
		return nil, err
	}
	f.body = data[p:]
	if f.ts.Deflated {
		// PS3.5 A.5: the data set after the file meta is raw DEFLATE.
		f.body, err = inflate(f.body, maxInflated)
		if err != nil {
			return nil, fmt.Errorf("%w: inflating deflated data set: %w", ErrMalformed, err)
		}
	}
	if err := f.walkTop(); err != nil {
		return nil, err
	}
	return f, nil
}

// readMeta reads the group 0002 elements, always explicit VR little endian
// (PS3.10 7.1), and returns the offset of the data set.
func (f *part10) readMeta(data []byte, p int) (int, error) {
	tsUID := ""
	for len(data)-p >= 8 && binary.LittleEndian.Uint16(data[p:]) == 0x0002 {
		h, err := readExplicitHeader(data, p, binary.LittleEndian, len(data))
		if err != nil {
			return 0, fmt.Errorf("%w: file meta information: %w", ErrMalformed, err)
		}
		start := p + h.size
		if h.length == undefinedLength || int64(h.length) > int64(len(data)-start) {
			return 0, fmt.Errorf("%w: file meta element %s has length %d beyond the file",
				ErrMalformed, h.tagString(), h.length)
		}
		v := trimValue(data[start : start+int(h.length)])
		switch h.element {
		case 0x0002:
			f.metaSOPClassUID = v
		case 0x0003:
			f.metaSOPInstanceUID = v
		case 0x0010:
			tsUID = v
		}
		p = start + int(h.length)
	}
	if tsUID == "" {
		return 0, fmt.Errorf("%w: file meta information has no Transfer Syntax UID (0002,0010)",
			ErrMalformed)
	}
	f.ts = lookupTransferSyntax(tsUID)
	return p, nil
}

// inflate returns the raw DEFLATE stream src decompressed, refusing output
// longer than limit bytes.
func inflate(src []byte, limit int64) ([]byte, error) {
	r := flate.NewReader(bytes.NewReader(src))
	defer r.Close()
	var buf bytes.Buffer
	n, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, fmt.Errorf("inflated data set exceeds %d bytes", limit)
	}
	return buf.Bytes(), nil
}

// trimValue returns a string value without its padding (PS3.5 6.2).
func trimValue(b []byte) string {
	return strings.TrimRight(string(b), "\x00 ")
}

// header is the header of one encoded element.
type header struct {
	group, element uint16
	// vr is the explicit VR, zero for implicit VR and item tags.
	vr     [2]byte
	length uint32
	size   int
}

func (h header) tag() uint32 { return uint32(h.group)<<16 | uint32(h.element) }

func (h header) tagString() string { return fmt.Sprintf("(%04X,%04X)", h.group, h.element) }

func (h header) vrIs(vr string) bool { return string(h.vr[:]) == vr }

// hasLongLength reports whether an explicit VR has a 4-byte length field
// (PS3.5 7.1.2).
func hasLongLength(vr [2]byte) bool {
	switch string(vr[:]) {
	case "OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV":
		return true
	}
	return false
}

// readExplicitHeader reads an explicit VR element header at p; the header
// must end at or before limit.
func readExplicitHeader(b []byte, p int, bo binary.ByteOrder, limit int) (header, error) {
	if limit-p < 8 {
		return header{}, fmt.Errorf("element header truncated at offset %d", p)
	}
	h := header{group: bo.Uint16(b[p:]), element: bo.Uint16(b[p+2:])}
	if h.group == 0xFFFE {
		h.length, h.size = bo.Uint32(b[p+4:]), 8
		return h, nil
	}
	h.vr = [2]byte{b[p+4], b[p+5]}
	if !hasLongLength(h.vr) {
		h.length, h.size = uint32(bo.Uint16(b[p+6:])), 8
		return h, nil
	}
	if limit-p < 12 {
		return header{}, fmt.Errorf("element header truncated at offset %d", p)
	}
	h.length, h.size = bo.Uint32(b[p+8:]), 12
	return h, nil
}

// walker walks encoded elements in b.
type walker struct {
	b        []byte
	implicit bool
	bo       binary.ByteOrder
	// forParser is set while walking what the data set parser will read:
	// then encodings it would misread are refused.
	forParser bool
}

// header reads the element header at p, which must end at or before limit.
func (w *walker) header(p, limit int) (header, error) {
	if !w.implicit {
		return readExplicitHeader(w.b, p, w.bo, limit)
	}
	if limit-p < 8 {
		return header{}, fmt.Errorf("element header truncated at offset %d", p)
	}
	return header{
		group:   w.bo.Uint16(w.b[p:]),
		element: w.bo.Uint16(w.b[p+2:]),
		length:  w.bo.Uint32(w.b[p+4:]),
		size:    8,
	}, nil
}

// isSequence reports whether the element is read as a sequence. It follows
// the data set parser: SQ, or UN (also an unknown implicit tag) of
// undefined length (PS3.5 6.2.2).
func (w *walker) isSequence(h header) bool {
	undefined := h.length == undefinedLength
	if !w.implicit {
		return h.vrIs("SQ") || (h.vrIs("UN") && undefined)
	}
	info, err := tag.Find(tag.Tag{Group: h.group, Element: h.element})
	if err != nil || len(info.VRs) == 0 {
		return undefined
	}
	return info.VRs[0] == "SQ" || (info.VRs[0] == "UN" && undefined)
}

// elements walks the elements of a data set or item from p. With end >= 0
// it stops at end; with end < 0 (an item of undefined length) it stops
// after the Item Delimitation Item, which must come before limit. It
// returns the offset after what it read.
func (w *walker) elements(p, end, limit, depth int) (int, error) {
	if depth > maxNesting {
		return 0, fmt.Errorf("sequences nested deeper than %d", maxNesting)
	}
	stop := limit
	if end >= 0 {
		stop = end
	}
	for p < stop {
		h, err := w.header(p, stop)
		if err != nil {
			return 0, err
		}
		if h.group == 0xFFFE {
			if end < 0 && h.tag() == tagItemDelimitation && h.length == 0 {
				return p + h.size, nil
			}
			return 0, fmt.Errorf("unexpected %s with length %d in a data set", h.tagString(),
				h.length)
		}
		if p, err = w.value(h, p+h.size, stop, depth); err != nil {
			return 0, err
		}
	}
	if end < 0 {
		return 0, fmt.Errorf("item of undefined length has no Item Delimitation Item")
	}
	return p, nil
}

// value walks the value of element h that starts at p and returns the
// offset after it.
func (w *walker) value(h header, p, limit, depth int) (int, error) {
	if w.forParser && !w.implicit && (h.vrIs("OV") || h.vrIs("SV") || h.vrIs("UV")) {
		// The data set parser reads these VRs with a 2-byte length.
		return 0, fmt.Errorf("element %s has VR %s, which the data set parser cannot read",
			h.tagString(), h.vr[:])
	}
	if h.length == undefinedLength {
		switch {
		case h.tag() == tagPixelData:
			return w.fragments(p, limit, nil)
		case w.isSequence(h):
			return w.sequence(p, -1, limit, depth+1)
		default:
			return 0, fmt.Errorf("element %s has undefined length but is not a sequence",
				h.tagString())
		}
	}
	if w.forParser && !w.implicit && h.size == 8 && h.length == 0xFFFF {
		// The data set parser takes a 2-byte length of FFFFH as undefined.
		return 0, fmt.Errorf("element %s has a 2-byte length of FFFFH", h.tagString())
	}
	if int64(h.length) > int64(limit-p) {
		return 0, fmt.Errorf("element %s has length %d; only %d bytes remain in its container",
			h.tagString(), h.length, limit-p)
	}
	end := p + int(h.length)
	if h.tag() != tagPixelData && w.isSequence(h) {
		if _, err := w.sequence(p, end, end, depth+1); err != nil {
			return 0, err
		}
	}
	return end, nil
}

// sequence walks the items of a sequence from p: up to end when end >= 0,
// else up to and including the Sequence Delimitation Item before limit.
func (w *walker) sequence(p, end, limit, depth int) (int, error) {
	if depth > maxNesting {
		return 0, fmt.Errorf("sequences nested deeper than %d", maxNesting)
	}
	stop := limit
	if end >= 0 {
		stop = end
	}
	for p < stop {
		h, err := w.header(p, stop)
		if err != nil {
			return 0, err
		}
		switch {
		case end < 0 && h.tag() == tagSequenceDelimitation && h.length == 0:
			return p + h.size, nil
		case h.tag() != tagItem:
			return 0, fmt.Errorf("sequence holds %s with length %d, not an item",
				h.tagString(), h.length)
		case h.length == undefinedLength:
			p, err = w.elements(p+h.size, -1, stop, depth+1)
		default:
			start := p + h.size
			if int64(h.length) > int64(stop-start) {
				return 0, fmt.Errorf("item of length %d runs past its sequence (%d bytes remain)",
					h.length, stop-start)
			}
			p, err = w.elements(start, start+int(h.length), stop, depth+1)
		}
		if err != nil {
			return 0, err
		}
	}
	if end < 0 {
		return 0, fmt.Errorf("sequence of undefined length has no Sequence Delimitation Item")
	}
	return p, nil
}

// fragments walks the items of encapsulated pixel data from p (PS3.5 A.4)
// and, when px is not nil, records them. Items are always little endian
// with a 4-byte length.
func (w *walker) fragments(p, limit int, px *rawPixelData) (int, error) {
	first, seenTable := 0, false
	for limit-p >= 8 {
		t := uint32(w.bo.Uint16(w.b[p:]))<<16 | uint32(w.bo.Uint16(w.b[p+2:]))
		n := w.bo.Uint32(w.b[p+4:])
		if t == tagSequenceDelimitation && n == 0 {
			return p + 8, nil
		}
		if t != tagItem || n == undefinedLength {
			return 0, fmt.Errorf("encapsulated pixel data holds (%04X,%04X) with length %d, "+
				"not an item of defined length", t>>16, t&0xFFFF, n)
		}
		start := p + 8
		if int64(n) > int64(limit-start) {
			return 0, fmt.Errorf("pixel data item of length %d runs past the end (%d bytes remain)",
				n, limit-start)
		}
		end := start + int(n)
		switch {
		case px == nil:
		case !seenTable:
			// The first item is the Basic Offset Table, possibly empty.
			px.offsetTable, seenTable = w.b[start:end:end], true
		default:
			if len(px.fragments) == 0 {
				first = p
			}
			px.fragments = append(px.fragments, w.b[start:end:end])
			px.fragmentPos = append(px.fragmentPos, uint64(p-first))
		}
		p = end
	}
	return 0, errTruncatedFragments
}

var errTruncatedFragments = errors.New("encapsulated pixel data has no Sequence Delimitation Item")

// walkTop walks the top-level data set of f.body, records the end of the
// attributes the decoder reads and takes the Pixel Data element.
func (f *part10) walkTop() error {
	bo := binary.ByteOrder(binary.LittleEndian)
	if f.ts.BigEndian {
		bo = binary.BigEndian
	}
	w := &walker{b: f.body, implicit: f.ts.Implicit, bo: bo}
	f.headEnd = -1
	p := 0
	for p < len(f.body) {
		h, err := w.header(p, len(f.body))
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		if h.group == 0xFFFE {
			return fmt.Errorf("%w: unexpected %s at the top level of the data set",
				ErrMalformed, h.tagString())
		}
		if h.group >= 0x7FE0 && f.headEnd < 0 {
			f.headEnd = p
		}
		if h.tag() == tagPixelData {
			// Whatever follows Pixel Data (trailing padding, private
			// elements) is not read.
			f.pixel = w.pixelData(h, p+h.size)
			break
		}
		w.forParser = f.headEnd < 0
		next, err := w.value(h, p+h.size, len(f.body), 0)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		f.takeOffsetTable(h, w.b[p+h.size:next])
		p = next
	}
	if f.headEnd < 0 {
		f.headEnd = len(f.body)
	}
	return nil
}

// takeOffsetTable keeps the Extended Offset Table elements.
func (f *part10) takeOffsetTable(h header, v []byte) {
	switch h.tag() {
	case tagExtendedOffsetTable:
		f.extOffsets = v
	case tagExtendedOffsetLength:
		f.extLengths = v
	}
}

// pixelData reads the top-level Pixel Data element whose value starts at p.
// A value that runs past the end of the file is kept as far as it goes.
func (w *walker) pixelData(h header, p int) *rawPixelData {
	px := &rawPixelData{}
	if h.length != undefinedLength {
		px.declaredLength = h.length
		end := len(w.b)
		if int64(h.length) <= int64(end-p) {
			end = p + int(h.length)
		}
		px.value = w.b[p:end:end]
		return px
	}
	px.encapsulated = true
	if _, err := w.fragments(p, len(w.b), px); err != nil {
		px.truncated = true
	}
	return px
}
