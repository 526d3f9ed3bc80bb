package qc

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/dicomio"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// ReadSourceInstance reads the geometry of one source image from a DICOM
// Part 10 stream. It reads r only up to the end of Pixel Data, whose value
// it skips without holding it, and may read a few KiB beyond that through
// its buffer; the caller drains what is left (a gateway forwarding a STOW-RS
// part tees the part through it). Multi-frame images are read through their
// functional groups (PS3.3 C.7.6.16), so Enhanced CT and MR, and slide
// microscopy tiles, are placed per frame. Images without a Frame of
// Reference (CR, DX) give frames without position.
//
// An input without the Part 10 preamble gives [ErrNotDICOM]; a data set that
// cannot be parsed or whose geometry attributes hold invalid values gives an
// error wrapping [ErrInvalidSource].
func ReadSourceInstance(r io.Reader) (inst *SourceInstance, err error) {
	defer func() {
		// The dicom package panics on some malformed data sets (a sequence
		// holding a non-Item element, an unknown transfer syntax); such an
		// input is an invalid source, not a reason to take the caller down.
		if rec := recover(); rec != nil {
			inst, err = nil, fmt.Errorf("reading source data set: %w: parser: %v",
				ErrInvalidSource, rec)
		}
	}()
	br := bufio.NewReader(r)
	head, err := br.Peek(132)
	if err != nil || string(head[128:]) != "DICM" {
		return nil, ErrNotDICOM
	}

	p, err := dicom.NewParser(br, dicomio.LimitReadUntilEOF, nil,
		dicom.SkipPixelData(),
		dicom.AllowUnknownSpecificCharacterSet(),
		dicom.AllowMissingMetaElementGroupLength())
	if err != nil {
		return nil, fmt.Errorf("reading source header: %w: %w", ErrInvalidSource, err)
	}

	var elems []*dicom.Element
	for {
		e, err := p.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, dicom.ErrorEndOfDICOM) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading source data set: %w: %w", ErrInvalidSource, err)
		}
		elems = append(elems, e)
		// Nothing after Pixel Data is geometry; stop there so that a stream
		// is not read further than needed.
		if e.Tag.Group >= tag.PixelData.Group {
			break
		}
	}
	return sourceFromAttrs(datasetAttrs(elems))
}

// SourceFromDataset reads the geometry of one source image from a parsed
// data set, as [ReadSourceInstance] does from a stream.
func SourceFromDataset(ds dicom.Dataset) (*SourceInstance, error) {
	return sourceFromAttrs(datasetAttrs(ds.Elements))
}

// datasetAttrs gives [attrs] access to the elements of a data set or item.
type datasetAttrs []*dicom.Element

// find returns the element with tag t, or nil.
func (d datasetAttrs) find(t tag.Tag) *dicom.Element { return item(d).get(t) }

// strings returns the values of a string element as item.strs reads them
// (an OB or UN value as one string), integers written as text, and nil for
// one empty value.
func (d datasetAttrs) strings(t tag.Tag) []string {
	if e := d.find(t); e != nil && e.Value != nil {
		if v, ok := e.Value.GetValue().([]int); ok {
			out := make([]string, len(v))
			for i, n := range v {
				out[i] = strconv.Itoa(n)
			}
			return out
		}
	}
	out := item(d).strs(t)
	if len(out) == 1 && out[0] == "" {
		return nil
	}
	return out
}

func (d datasetAttrs) floats(t tag.Tag) ([]float64, error) {
	e := d.find(t)
	if e == nil || e.Value == nil {
		return nil, nil
	}
	switch v := e.Value.GetValue().(type) {
	case []float64:
		if len(v) == 0 {
			return nil, nil
		}
		return v, nil
	case []int:
		out := make([]float64, len(v))
		for i, n := range v {
			out[i] = float64(n)
		}
		return out, nil
	}
	return parseTexts(d.strings(t), parseDS)
}

func (d datasetAttrs) ints(t tag.Tag) ([]int, error) {
	e := d.find(t)
	if e == nil || e.Value == nil {
		return nil, nil
	}
	if v, ok := e.Value.GetValue().([]int); ok {
		if len(v) == 0 {
			return nil, nil
		}
		return v, nil
	}
	return parseTexts(d.strings(t), parseIS)
}

func (d datasetAttrs) items(t tag.Tag) []attrs {
	e := d.find(t)
	if e == nil || e.Value == nil {
		return nil
	}
	seq, ok := e.Value.GetValue().([]*dicom.SequenceItemValue)
	if !ok || len(seq) == 0 {
		return nil
	}
	out := make([]attrs, 0, len(seq))
	for _, item := range seq {
		elems, _ := item.GetValue().([]*dicom.Element)
		out = append(out, datasetAttrs(elems))
	}
	return out
}

var _ attrs = datasetAttrs(nil)
