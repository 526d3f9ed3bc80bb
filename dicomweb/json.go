package dicomweb

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// maxSequenceDepth bounds the nesting of sequences when decoding. Real data
// sets nest a few levels; the bound keeps hostile input cheap.
const maxSequenceDepth = 64

// Dataset is a DICOM data set in the DICOM JSON Model (PS3.18 F.2), keyed by
// tag as 8 uppercase hexadecimal digits, for example "0020000D". The helper
// methods take a tag in that form or as "(0020,000D)" or "0020,000d".
type Dataset map[string]*Attribute

// Attribute is one attribute of a [Dataset] (PS3.18 F.2.2). The standard
// allows at most one of Value, BulkDataURI and InlineBinary; decoding keeps
// and encoding writes whichever are present.
type Attribute struct {
	// VR is the Value Representation, for example "UI" or "SQ".
	VR string
	// Value holds the values (PS3.18 F.2.3), one of these types each:
	// string for text VRs, AT, and IS, DS, SV or UV sent as strings;
	// float64 for numbers, int64 for SV and uint64 for UV; [PersonName] for
	// PN; [Dataset] for the items of SQ; nil for an empty value.
	Value []any
	// BulkDataURI refers to the value held elsewhere (PS3.18 F.2.6).
	BulkDataURI string
	// InlineBinary is the value in base64 (PS3.18 F.2.7).
	InlineBinary string
}

// PersonName is a PN value (PS3.18 F.2.2): its component groups, each in
// the caret-separated form of PS3.5 6.2.
type PersonName struct {
	// Alphabetic is the single-byte group, for example "Doe^John".
	Alphabetic string `json:"Alphabetic,omitempty"`
	// Ideographic is the ideographic group, for example "王^小東".
	Ideographic string `json:"Ideographic,omitempty"`
	// Phonetic is the phonetic group.
	Phonetic string `json:"Phonetic,omitempty"`
}

// String returns the first non-empty component group of n.
func (n PersonName) String() string {
	switch {
	case n.Alphabetic != "":
		return n.Alphabetic
	case n.Ideographic != "":
		return n.Ideographic
	}
	return n.Phonetic
}

// Attr returns the attribute of tag, or nil.
func (d Dataset) Attr(tag string) *Attribute {
	if d == nil {
		return nil
	}
	if a, ok := d[tag]; ok {
		return a
	}
	return d[normTag(tag)]
}

// Set puts an attribute with the given VR and values into d, replacing any.
func (d Dataset) Set(tag, vr string, values ...any) {
	d[normTag(tag)] = &Attribute{VR: vr, Value: values}
}

// String returns the first value of tag as text: a number in its shortest
// decimal form, a person name by its first non-empty component group. It
// returns "" when the attribute is absent or empty, or for a sequence.
func (d Dataset) String(tag string) string {
	a := d.Attr(tag)
	if a == nil || len(a.Value) == 0 {
		return ""
	}
	s, _ := valueString(a.Value[0])
	return s
}

// Strings returns the values of tag as text, as [Dataset.String] renders
// each; an empty value is "". It returns nil when the attribute is absent.
func (d Dataset) Strings(tag string) []string {
	a := d.Attr(tag)
	if a == nil || len(a.Value) == 0 {
		return nil
	}
	out := make([]string, len(a.Value))
	for i, v := range a.Value {
		out[i], _ = valueString(v)
	}
	return out
}

// Float64s returns the values of tag as numbers, whether they came as JSON
// numbers or as decimal strings (IS and DS may come either way). It returns
// nil when the attribute is absent, empty, or has a value that is not a
// number.
func (d Dataset) Float64s(tag string) []float64 {
	a := d.Attr(tag)
	if a == nil || len(a.Value) == 0 {
		return nil
	}
	out := make([]float64, len(a.Value))
	for i, v := range a.Value {
		f, ok := valueFloat(v)
		if !ok {
			return nil
		}
		out[i] = f
	}
	return out
}

// Int returns the first value of tag as an int. It reports false when the
// attribute is absent or empty or the value is not an integer.
func (d Dataset) Int(tag string) (int, bool) {
	a := d.Attr(tag)
	if a == nil || len(a.Value) == 0 {
		return 0, false
	}
	return valueInt(a.Value[0])
}

