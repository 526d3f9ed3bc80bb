package dicomweb

import (
	"bytes"
	"encoding/json"
	"encoding/xml"

	"fmt"
	"io"
	"slices"

	"strings"
)

// Tags of the Store Instances Response Module (PS3.18 Table I.1-1) and of
// the SOP Instance Reference Macro (PS3.3 Table 10-11).
const (
	TagRetrieveURL              = "00081190"
	TagFailedSOPSequence        = "00081198"
	TagReferencedSOPSequence    = "00081199"
	TagOtherFailuresSequence    = "0008119A"
	TagReferencedSOPClassUID    = "00081150"
	TagReferencedSOPInstanceUID = "00081155"
	TagFailureReason            = "00081197"
	TagWarningReason            = "00081196"
)

// maxStoreResponse bounds the STOW-RS answer [ParseStoreResponse] reads, in
// bytes. An answer lists every instance of a request in a few hundred bytes
// each, so 64 MiB covers well over 100000 instances.
const maxStoreResponse = 64 << 20

// StoreResponse is the Store Instances Response Module (PS3.18 10.5.3 and
// Annex I), the body of a STOW-RS answer.
type StoreResponse struct {
	// RetrieveURL is Retrieve URL (0008,1190) of the study; empty when the
	// server gave none.
	RetrieveURL string
	// Referenced is Referenced SOP Sequence (0008,1199): the instances
	// stored.
	Referenced []ReferencedSOP
	// Failed is Failed SOP Sequence (0008,1198): the instances not stored.
	Failed []FailedSOP
	// Other is Other Failures Sequence (0008,119A, PS3.6): failures not tied
	// to one SOP Instance, such as a part that is not a DICOM file. Its
	// items carry a Failure Reason, and UIDs when known.
	Other []FailedSOP
}

// ReferencedSOP is an item of Referenced SOP Sequence (0008,1199).
type ReferencedSOP struct {
	// SOPClassUID is Referenced SOP Class UID (0008,1150).
	SOPClassUID string
	// SOPInstanceUID is Referenced SOP Instance UID (0008,1155).
	SOPInstanceUID string
	// RetrieveURL is Retrieve URL (0008,1190) of the instance.
	RetrieveURL string
	// WarningReason is Warning Reason (0008,1196); 0 if none.
	WarningReason int
}

// FailedSOP is an item of Failed SOP Sequence (0008,1198) or of Other
// Failures Sequence (0008,119A).
type FailedSOP struct {
	// SOPClassUID is Referenced SOP Class UID (0008,1150).
	SOPClassUID string
	// SOPInstanceUID is Referenced SOP Instance UID (0008,1155).
	SOPInstanceUID string
	// FailureReason is Failure Reason (0008,1197); see failure.go.
	FailureReason int
	// Comment says why, in words, for the gateway's Warning header and
	// logs. No standard attribute of the answer carries it, so it is not
	// encoded.
	Comment string
}

// ParseStoreResponse parses the body of a STOW-RS answer, in DICOM JSON
// (PS3.18 F.2) or in the Native DICOM Model (PS3.19 A.1), as contentType
// says. Without a usable Content-Type, as in Orthanc's error answers, the
// form is guessed from the first character. An empty body gives an empty
// response and no error. Members that are not tags, as in Orthanc's
// {"HttpError": ...} bodies, are ignored, as is an array around the data
// set. A malformed body gives an error wrapping [ErrMalformedJSON] or
// [ErrMalformedXML].
func ParseStoreResponse(body io.Reader, contentType string) (*StoreResponse, error) {
	data, err := io.ReadAll(io.LimitReader(body, maxStoreResponse+1))
	if err != nil {
		return nil, fmt.Errorf("reading STOW-RS answer: %w", err)
	}
	if len(data) > maxStoreResponse {
		return nil, fmt.Errorf("%w: STOW-RS answer over %d bytes", ErrMalformedJSON,
			maxStoreResponse)
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return &StoreResponse{}, nil
	}

	var ds Dataset
	switch responseForm(contentType, data[0]) {
	case "json":
		ds, err = storeDatasetFromJSON(data)
	case "xml":
		ds, err = DecodeNativeXML(bytes.NewReader(data))
	default:
		return nil, fmt.Errorf("%w: STOW-RS answer of type %q", ErrUnsupportedMediaType,
			contentType)
	}
	if err != nil {
		return nil, err
	}
	return storeResponseFrom(ds), nil
}

