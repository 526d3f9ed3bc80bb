package qc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/suyashkumar/dicom/pkg/tag"
)

// SourcesFromMetadata reads the geometry of source images from a DICOM JSON
// array (PS3.18 F.2), as a WADO-RS metadata request for a series answers it.
// It gives the same values as [ReadSourceInstance] gives for the same
// instances. DS and IS values may be JSON numbers or strings; BulkDataURI
// and InlineBinary values are ignored.
//
// An instance whose geometry cannot be read is left out and its error is
// returned, joined with the others, together with the instances that could
// be read. Input that is not a JSON array of objects gives only an error.
func SourcesFromMetadata(r io.Reader) ([]*SourceInstance, error) {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("reading DICOM JSON: %w", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("reading DICOM JSON: %w: want an array", ErrInvalidSource)
	}

	var (
		out  []*SourceInstance
		errs []error
	)
	for i := 0; dec.More(); i++ {
		var obj jsonObject
		if err := dec.Decode(&obj); err != nil {
			return nil, fmt.Errorf("reading DICOM JSON item %d: %w", i, err)
		}
		inst, err := sourceFromAttrs(obj)
		if err != nil {
			errs = append(errs, fmt.Errorf("DICOM JSON item %d: %w", i, err))
			continue
		}
		out = append(out, inst)
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("reading DICOM JSON: %w", err)
	}
	return out, errors.Join(errs...)
}

// jsonAttribute is one attribute of a DICOM JSON object (PS3.18 F.2.2).
// Values are kept raw and decoded when asked for, by the type asked.
type jsonAttribute struct {
	VR    string            `json:"vr"`
	Value []json.RawMessage `json:"Value"`
}

// jsonObject is a DICOM JSON data set or sequence item, keyed by tag as
// eight upper-case hexadecimal digits (PS3.18 F.2.1.1).
type jsonObject map[string]*jsonAttribute

// UnmarshalJSON decodes an object and accepts lower-case tag keys too.
func (o *jsonObject) UnmarshalJSON(data []byte) error {
	m := map[string]*jsonAttribute{}
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	for k, v := range m {
		if up := strings.ToUpper(k); up != k {
			delete(m, k)
			m[up] = v
		}
	}
	*o = m
	return nil
}

// jsonKey returns the DICOM JSON key of t.
func jsonKey(t tag.Tag) string {
	return fmt.Sprintf("%04X%04X", t.Group, t.Element)
}

// values returns the raw values of t, or nil.
func (o jsonObject) values(t tag.Tag) []json.RawMessage {
	a := o[jsonKey(t)]
	if a == nil {
		return nil
	}
	return a.Value
}

// text returns the text of one raw JSON value: a string as it is, a number
// as written, and "" for null. Objects (Person Name) give "".
func jsonText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return "", true
	case raw[0] == '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
		return strings.Trim(s, " \x00"), true
	case raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9'):
		return string(raw), true
	}
	return "", false
}

func (o jsonObject) strings(t tag.Tag) []string {
	vals := o.values(t)
	if len(vals) == 0 {
		return nil
	}
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		s, _ := jsonText(v)
		out = append(out, s)
	}
	if len(out) == 1 && out[0] == "" {
		return nil
	}
	return out
}

func (o jsonObject) floats(t tag.Tag) ([]float64, error) {
	return parseTexts(o.strings(t), parseDS)
}

func (o jsonObject) ints(t tag.Tag) ([]int, error) {
	return parseTexts(o.strings(t), parseIS)
}

func (o jsonObject) items(t tag.Tag) []attrs {
	vals := o.values(t)
	if len(vals) == 0 {
		return nil
	}
	out := make([]attrs, 0, len(vals))
	for _, v := range vals {
		var item jsonObject
		if err := json.Unmarshal(v, &item); err != nil || item == nil {
			// A value that is not an object is not an item; an attribute of
			// this name that is no sequence holds no geometry.
			continue
		}
		out = append(out, item)
	}
	return out
}

var _ attrs = jsonObject(nil)
