package dicomweb

import "io"

// Dataset is a DICOM data set in the DICOM JSON Model (PS3.18 F.2), keyed by
// tag as 8 uppercase hexadecimal digits, for example "0020000D".
type Dataset map[string]*Attribute

// Attribute is one attribute of a [Dataset] (PS3.18 F.2.2).
type Attribute struct {
	// VR is the Value Representation, for example "UI" or "SQ".
	VR string
	// Value holds the values: string for text VRs, float64 for numbers,
	// [PersonName] for PN, [Dataset] for SQ items, nil for an empty value.
	Value []any
	// BulkDataURI refers to the value held elsewhere (PS3.18 F.2.6).
	BulkDataURI string
	// InlineBinary is the value in base64 (PS3.18 F.2.7).
	InlineBinary string
}

// PersonName is a PN value (PS3.18 F.2.2).
type PersonName struct {
	Alphabetic  string `json:"Alphabetic,omitempty"`
	Ideographic string `json:"Ideographic,omitempty"`
	Phonetic    string `json:"Phonetic,omitempty"`
}

// String returns the first value of tag as a string, or "".
func (d Dataset) String(tag string) string { return "" }

// Strings returns the values of tag as strings.
func (d Dataset) Strings(tag string) []string { return nil }

// Float64s returns the values of tag as numbers.
func (d Dataset) Float64s(tag string) []float64 { return nil }

// Int returns the first value of tag as an int.
func (d Dataset) Int(tag string) (int, bool) { return 0, false }

// Ints returns the values of tag as ints.
func (d Dataset) Ints(tag string) []int { return nil }

// Sequence returns the items of the sequence tag.
func (d Dataset) Sequence(tag string) []Dataset { return nil }

// DecodeDatasets decodes a JSON array of data sets.
func DecodeDatasets(r io.Reader) ([]Dataset, error) { return nil, nil }
