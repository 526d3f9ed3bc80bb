package plant

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// Tags the planter reads or edits (PS3.6).
const (
	tagTransferSyntax      = 0x00020010
	tagMetaLength          = 0x00020000
	tagSOPInstanceUID      = 0x00080018
	tagCodeValue           = 0x00080100
	tagSpacingBetween      = 0x00180088
	tagImagePosition       = 0x00200032
	tagFrameOfReferenceUID = 0x00200052
	tagPlanePosition       = 0x00209113
	tagPixelMeasures       = 0x00289110
	tagNumberOfFrames      = 0x00280008
	tagPixelSpacing        = 0x00280030
	tagSharedGroups        = 0x52009229
	tagPerFrameGroups      = 0x52009230
	tagSegmentSequence     = 0x00620002
	tagSegmentedType       = 0x0062000F
	tagSegmentsOverlap     = 0x00620013
	tagSeriesInstanceUID   = 0x0020000E
	tagContentCreatorName  = 0x00700084
	tagPixelData           = 0x7FE00010
	tagItem                = 0xFFFEE000
	tagItemEnd             = 0xFFFEE00D
	tagSequenceEnd         = 0xFFFEE0DD
	undefinedLength        = 0xFFFFFFFF
	transferSyntaxImplicit = "1.2.840.10008.1.2"
	transferSyntaxExplicit = "1.2.840.10008.1.2.1"
)

// element is one data element of a data set held as a tree: a value, or
// the items of a sequence, each a data set.
type element struct {
	tag   uint32
	vr    string
	value []byte
	items [][]*element
	// encapsulated holds encapsulated Pixel Data (undefined length): its
	// fragments with their item headers and the delimiter, unchanged.
	encapsulated bool
}

// file is a DICOM Part 10 file: preamble, meta information and data set.
type file struct {
	preamble []byte
	meta     []*element
	ds       []*element
	implicit bool
	// native is true when Pixel Data is not encapsulated.
	native bool
}

// parseFile reads a Part 10 file (PS3.10 7.1) whose data set is explicit or
// implicit VR little endian, with Pixel Data native or encapsulated.
func parseFile(data []byte) (*file, error) {
	if len(data) < 132 || string(data[128:132]) != "DICM" {
		return nil, fmt.Errorf("%w: no DICM prefix", ErrFormat)
	}
	f := &file{preamble: data[:132]}
	r := &reader{data: data, pos: 132}
	for r.pos+2 <= len(data) && binary.LittleEndian.Uint16(data[r.pos:]) == 0x0002 {
		e, err := r.element(false)
		if err != nil {
			return nil, fmt.Errorf("reading meta information: %w", err)
		}
		f.meta = append(f.meta, e)
	}
	ts := ""
	if e := find(f.meta, tagTransferSyntax); e != nil {
		ts = strings.TrimRight(string(e.value), "\x00 ")
	}
	switch ts {
	case transferSyntaxImplicit:
		f.implicit = true
	case "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2", "":
		return nil, fmt.Errorf("%w: transfer syntax %q", ErrFormat, ts)
	}
	ds, err := r.dataset(f.implicit, len(data))
	if err != nil {
		return nil, err
	}
	f.ds = ds
	px := find(f.ds, tagPixelData)
	f.native = px != nil && !px.encapsulated
	return f, nil
}

// reader walks the bytes of a file.
type reader struct {
	data []byte
	pos  int
}