// responseForm tells "json", "xml" or "" from a Content-Type and the first
// byte of the body.
func responseForm(contentType string, first byte) string {
	typ, _, _ := parseMediaType(contentType)
	switch {
	case typ == "application/dicom+json" || typ == "application/json":
		return "json"
	case typ == "application/dicom+xml" || strings.HasSuffix(typ, "/xml"):
		return "xml"
	case typ != "" && typ != "text/plain" && typ != "application/octet-stream":
		return ""
	}
	switch first {
	case '{', '[':
		return "json"
	case '<':
		return "xml"
	}
	return ""
}

// storeDatasetFromJSON decodes the data set of a JSON answer, skipping
// members that are not tags.
func storeDatasetFromJSON(data []byte) (Dataset, error) {
	raw, err := decodeGeneric(data)
	if err != nil {
		return nil, err
	}
	if arr, ok := raw.([]any); ok {
		if len(arr) == 0 {
			return Dataset{}, nil
		}
		raw = arr[0]
	}
	obj, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: STOW-RS answer is %s", ErrMalformedJSON, jsonKind(raw))
	}
	for k := range obj {
		if !isTag(strings.ToUpper(k)) {
			delete(obj, k)
		}
	}
	ds, err := datasetFrom(obj, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedJSON, err)
	}
	return ds, nil
}

func storeResponseFrom(ds Dataset) *StoreResponse {
	r := &StoreResponse{RetrieveURL: ds.String(TagRetrieveURL)}
	for _, it := range ds.Sequence(TagReferencedSOPSequence) {
		warn, _ := it.Int(TagWarningReason)
		r.Referenced = append(r.Referenced, ReferencedSOP{
			SOPClassUID:    it.String(TagReferencedSOPClassUID),
			SOPInstanceUID: it.String(TagReferencedSOPInstanceUID),
			RetrieveURL:    it.String(TagRetrieveURL),
			WarningReason:  warn,
		})
	}
	r.Failed = failedFrom(ds.Sequence(TagFailedSOPSequence))
	r.Other = failedFrom(ds.Sequence(TagOtherFailuresSequence))
	return r
}

func failedFrom(items []Dataset) []FailedSOP {
	var out []FailedSOP
	for _, it := range items {
		reason, _ := it.Int(TagFailureReason)
		out = append(out, FailedSOP{
			SOPClassUID:    it.String(TagReferencedSOPClassUID),
			SOPInstanceUID: it.String(TagReferencedSOPInstanceUID),
			FailureReason:  reason,
		})
	}
	return out
}

// Dataset returns r as a data set of the Store Instances Response Module
// (PS3.18 Table I.1-1). Retrieve URL is type 2 and always present; the
// sequences are present when they have items. Comments are left out.
func (r *StoreResponse) Dataset() Dataset {
	ds := Dataset{TagRetrieveURL: stringAttr("UR", r.RetrieveURL)}

	if len(r.Referenced) > 0 {
		items := make([]any, len(r.Referenced))
		for i, ref := range r.Referenced {
			it := Dataset{
				TagReferencedSOPClassUID:    stringAttr("UI", ref.SOPClassUID),
				TagReferencedSOPInstanceUID: stringAttr("UI", ref.SOPInstanceUID),
				TagRetrieveURL:              stringAttr("UR", ref.RetrieveURL),
			}
			if ref.WarningReason != 0 {
				it.Set(TagWarningReason, "US", ref.WarningReason)
			}
			items[i] = it
		}
		ds[TagReferencedSOPSequence] = &Attribute{VR: "SQ", Value: items}
	}
	if len(r.Failed) > 0 {
		ds[TagFailedSOPSequence] = &Attribute{VR: "SQ", Value: failedItems(r.Failed)}
	}
	if len(r.Other) > 0 {
		ds[TagOtherFailuresSequence] = &Attribute{VR: "SQ", Value: failedItems(r.Other)}
	}
	return ds
}

