package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Tags the tests read from DICOM JSON answers, as 8 upper-case hex digits
// (PS3.18 F.2.1.1). Keywords are those of PS3.6.
const (
	TagModality                 = "00080060"
	TagStudyDescription         = "00081030"
	TagSeriesDescription        = "0008103E"
	TagRetrieveURL              = "00081190"
	TagFailedSOPSequence        = "00081198"
	TagReferencedSOPSequence    = "00081199"
	TagFailureReason            = "00081197"
	TagWarningReason            = "00081196"
	TagOtherFailuresSequence    = "0008119A"
	TagReferencedSOPClassUID    = "00081150"
	TagReferencedSOPInstanceUID = "00081155"
	TagSOPInstanceUID           = "00080018"
	TagStudyInstanceUID         = "0020000D"
	TagSeriesInstanceUID        = "0020000E"
)

// Dataset is one object of the DICOM JSON Model (PS3.18 F.2): attributes
// keyed by tag.
type Dataset map[string]Attribute

// Attribute is one attribute of a [Dataset].
type Attribute struct {
	// VR is the Value Representation (PS3.5 6.2).
	VR string `json:"vr"`
	// Value holds the values undecoded; empty when the attribute has none.
	Value []json.RawMessage `json:"Value,omitempty"`
	// BulkDataURI is where a retrieval gets the value (PS3.18 F.2.6).
	BulkDataURI string `json:"BulkDataURI,omitempty"`
}

// DecodeDatasets decodes a DICOM JSON array of objects, or one object.
func DecodeDatasets(data []byte) ([]Dataset, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, errors.New("decoding DICOM JSON: empty body")
	}
	if data[0] == '{' {
		var d Dataset
		if err := json.Unmarshal(data, &d); err != nil {
			return nil, fmt.Errorf("decoding DICOM JSON object: %w", err)
		}
		return []Dataset{d}, nil
	}
	var ds []Dataset
	if err := json.Unmarshal(data, &ds); err != nil {
		return nil, fmt.Errorf("decoding DICOM JSON array: %w", err)
	}
	return ds, nil
}

// Has reports whether the attribute is present, with or without a value.
func (d Dataset) Has(tag string) bool {
	_, ok := d[strings.ToUpper(tag)]
	return ok
}

// Strings are the attribute's values as text: strings as they are,
// numbers in their JSON form, person names by their Alphabetic group.
// Absent attributes and null values give nothing.
func (d Dataset) Strings(tag string) []string {
	var out []string
	for _, raw := range d[strings.ToUpper(tag)].Value {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			out = append(out, s)
			continue
		}
		var pn struct{ Alphabetic string }
		if json.Unmarshal(raw, &pn) == nil && pn.Alphabetic != "" {
			out = append(out, pn.Alphabetic)
			continue
		}
		if string(raw) != "null" {
			out = append(out, string(raw))
		}
	}
	return out
}

// String is the first value as text, or "".
func (d Dataset) String(tag string) string {
	if s := d.Strings(tag); len(s) > 0 {
		return s[0]
	}
	return ""
}

// Int is the first value as an integer; ok is false when there is none or
// it is not a number.
func (d Dataset) Int(tag string) (n int, ok bool) {
	v := d.Strings(tag)
	if len(v) == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(v[0])
	return n, err == nil
}

// Items are the items of a sequence attribute.
func (d Dataset) Items(tag string) []Dataset {
	var out []Dataset
	for _, raw := range d[strings.ToUpper(tag)].Value {
		var item Dataset
		if json.Unmarshal(raw, &item) == nil {
			out = append(out, item)
		}
	}
	return out
}
