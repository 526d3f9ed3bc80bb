package qc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// parseDataset parses the data set attributes in head (the body before
// Pixel Data, already checked by the raw walker) with the dicom package.
func parseDataset(head []byte, ts transferSyntax) (elems []*dicom.Element, err error) {
	if len(head) == 0 {
		return nil, nil
	}
	defer func() {
		// The raw walker refuses what is known to make the parser panic;
		// this keeps any other input from taking the caller down.
		if r := recover(); r != nil {
			elems, err = nil, fmt.Errorf("%w: data set parser: %v", ErrMalformed, r)
		}
	}()

	// The parser is told the transfer syntax instead of reading file meta.
	// When not told, it first peeks 100 bytes to guess one; the zero
	// padding keeps that look-ahead from failing on a short data set, and
	// the byte limit keeps the parser inside head.
	in := io.MultiReader(bytes.NewReader(head), bytes.NewReader(make([]byte, 128)))
	p, err := dicom.NewParser(in, int64(len(head)), nil,
		dicom.SkipMetadataReadOnNewParserInit(),
		dicom.SkipPixelData(),
		dicom.AllowUnknownSpecificCharacterSet())
	if p == nil {
		return nil, fmt.Errorf("%w: starting data set parser: %w", ErrMalformed, err)
	}
	bo := binary.ByteOrder(binary.LittleEndian)
	if ts.BigEndian {
		bo = binary.BigEndian
	}
	p.SetTransferSyntax(bo, ts.Implicit)

	for {
		e, err := p.Next()
		if errors.Is(err, dicom.ErrorEndOfDICOM) {
			return elems, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: parsing data set: %w", ErrMalformed, err)
		}
		elems = append(elems, e)
	}
}

// item is the list of elements of a data set or of a sequence item.
type item []*dicom.Element

// get returns the element with tag t, or nil.
func (it item) get(t tag.Tag) *dicom.Element {
	for _, e := range it {
		if e.Tag == t {
			return e
		}
	}
	return nil
}

// has reports whether the element is present, even empty.
func (it item) has(t tag.Tag) bool { return it.get(t) != nil }

// strs returns the values of a string element, trimmed of padding. An OB or
// UN value is read as one string.
func (it item) strs(t tag.Tag) []string {
	e := it.get(t)
	if e == nil || e.Value == nil {
		return nil
	}
	switch v := e.Value.GetValue().(type) {
	case []string:
		out := make([]string, 0, len(v))
		for _, s := range v {
			out = append(out, strings.Trim(s, " \x00"))
		}
		return out
	case []byte:
		return strings.Split(trimValue(v), `\`)
	}
	return nil
}

// str returns the first value of a string element, or "".
func (it item) str(t tag.Tag) string {
	if v := it.strs(t); len(v) > 0 {
		return v[0]
	}
	return ""
}

// ints returns the values of an integer element: US, SS, UL, SL, or IS
// strings. Values that do not parse are skipped; ok is false then, or when
// the element is absent.
func (it item) ints(t tag.Tag) (vals []int, ok bool) {
	e := it.get(t)
	if e == nil || e.Value == nil {
		return nil, false
	}
	switch v := e.Value.GetValue().(type) {
	case []int:
		return v, true
	case []string:
		ok = true
		for _, s := range v {
			s = strings.TrimSpace(strings.Trim(s, "\x00"))
			if s == "" {
				continue
			}
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n > math.MaxInt32 || n < math.MinInt32 {
				ok = false
				continue
			}
			vals = append(vals, int(n))
		}
		return vals, ok
	case []byte:
		return bytesToInts(t, v), true
	}
	return nil, false
}

// bytesToInts reads a binary value of an element whose VR was not known
// (UN) with the width of its VR in the data dictionary.
func bytesToInts(t tag.Tag, b []byte) []int {
	width := 2
	if info, err := tag.Find(t); err == nil && len(info.VRs) > 0 {
		switch info.VRs[0] {
		case "UL", "SL":
			width = 4
		case "US", "SS":
		default:
			return nil
		}
	}
	out := make([]int, 0, len(b)/width)
	for i := 0; i+width <= len(b); i += width {
		if width == 2 {
			out = append(out, int(binary.LittleEndian.Uint16(b[i:])))
		} else {
			out = append(out, int(binary.LittleEndian.Uint32(b[i:])))
		}
	}
	return out
}

// int returns the first value of an integer element.
func (it item) int(t tag.Tag) (int, bool) {
	v, ok := it.ints(t)
	if len(v) == 0 {
		return 0, false
	}
	return v[0], ok
}

// floats returns the values of a DS, FL or FD element, or nil when absent
// or when a value does not parse.
func (it item) floats(t tag.Tag) []float64 {
	e := it.get(t)
	if e == nil || e.Value == nil {
		return nil
	}
	switch v := e.Value.GetValue().(type) {
	case []float64:
		return v
	case []string:
		out := make([]float64, 0, len(v))
		for _, s := range v {
			s = strings.TrimSpace(strings.Trim(s, "\x00"))
			if s == "" {
				continue
			}
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil
			}
			out = append(out, f)
		}
		return out
	}
	return nil
}

// float returns the first value of a decimal element, or 0.
func (it item) float(t tag.Tag) float64 {
	if v := it.floats(t); len(v) > 0 {
		return v[0]
	}
	return 0
}

// items returns the items of a sequence element, or nil.
func (it item) items(t tag.Tag) []item {
	e := it.get(t)
	if e == nil || e.Value == nil {
		return nil
	}
	seq, ok := e.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok {
		return nil
	}
	out := make([]item, 0, len(seq))
	for _, s := range seq {
		if elems, ok := s.GetValue().([]*dicom.Element); ok {
			out = append(out, item(elems))
		}
	}
	return out
}

// first returns the first item of a sequence element, or nil.
func (it item) first(t tag.Tag) item {
	e := it.get(t)
	if e == nil || e.Value == nil {
		return nil
	}
	seq, ok := e.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok || len(seq) == 0 {
		return nil
	}
	elems, _ := seq[0].GetValue().([]*dicom.Element)
	return item(elems)
}

// keywords returns the data dictionary keywords of the elements present.
func (it item) keywords() map[string]bool {
	out := make(map[string]bool, len(it))
	for _, e := range it {
		if info, err := tag.Find(e.Tag); err == nil && info.Keyword != "" {
			out[info.Keyword] = true
		}
	}
	return out
}