func failedItems(failed []FailedSOP) []any {
	items := make([]any, len(failed))
	for i, f := range failed {
		it := Dataset{TagFailureReason: {VR: "US", Value: []any{f.FailureReason}}}
		if f.SOPClassUID != "" || f.SOPInstanceUID != "" {
			it[TagReferencedSOPClassUID] = stringAttr("UI", f.SOPClassUID)
			it[TagReferencedSOPInstanceUID] = stringAttr("UI", f.SOPInstanceUID)
		}
		items[i] = it
	}
	return items
}

// stringAttr returns an attribute with one value, or none when s is empty.
func stringAttr(vr, s string) *Attribute {
	if s == "" {
		return &Attribute{VR: vr}
	}
	return &Attribute{VR: vr, Value: []any{s}}
}

// MarshalDICOMJSON encodes r as a DICOM JSON object (PS3.18 F.2), the body
// of an application/dicom+json answer.
func (r *StoreResponse) MarshalDICOMJSON() ([]byte, error) {
	data, err := json.Marshal(r.Dataset())
	if err != nil {
		return nil, fmt.Errorf("encoding STOW-RS answer: %w", err)
	}
	return data, nil
}

// MarshalDICOMXML encodes r in the Native DICOM Model (PS3.19 A.1), the body
// of an application/dicom+xml answer.
func (r *StoreResponse) MarshalDICOMXML() ([]byte, error) {
	data, err := EncodeNativeXML(r.Dataset())
	if err != nil {
		return nil, fmt.Errorf("encoding STOW-RS answer: %w", err)
	}
	return data, nil
}

// RewriteURLs replaces every Retrieve URL of r by f of it, for example to
// make the upstream's URLs point at a gateway.
func (r *StoreResponse) RewriteURLs(f func(string) string) {
	if r.RetrieveURL != "" {
		r.RetrieveURL = f(r.RetrieveURL)
	}
	for i := range r.Referenced {
		if r.Referenced[i].RetrieveURL != "" {
			r.Referenced[i].RetrieveURL = f(r.Referenced[i].RetrieveURL)
		}
	}
}

// Status returns the HTTP status of r as an answer: [StatusFor] of its
// stored instances and its failures of both sequences.
func (r *StoreResponse) Status() int {
	return StatusFor(len(r.Referenced), len(r.Failed)+len(r.Other))
}

// nativeDICOMNamespace is the XML namespace of PS3.19 A.1.
const nativeDICOMNamespace = "http://dicom.nema.org/PS3.19/models/NativeDICOM"

// keywords names the attributes this package writes, for the optional
// keyword attribute of the Native DICOM Model.
var keywords = map[string]string{
	TagRetrieveURL:              "RetrieveURL",
	TagFailedSOPSequence:        "FailedSOPSequence",
	TagReferencedSOPSequence:    "ReferencedSOPSequence",
	TagOtherFailuresSequence:    "OtherFailuresSequence",
	TagReferencedSOPClassUID:    "ReferencedSOPClassUID",
	TagReferencedSOPInstanceUID: "ReferencedSOPInstanceUID",
	TagFailureReason:            "FailureReason",
	TagWarningReason:            "WarningReason",
}