// Ints returns the values of tag as ints. It returns nil when the attribute
// is absent or empty or a value is not an integer.
func (d Dataset) Ints(tag string) []int {
	a := d.Attr(tag)
	if a == nil || len(a.Value) == 0 {
		return nil
	}
	out := make([]int, len(a.Value))
	for i, v := range a.Value {
		n, ok := valueInt(v)
		if !ok {
			return nil
		}
		out[i] = n
	}
	return out
}

// Sequence returns the items of the sequence tag, or nil when it is absent,
// empty or not a sequence.
func (d Dataset) Sequence(tag string) []Dataset {
	a := d.Attr(tag)
	if a == nil {
		return nil
	}
	var out []Dataset
	for _, v := range a.Value {
		if item, ok := v.(Dataset); ok {
			out = append(out, item)
		}
	}
	return out
}

func valueString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case PersonName:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case int:
		return strconv.Itoa(v), true
	}
	return "", false
}

func valueFloat(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case uint64:
		return float64(v), true
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return f, err == nil && !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	return 0, false
}

func valueInt(v any) (int, bool) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, false
		}
		return int(v), true
	case int64:
		return int(v), int64(int(v)) == v
	case uint64:
		return int(v), v <= math.MaxInt
	case int:
		return v, true
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(v, "+")))
		return n, err == nil
	}
	return 0, false
}

// normTag returns tag as 8 uppercase hexadecimal digits, accepting the
// forms "(gggg,eeee)" and "gggg,eeee" in any case. Other input comes back
// uppercased.
func normTag(tag string) string {
	if isTag(tag) {
		return tag
	}
	t := strings.NewReplacer("(", "", ")", "", ",", "", " ", "").Replace(tag)
	return strings.ToUpper(t)
}

// isTag reports whether s is 8 uppercase hexadecimal digits.
func isTag(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < 8; i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// DecodeDatasets decodes a JSON array of data sets, as QIDO-RS answers and
// WADO-RS metadata are (PS3.18 F.2.1.1). An empty body gives no data sets
// and no error. Malformed input gives an error wrapping [ErrMalformedJSON].
func DecodeDatasets(r io.Reader) ([]Dataset, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()

	tok, err := dec.Token()
	if err == io.EOF {
		return nil, nil
	}
	if err != nil {
		return nil, malformedJSON(err)
	}
	if tok != json.Delim('[') {
		return nil, fmt.Errorf("%w: want an array of data sets, got %v", ErrMalformedJSON, tok)
	}

	var out []Dataset
	for dec.More() {
		var raw any
		if err := dec.Decode(&raw); err != nil {
			return nil, malformedJSON(err)
		}
		ds, err := datasetFrom(raw, 0)
		if err != nil {
			return nil, fmt.Errorf("%w: data set %d: %w", ErrMalformedJSON, len(out), err)
		}
		out = append(out, ds)
	}
	if _, err := dec.Token(); err != nil {
		return nil, malformedJSON(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the array", ErrMalformedJSON)
	}
	return out, nil
}

// malformedJSON wraps a decoding error; a cut body is io.ErrUnexpectedEOF.
func malformedJSON(err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("%w: %w", ErrMalformedJSON, err)
}

// DecodeDataset decodes one data set (a JSON object) from data.
func DecodeDataset(data []byte) (Dataset, error) {
	var ds Dataset
	if err := json.Unmarshal(data, &ds); err != nil {
		return nil, err
	}
	return ds, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Dataset) UnmarshalJSON(data []byte) error {
	raw, err := decodeGeneric(data)
	if err != nil {
		return err
	}
	ds, err := datasetFrom(raw, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedJSON, err)
	}
	*d = ds
	return nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (a *Attribute) UnmarshalJSON(data []byte) error {
	raw, err := decodeGeneric(data)
	if err != nil {
		return err
	}
	attr, err := attributeFrom(raw, 0)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrMalformedJSON, err)
	}
	*a = *attr
	return nil
}

// decodeGeneric decodes JSON into maps, slices and json.Number values; the
// DICOM model is then built from that tree in one bounded pass.
func decodeGeneric(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, malformedJSON(err)
	}
	return raw, nil
}

func datasetFrom(raw any, depth int) (Dataset, error) {
	if depth > maxSequenceDepth {
		return nil, fmt.Errorf("sequences nested deeper than %d", maxSequenceDepth)
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("data set is %s, want an object", jsonKind(raw))
	}

	ds := make(Dataset, len(obj))
	for key, v := range obj {
		tag := strings.ToUpper(key)
		if !isTag(tag) {
			return nil, fmt.Errorf("key %q is not a tag of 8 hexadecimal digits", clipString(key))
		}
		if _, dup := ds[tag]; dup {
			return nil, fmt.Errorf("tag %s appears twice", tag)
		}
		a, err := attributeFrom(v, depth)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", tag, err)
		}
		ds[tag] = a
	}
	return ds, nil
}