// dataset reads elements up to end or to an item delimiter.
func (r *reader) dataset(implicit bool, end int) ([]*element, error) {
	var out []*element
	for r.pos < end {
		if r.pos+8 <= len(r.data) && r.tag() == tagItemEnd {
			r.pos += 8
			return out, nil
		}
		e, err := r.element(implicit)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (r *reader) tag() uint32 {
	g := binary.LittleEndian.Uint16(r.data[r.pos:])
	el := binary.LittleEndian.Uint16(r.data[r.pos+2:])
	return uint32(g)<<16 | uint32(el)
}

// longVR lists the explicit VRs with a 4-byte length (PS3.5 7.1.2).
var longVR = map[string]bool{"OB": true, "OD": true, "OF": true, "OL": true, "OV": true,
	"OW": true, "SQ": true, "UC": true, "UN": true, "UR": true, "UT": true, "SV": true,
	"UV": true}

// element reads one data element.
func (r *reader) element(implicit bool) (*element, error) {
	if r.pos+8 > len(r.data) {
		return nil, fmt.Errorf("%w: element header past the end at %d", ErrFormat, r.pos)
	}
	e := &element{tag: r.tag()}
	r.pos += 4
	var length uint32
	if implicit {
		length = binary.LittleEndian.Uint32(r.data[r.pos:])
		r.pos += 4
		e.vr = dictionaryVR(e.tag, length)
	} else {
		e.vr = string(r.data[r.pos : r.pos+2])
		if longVR[e.vr] {
			if r.pos+8 > len(r.data) {
				return nil, fmt.Errorf("%w: element header past the end", ErrFormat)
			}
			length = binary.LittleEndian.Uint32(r.data[r.pos+4:])
			r.pos += 8
		} else {
			length = uint32(binary.LittleEndian.Uint16(r.data[r.pos+2:]))
			r.pos += 4
		}
	}
	switch {
	case e.tag == tagPixelData && length == undefinedLength:
		return e, r.encapsulatedPixels(e)
	case e.vr == "SQ":
		return e, r.sequence(e, implicit, length)
	case length == undefinedLength:
		return nil, fmt.Errorf("%w: undefined length of %08X", ErrFormat, e.tag)
	}
	if r.pos+int(length) > len(r.data) {
		return nil, fmt.Errorf("%w: value of %08X past the end", ErrFormat, e.tag)
	}
	e.value = r.data[r.pos : r.pos+int(length)]
	r.pos += int(length)
	return e, nil
}

// dictionaryVR returns the VR of a tag in implicit VR: SQ for sequences
// (and for any element of undefined length), else the dictionary's.
func dictionaryVR(t uint32, length uint32) string {
	if t == tagPixelData {
		return "OW"
	}
	if length == undefinedLength {
		return "SQ"
	}
	info, err := tag.Find(tag.Tag{Group: uint16(t >> 16), Element: uint16(t)})
	if err != nil || len(info.VRs) == 0 || info.VRs[0] == "" {
		return "UN"
	}
	return info.VRs[0]
}

// sequence reads the items of a sequence of the given length.
func (r *reader) sequence(e *element, implicit bool, length uint32) error {
	end := len(r.data)
	if length != undefinedLength {
		end = r.pos + int(length)
	}
	for r.pos < end {
		if r.pos+8 > len(r.data) {
			return fmt.Errorf("%w: item header past the end", ErrFormat)
		}
		t := r.tag()
		n := binary.LittleEndian.Uint32(r.data[r.pos+4:])
		r.pos += 8
		if t == tagSequenceEnd {
			return nil
		}
		if t != tagItem {
			return fmt.Errorf("%w: %08X in sequence %08X", ErrFormat, t, e.tag)
		}
		itemEnd := len(r.data)
		if n != undefinedLength {
			itemEnd = r.pos + int(n)
		}
		it, err := r.dataset(implicit, itemEnd)
		if err != nil {
			return err
		}
		e.items = append(e.items, it)
	}
	return nil
}

// encapsulatedPixels keeps the fragments of encapsulated Pixel Data.
func (r *reader) encapsulatedPixels(e *element) error {
	start := r.pos
	for r.pos+8 <= len(r.data) {
		t := r.tag()
		n := binary.LittleEndian.Uint32(r.data[r.pos+4:])
		r.pos += 8
		if t == tagSequenceEnd {
			e.value, e.encapsulated = r.data[start:r.pos], true
			return nil
		}
		r.pos += int(n)
	}
	return fmt.Errorf("%w: encapsulated Pixel Data without its delimiter", ErrFormat)
}

// bytes writes f back; sequences and items get undefined lengths.
func (f *file) bytes() []byte {
	var meta bytes.Buffer
	for _, e := range f.meta {
		if e.tag != tagMetaLength {
			writeElement(&meta, e, false)
		}
	}
	var out bytes.Buffer
	out.Write(f.preamble)
	writeElement(&out, &element{tag: tagMetaLength, vr: "UL",
		value: binary.LittleEndian.AppendUint32(nil, uint32(meta.Len()))}, false)
	out.Write(meta.Bytes())
	for _, e := range f.ds {
		writeElement(&out, e, f.implicit)
	}
	return out.Bytes()
}

func writeTag(w *bytes.Buffer, t uint32) {
	var b [4]byte
	binary.LittleEndian.PutUint16(b[:], uint16(t>>16))
	binary.LittleEndian.PutUint16(b[2:], uint16(t))
	w.Write(b[:])
}

func writeUint32(w *bytes.Buffer, v uint32) {
	w.Write(binary.LittleEndian.AppendUint32(nil, v))
}

// writeElement writes e and, for a sequence, its items.
func writeElement(w *bytes.Buffer, e *element, implicit bool) {
	writeTag(w, e.tag)
	length := uint32(len(e.value))
	if e.vr == "SQ" || e.encapsulated {
		length = undefinedLength
	}
	switch {
	case implicit:
		writeUint32(w, length)
	case longVR[e.vr]:
		w.WriteString(e.vr)
		w.Write([]byte{0, 0})
		writeUint32(w, length)
	default:
		w.WriteString(e.vr)
		w.Write(binary.LittleEndian.AppendUint16(nil, uint16(length)))
	}
	if e.encapsulated {
		w.Write(e.value)
		return
	}
	if e.vr != "SQ" {
		w.Write(e.value)
		return
	}
	for _, it := range e.items {
		writeTag(w, tagItem)
		writeUint32(w, undefinedLength)
		for _, c := range it {
			writeElement(w, c, implicit)
		}
		writeTag(w, tagItemEnd)
		writeUint32(w, 0)
	}
	writeTag(w, tagSequenceEnd)
	writeUint32(w, 0)
}

// find returns the element of ds with tag t, or nil.
func find(ds []*element, t uint32) *element {
	for _, e := range ds {
		if e.tag == t {
			return e
		}
	}
	return nil
}

// item returns the first item of sequence t of ds, or nil.
func item(ds []*element, t uint32) []*element {
	if e := find(ds, t); e != nil && len(e.items) > 0 {
		return e.items[0]
	}
	return nil
}

// setString sets the text value of an element, padded to even length with
// a space (a NUL for UI, PS3.5 6.2).
func setString(e *element, s string) {
	if len(s)%2 == 1 {
		if e.vr == "UI" {
			s += "\x00"
		} else {
			s += " "
		}
	}
	e.value = []byte(s)
}

// text returns the value of a text element without padding.
func text(e *element) string {
	if e == nil {
		return ""
	}
	return strings.TrimRight(string(e.value), "\x00 ")
}