// EncodeNativeXML encodes a data set in the Native DICOM Model (PS3.19 A.1),
// attributes in tag order. It writes text, numbers, sequences, person names
// (their Alphabetic group only), BulkData and InlineBinary.
func EncodeNativeXML(ds Dataset) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString(`<NativeDicomModel xmlns="` + nativeDICOMNamespace + `">` + "\n")
	if err := writeNativeAttrs(&b, ds, 1); err != nil {
		return nil, err
	}
	b.WriteString("</NativeDicomModel>\n")
	return b.Bytes(), nil
}

func writeNativeAttrs(b *bytes.Buffer, ds Dataset, depth int) error {
	if depth > maxSequenceDepth {
		return fmt.Errorf("sequences nested deeper than %d", maxSequenceDepth)
	}
	tags := make([]string, 0, len(ds))
	for t := range ds {
		tags = append(tags, t)
	}
	slices.Sort(tags)

	indent := strings.Repeat("  ", depth)
	for _, tag := range tags {
		a := ds[tag]
		if a == nil {
			continue
		}
		fmt.Fprintf(b, `%s<DicomAttribute tag="%s" vr="%s"`, indent, tag, xmlEscape(a.VR))
		if kw, ok := keywords[tag]; ok {
			fmt.Fprintf(b, ` keyword="%s"`, kw)
		}
		if len(a.Value) == 0 && a.BulkDataURI == "" && a.InlineBinary == "" {
			b.WriteString("/>\n")
			continue
		}
		b.WriteString(">\n")
		if err := writeNativeValues(b, a, depth+1); err != nil {
			return fmt.Errorf("%s: %w", tag, err)
		}
		b.WriteString(indent + "</DicomAttribute>\n")
	}
	return nil
}

func writeNativeValues(b *bytes.Buffer, a *Attribute, depth int) error {
	indent := strings.Repeat("  ", depth)
	if a.BulkDataURI != "" {
		fmt.Fprintf(b, "%s<BulkData uri=\"%s\"/>\n", indent, xmlEscape(a.BulkDataURI))
	}
	if a.InlineBinary != "" {
		fmt.Fprintf(b, "%s<InlineBinary>%s</InlineBinary>\n", indent, xmlEscape(a.InlineBinary))
	}

	for i, v := range a.Value {
		n := i + 1
		switch v := v.(type) {
		case Dataset:
			fmt.Fprintf(b, "%s<Item number=\"%d\">\n", indent, n)
			if err := writeNativeAttrs(b, v, depth+1); err != nil {
				return err
			}
			fmt.Fprintf(b, "%s</Item>\n", indent)
		case PersonName:
			fmt.Fprintf(b, "%s<PersonName number=\"%d\">%s</PersonName>\n", indent, n,
				nativePersonName(v.Alphabetic))
		case nil:
			fmt.Fprintf(b, "%s<Value number=\"%d\"/>\n", indent, n)
		default:
			s, ok := valueString(v)
			if !ok {
				return fmt.Errorf("value of type %T has no XML form", v)
			}
			fmt.Fprintf(b, "%s<Value number=\"%d\">%s</Value>\n", indent, n, xmlEscape(s))
		}
	}
	return nil
}

// pnComponents are the elements of a person name group in PS3.19 A.1, in
// the order of the components of PS3.5 6.2.
var pnComponents = []string{"FamilyName", "GivenName", "MiddleName", "NamePrefix", "NameSuffix"}