func attributeFrom(raw any, depth int) (*Attribute, error) {
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("attribute is %s, want an object", jsonKind(raw))
	}

	a := &Attribute{}
	for key, v := range obj {
		var ok bool
		switch key {
		case "vr":
			a.VR, ok = v.(string)
		case "BulkDataURI":
			a.BulkDataURI, ok = v.(string)
		case "InlineBinary":
			a.InlineBinary, ok = v.(string)
		case "Value":
			// Read after vr, below.
			ok = true
		default:
			// Other members are not in the model; ignore them.
			ok = true
		}
		if !ok {
			return nil, fmt.Errorf("member %q is %s, want a string", key, jsonKind(v))
		}
	}

	rawValue, has := obj["Value"]
	if !has || rawValue == nil {
		return a, nil
	}
	values, ok := rawValue.([]any)
	if !ok {
		return nil, fmt.Errorf("Value is %s, want an array", jsonKind(rawValue))
	}
	if len(values) == 0 {
		return a, nil
	}
	a.Value = make([]any, len(values))
	for i, v := range values {
		val, err := valueFrom(a.VR, v, depth)
		if err != nil {
			return nil, fmt.Errorf("value %d: %w", i, err)
		}
		a.Value[i] = val
	}
	return a, nil
}

// valueFrom converts one element of a Value array according to the VR
// (PS3.18 F.2.3).
func valueFrom(vr string, v any, depth int) (any, error) {
	if v == nil {
		return nil, nil
	}

	switch vr {
	case "SQ":
		return datasetFrom(v, depth+1)
	case "PN":
		return personNameFrom(v)
	}

	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return numberFrom(vr, v)
	case bool:
		return nil, errors.New("value is a boolean")
	}
	return nil, fmt.Errorf("value of VR %q is %s", vr, jsonKind(v))
}

func numberFrom(vr string, n json.Number) (any, error) {
	switch vr {
	case "SV":
		if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
			return i, nil
		}
	case "UV":
		if u, err := strconv.ParseUint(string(n), 10, 64); err == nil {
			return u, nil
		}
	}
	f, err := strconv.ParseFloat(string(n), 64)
	if err != nil {
		return nil, fmt.Errorf("number %s out of range", clipString(string(n)))
	}
	return f, nil
}

func personNameFrom(v any) (any, error) {
	switch v := v.(type) {
	case string:
		// Not the standard's form, but some servers send it.
		return PersonName{Alphabetic: v}, nil
	case map[string]any:
		var pn PersonName
		for key, c := range v {
			s, ok := c.(string)
			if !ok && c != nil {
				return nil, fmt.Errorf("person name group %q is %s", key, jsonKind(c))
			}
			switch key {
			case "Alphabetic":
				pn.Alphabetic = s
			case "Ideographic":
				pn.Ideographic = s
			case "Phonetic":
				pn.Phonetic = s
			}
		}
		return pn, nil
	}
	return nil, fmt.Errorf("person name is %s, want an object", jsonKind(v))
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

func clipString(s string) string {
	const n = 40
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// MarshalJSON implements json.Marshaler, in the form of PS3.18 F.2.2.
func (a *Attribute) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"vr":`)
	writeJSONString(&b, a.VR)

	if len(a.Value) > 0 {
		b.WriteString(`,"Value":[`)
		for i, v := range a.Value {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeValue(&b, v); err != nil {
				return nil, err
			}
		}
		b.WriteByte(']')
	}
	if a.BulkDataURI != "" {
		b.WriteString(`,"BulkDataURI":`)
		writeJSONString(&b, a.BulkDataURI)
	}
	if a.InlineBinary != "" {
		b.WriteString(`,"InlineBinary":`)
		writeJSONString(&b, a.InlineBinary)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func writeValue(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, v)
	case float64:
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return fmt.Errorf("value %v has no JSON form", v)
		}
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(v, 10))
	case int:
		b.WriteString(strconv.Itoa(v))
	case json.Number:
		b.WriteString(v.String())
	case PersonName, Dataset:
		data, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(data)
	default:
		return fmt.Errorf("value of type %T has no DICOM JSON form", v)
	}
	return nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	data, _ := json.Marshal(s)
	b.Write(data)
}
