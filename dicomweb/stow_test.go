package dicomweb

import (
	"bytes"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// UIDs of the CT images of the dcmqi-ct-liver-binary case, as its MANIFEST
// lists them.
const (
	ctStudyUID  = "1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1"
	ctSeriesUID = "1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"
	ctSOP1      = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23431.1"
	ctSOP2      = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23432.1"
	ctSOP3      = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1"
	ctImageSOP  = "1.2.840.10008.5.1.4.1.1.2"
)

func TestParseStoreResponse(t *testing.T) {
	studyURL := "http://127.0.0.1:8042/dicom-web/studies/" + ctStudyUID
	instURL := func(sop string) string {
		return studyURL + "/series/" + ctSeriesUID + "/instances/" + sop
	}
	stored1 := &StoreResponse{
		RetrieveURL: studyURL,
		Referenced:  []ReferencedSOP{{ctImageSOP, ctSOP1, instURL(ctSOP1), 0}},
	}
	tests := []struct {
		name        string
		file, body  string
		contentType string
		want        *StoreResponse
		wantErr     error
	}{
		{name: "orthanc 200", file: "orthanc-stow-200.json",
			contentType: "application/dicom+json", want: stored1},
		{name: "orthanc 200 xml", file: "orthanc-stow-200.xml",
			contentType: "application/dicom+xml", want: stored1},
		{name: "orthanc 200 sniffed", file: "orthanc-stow-200.json", want: stored1},
		{name: "orthanc 200 xml sniffed", file: "orthanc-stow-200.xml", want: stored1},
		{name: "orthanc 400 not DICOM", file: "orthanc-stow-400-not-dicom.json",
			want: &StoreResponse{}},
		{
			name: "orthanc 400 mix", file: "orthanc-stow-400-mix.json",
			want: &StoreResponse{
				RetrieveURL: studyURL,
				Referenced:  []ReferencedSOP{{ctImageSOP, ctSOP2, instURL(ctSOP2), 0}},
			},
		},
		{
			name: "orthanc 409 other study", file: "orthanc-stow-409-other-study.json",
			want: &StoreResponse{Failed: []FailedSOP{{ctImageSOP, ctSOP1, 0x0110, ""}}},
		},
		{name: "orthanc 415 REST error", file: "orthanc-stow-415-no-type.json",
			want: &StoreResponse{}},
		{name: "empty", body: " \r\n", want: &StoreResponse{}},
		{
			name: "array, warning, other failures, lowercase tag",
			body: `[{"00081199":{"vr":"SQ","Value":[{"00081155":{"vr":"UI","Value":["1.5"]},` +
				`"00081196":{"vr":"US","Value":[45056]}}]},"0008119a":{"vr":"SQ","Value":` +
				`[{"00081197":{"vr":"US","Value":[49152]}}]}}]`,
			contentType: "application/json; charset=utf-8",
			want: &StoreResponse{
				Referenced: []ReferencedSOP{{SOPInstanceUID: "1.5", WarningReason: 0xB000}},
				Other:      []FailedSOP{{FailureReason: 0xC000}},
			},
		},
		{name: "plain text", body: "Internal Server Error", contentType: "text/plain",
			wantErr: ErrUnsupportedMediaType},
		{name: "html", body: "<html><body>Bad gateway</body></html>", contentType: "text/html",
			wantErr: ErrUnsupportedMediaType},
		{name: "cut JSON", body: `{"00081199":{"vr":"SQ","Val`, wantErr: ErrMalformedJSON},
		{name: "JSON string", body: `"x"`, contentType: "application/dicom+json",
			wantErr: ErrMalformedJSON},
		{name: "bad XML", body: `<NativeDicomModel><DicomAttribute tag="zz"/></NativeDicomModel>`,
			wantErr: ErrMalformedXML},
		{name: "XML of another root", body: `<html/>`, contentType: "application/dicom+xml",
			wantErr: ErrMalformedXML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if tt.file != "" {
				body = string(readTestdata(t, tt.file))
			}
			got, err := ParseStoreResponse(strings.NewReader(body), tt.contentType)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseStoreResponse() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseStoreResponse() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// sampleResponse has one item of every kind.
func sampleResponse() *StoreResponse {
	return &StoreResponse{
		RetrieveURL: "http://gw/dicom-web/studies/1.2",
		Referenced: []ReferencedSOP{
			{"1.2.840.10008.5.1.4.1.1.2", "1.2.3",
				"http://gw/dicom-web/studies/1.2/series/4/instances/1.2.3", 0},
			{"1.2.840.10008.5.1.4.1.1.2", "1.2.4", "", WarningCoercion},
		},
		Failed: []FailedSOP{{"1.2.840.10008.5.1.4.1.1.66.4", "1.2.5", FailureQCRejected, "why"}},
		Other: []FailedSOP{{FailureReason: FailureCannotUnderstand,
			Comment: "part 3 is not DICOM"}},
	}
}

func TestStoreResponseMarshalDICOMJSON(t *testing.T) {
	got, err := sampleResponse().MarshalDICOMJSON()
	if err != nil {
		t.Fatalf("MarshalDICOMJSON() = %v", err)
	}
	want := `{"00081190":{"vr":"UR","Value":["http://gw/dicom-web/studies/1.2"]},` +
		`"00081198":{"vr":"SQ","Value":[{` +
		`"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.66.4"]},` +
		`"00081155":{"vr":"UI","Value":["1.2.5"]},"00081197":{"vr":"US","Value":[49392]}}]},` +
		`"00081199":{"vr":"SQ","Value":[{` +
		`"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.2"]},` +
		`"00081155":{"vr":"UI","Value":["1.2.3"]},` +
		`"00081190":{"vr":"UR","Value":["http://gw/dicom-web/studies/1.2/series/4/instances/1.2.3"]}},{` +
		`"00081150":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.2"]},` +
		`"00081155":{"vr":"UI","Value":["1.2.4"]},"00081190":{"vr":"UR"},` +
		`"00081196":{"vr":"US","Value":[45056]}}]},` +
		`"0008119A":{"vr":"SQ","Value":[{"00081197":{"vr":"US","Value":[49152]}}]}}`
	if string(got) != want {
		t.Errorf("MarshalDICOMJSON() =\n%s\nwant\n%s", got, want)
	}

	back, err := ParseStoreResponse(bytes.NewReader(got), "application/dicom+json")
	if err != nil {
		t.Fatalf("ParseStoreResponse(MarshalDICOMJSON()) = %v", err)
	}
	wantBack := sampleResponse()
	wantBack.Failed[0].Comment, wantBack.Other[0].Comment = "", ""
	if diff := cmp.Diff(wantBack, back); diff != "" {
		t.Errorf("JSON round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestStoreResponseMarshalDICOMXML(t *testing.T) {
	got, err := sampleResponse().MarshalDICOMXML()
	if err != nil {
		t.Fatalf("MarshalDICOMXML() = %v", err)
	}
	if err := xml.Unmarshal(got, new(struct{})); err != nil {
		t.Fatalf("MarshalDICOMXML() is not well-formed XML: %v\n%s", err, got)
	}
	for _, s := range []string{
		`<NativeDicomModel xmlns="http://dicom.nema.org/PS3.19/models/NativeDICOM">`,
		`<DicomAttribute tag="00081198" vr="SQ" keyword="FailedSOPSequence">`,
		`<Value number="1">49392</Value>`,
		`<DicomAttribute tag="00081190" vr="UR" keyword="RetrieveURL"/>`,
	} {
		if !bytes.Contains(got, []byte(s)) {
			t.Errorf("MarshalDICOMXML() lacks %s:\n%s", s, got)
		}
	}

	back, err := ParseStoreResponse(bytes.NewReader(got), "application/dicom+xml")
	if err != nil {
		t.Fatalf("ParseStoreResponse(MarshalDICOMXML()) = %v", err)
	}
	wantBack := sampleResponse()
	wantBack.Failed[0].Comment, wantBack.Other[0].Comment = "", ""
	if diff := cmp.Diff(wantBack, back); diff != "" {
		t.Errorf("XML round trip mismatch (-want +got):\n%s", diff)
	}
}

func TestNativeXMLPersonName(t *testing.T) {
	ds := Dataset{}
	ds.Set("00100010", "PN", PersonName{Alphabetic: "Doe^John^^Dr"})
	ds.Set("00100020", "LO", "a<b&c")
	data, err := EncodeNativeXML(ds)
	if err != nil {
		t.Fatalf("EncodeNativeXML() = %v", err)
	}
	want := `<PersonName number="1"><Alphabetic><FamilyName>Doe</FamilyName>` +
		`<GivenName>John</GivenName><NamePrefix>Dr</NamePrefix></Alphabetic></PersonName>`
	if !bytes.Contains(data, []byte(want)) {
		t.Errorf("EncodeNativeXML() =\n%s\nwant it to hold %s", data, want)
	}
	back, err := DecodeNativeXML(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("DecodeNativeXML() = %v", err)
	}
	if got := back.String("00100010"); got != "Doe^John^^Dr" {
		t.Errorf("PN after round trip = %q, want %q", got, "Doe^John^^Dr")
	}
	if got := back.String("00100020"); got != "a<b&c" {
		t.Errorf("LO after round trip = %q, want %q", got, "a<b&c")
	}
}

func TestStoreResponseRewriteURLs(t *testing.T) {
	r := sampleResponse()
	r.RewriteURLs(func(u string) string {
		return strings.Replace(u, "http://gw/", "https://qc.example/", 1)
	})
	want := []string{"https://qc.example/dicom-web/studies/1.2",
		"https://qc.example/dicom-web/studies/1.2/series/4/instances/1.2.3", ""}
	got := []string{r.RetrieveURL, r.Referenced[0].RetrieveURL, r.Referenced[1].RetrieveURL}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RewriteURLs() mismatch (-want +got):\n%s", diff)
	}
}

func TestStatusFor(t *testing.T) {
	tests := []struct {
		stored, failed, want int
	}{
		{1, 0, http.StatusOK},
		{3, 1, http.StatusAccepted},
		{0, 2, http.StatusConflict},
		{0, 0, http.StatusBadRequest},
	}
	for _, tt := range tests {
		if got := StatusFor(tt.stored, tt.failed); got != tt.want {
			t.Errorf("StatusFor(%d, %d) = %d, want %d", tt.stored, tt.failed, got, tt.want)
		}
	}
	if got := sampleResponse().Status(); got != http.StatusAccepted {
		t.Errorf("Status() of 2 stored and 2 failed = %d, want 202", got)
	}
}

func TestFailureReasonText(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{0x0110, "processing failure"},
		{0x0122, "SOP class not supported"},
		{0xA700, "refused: out of resources"},
		{0xA7FF, "refused: out of resources"},
		{0xA900, "data set does not match SOP class"},
		{0xA950, "data set does not match SOP class"},
		{0xC000, "cannot understand"},
		{0xC122, "transfer syntax not supported"},
		{0xC409, "study instance UID does not match the study of the request"},
		{0xC0F0, "rejected by the quality check policy"},
		{0xCFFF, "cannot understand"},
		{0x0000, "unknown failure reason 0000H"},
		{0xB000, "unknown failure reason B000H"},
	}
	for _, tt := range tests {
		if got := FailureReasonText(tt.code); got != tt.want {
			t.Errorf("FailureReasonText(%#04x) = %q, want %q", tt.code, got, tt.want)
		}
	}
	if got := WarningReasonText(0xB007); got != "data set does not match SOP class" {
		t.Errorf("WarningReasonText(0xB007) = %q", got)
	}
}