// nativePersonName writes the Alphabetic group of a person name.
func nativePersonName(alphabetic string) string {
	if alphabetic == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("<Alphabetic>")
	for i, c := range strings.SplitN(alphabetic, "^", len(pnComponents)) {
		if c != "" {
			fmt.Fprintf(&b, "<%s>%s</%s>", pnComponents[i], xmlEscape(c), pnComponents[i])
		}
	}
	b.WriteString("</Alphabetic>")
	return b.String()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// nativeAttr, nativeValue and nativeItem are the parts of the Native DICOM
// Model that [DecodeNativeXML] reads.
type nativeAttr struct {
	Tag          string        `xml:"tag,attr"`
	VR           string        `xml:"vr,attr"`
	Values       []nativeValue `xml:"Value"`
	Items        []nativeItem  `xml:"Item"`
	PersonNames  []nativePN    `xml:"PersonName"`
	BulkData     *nativeBulk   `xml:"BulkData"`
	InlineBinary string        `xml:"InlineBinary"`
}

type nativeValue struct {
	Number int    `xml:"number,attr"`
	Text   string `xml:",chardata"`
}

type nativeItem struct {
	Number int          `xml:"number,attr"`
	Attrs  []nativeAttr `xml:"DicomAttribute"`
}

type nativePN struct {
	Number     int `xml:"number,attr"`
	Alphabetic *struct {
		Family string `xml:"FamilyName"`
		Given  string `xml:"GivenName"`
		Middle string `xml:"MiddleName"`
		Prefix string `xml:"NamePrefix"`
		Suffix string `xml:"NameSuffix"`
	} `xml:"Alphabetic"`
}

type nativeBulk struct {
	URI string `xml:"uri,attr"`
}

// DecodeNativeXML decodes a data set in the Native DICOM Model (PS3.19 A.1).
// Numbers are kept as text (the accessors of [Dataset] read both); person
// names keep their Alphabetic group only. Errors wrap [ErrMalformedXML].
func DecodeNativeXML(r io.Reader) (Dataset, error) {
	var model struct {
		XMLName xml.Name     `xml:"NativeDicomModel"`
		Attrs   []nativeAttr `xml:"DicomAttribute"`
	}
	dec := xml.NewDecoder(r)
	if err := dec.Decode(&model); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedXML, err)
	}
	ds, err := datasetFromNative(model.Attrs, 0)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedXML, err)
	}
	return ds, nil
}

func datasetFromNative(attrs []nativeAttr, depth int) (Dataset, error) {
	if depth > maxSequenceDepth {
		return nil, fmt.Errorf("sequences nested deeper than %d", maxSequenceDepth)
	}
	ds := make(Dataset, len(attrs))
	for _, na := range attrs {
		tag := strings.ToUpper(na.Tag)
		if !isTag(tag) {
			return nil, fmt.Errorf("tag %q is not 8 hexadecimal digits", clipString(na.Tag))
		}
		a := &Attribute{VR: na.VR, InlineBinary: strings.TrimSpace(na.InlineBinary)}
		if na.BulkData != nil {
			a.BulkDataURI = na.BulkData.URI
		}

		switch {
		case na.VR == "SQ":
			// Orthanc 1.10 writes a stray empty Value into sequences; only
			// items count.
			for _, it := range sortedItems(na.Items) {
				item, err := datasetFromNative(it.Attrs, depth+1)
				if err != nil {
					return nil, err
				}
				a.Value = append(a.Value, item)
			}
		case na.VR == "PN":
			for _, pn := range na.PersonNames {
				a.Value = append(a.Value, personNameFromNative(pn))
			}
		default:
			vals := slices.Clone(na.Values)
			slices.SortStableFunc(vals, func(x, y nativeValue) int { return x.Number - y.Number })
			for _, v := range vals {
				a.Value = append(a.Value, v.Text)
			}
		}
		ds[tag] = a
	}
	return ds, nil
}

func sortedItems(items []nativeItem) []nativeItem {
	out := slices.Clone(items)
	slices.SortStableFunc(out, func(x, y nativeItem) int { return x.Number - y.Number })
	return out
}

func personNameFromNative(pn nativePN) PersonName {
	if pn.Alphabetic == nil {
		return PersonName{}
	}
	a := pn.Alphabetic
	parts := []string{a.Family, a.Given, a.Middle, a.Prefix, a.Suffix}
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return PersonName{Alphabetic: strings.Join(parts, "^")}
}
