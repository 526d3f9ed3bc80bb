package dicomweb

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// readTestdata returns a file of testdata, failing the test when it cannot.
func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("reading testdata: %v", err)
	}
	return data
}

func TestDecodeDatasetsHandwritten(t *testing.T) {
	dss, err := DecodeDatasets(strings.NewReader(string(readTestdata(t, "handwritten-f2.json"))))
	if err != nil {
		t.Fatalf("DecodeDatasets() = %v", err)
	}
	if len(dss) != 1 {
		t.Fatalf("DecodeDatasets() gave %d data sets, want 1", len(dss))
	}
	d := dss[0]

	strs := []struct{ tag, want string }{
		{"0020000D", "1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873"},
		{"(0020,000d)", "1.2.392.200036.9116.2.2.2.1762893313.1029997326.945873"},
		{"0008,1030", "Chest^CT with contrast"},
		{"00080090", "Wang^XiaoDong"},
		{"00200011", "7"},
		{"00200013", "12"},
		{"00280030", "0.703125"},
		{"00209161", ""},
		{"00101002", ""},
		{"00990099", ""},
		{"00720026", "3.141592653589793"},
		{"0072000A", "-9007199254740993"},
		{"00720082", "18446744073709551615"},
	}
	for _, tt := range strs {
		if got := d.String(tt.tag); got != tt.want {
			t.Errorf("String(%s) = %q, want %q", tt.tag, got, tt.want)
		}
	}

	if diff := cmp.Diff([]float64{-125.5, -130.25, 12}, d.Float64s("00200032")); diff != "" {
		t.Errorf("Float64s(00200032) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]float64{1, 0, 0, 0, 1, 0}, d.Float64s("00200037")); diff != "" {
		t.Errorf("Float64s(00200037) mismatch (-want +got):\n%s", diff)
	}
	if got := d.Float64s("00281050"); got != nil {
		t.Errorf("Float64s(00281050) with a null value = %v, want nil", got)
	}
	if got, ok := d.Int("00280010"); !ok || got != 512 {
		t.Errorf("Int(00280010) = %d, %v, want 512, true", got, ok)
	}
	if got, ok := d.Int("00200013"); !ok || got != 12 {
		t.Errorf("Int(00200013) of an IS string = %d, %v, want 12, true", got, ok)
	}
	if got, ok := d.Int("00280030"); ok {
		t.Errorf("Int(00280030) of 0.703125 = %d, true, want false", got)
	}
	if diff := cmp.Diff([]int{1, 2}, d.Ints("0040A0B0")); diff != "" {
		t.Errorf("Ints(0040A0B0) mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"00100020", "0020000D"}, d.Strings("00209165")); diff != "" {
		t.Errorf("Strings(00209165) mismatch (-want +got):\n%s", diff)
	}

	pn := d.Attr("00080090").Value[0].(PersonName)
	if pn.Ideographic != "王^小東" {
		t.Errorf("ideographic name = %q, want %q", pn.Ideographic, "王^小東")
	}
	if got := d.Attr("0072000A").Value[0]; got != int64(-9007199254740993) {
		t.Errorf("SV value = %#v, want int64(-9007199254740993)", got)
	}
	if got := d.Attr("00720082").Value[0]; got != uint64(18446744073709551615) {
		t.Errorf("UV value = %#v, want uint64(18446744073709551615)", got)
	}

	items := d.Sequence("00101002")
	var issuers []string
	for _, it := range items {
		issuers = append(issuers, it.String("00100021"))
	}
	if diff := cmp.Diff([]string{"Hospital B", "Hospital C"}, issuers); diff != "" {
		t.Errorf("Sequence(00101002) issuers mismatch (-want +got):\n%s", diff)
	}
	if got := d.Sequence("00186011"); got != nil {
		t.Errorf("Sequence() of an empty sequence = %v, want nil", got)
	}
	if got := d.Attr("7FE00010").BulkDataURI; !strings.HasSuffix(got, "/bulkdata/7fe00010") {
		t.Errorf("BulkDataURI = %q", got)
	}
	if got := d.Attr("00660023").InlineBinary; got != "AAECAwQFBgc=" {
		t.Errorf("InlineBinary = %q, want AAECAwQFBgc=", got)
	}
}

func TestDecodeDatasetsErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int
		wantErr error
	}{
		{name: "empty body", in: "", want: 0},
		{name: "white space", in: " \n", want: 0},
		{name: "empty array", in: "[]", want: 0},
		{name: "lowercase tag", in: `[{"0020000d":{"vr":"UI","Value":["1.2"]}}]`, want: 1},
		{name: "unknown member ignored", in: `[{"00100010":{"vr":"PN","x":1}}]`, want: 1},
		{name: "object not array", in: `{"00100010":{"vr":"PN"}}`, wantErr: ErrMalformedJSON},
		{name: "bad key", in: `[{"PatientName":{"vr":"PN"}}]`, wantErr: ErrMalformedJSON},
		{name: "duplicate key", in: `[{"0020000d":{"vr":"UI"},"0020000D":{"vr":"UI"}}]`,
			wantErr: ErrMalformedJSON},
		{name: "value not array", in: `[{"00100020":{"vr":"LO","Value":"x"}}]`,
			wantErr: ErrMalformedJSON},
		{name: "vr not string", in: `[{"00100020":{"vr":7}}]`, wantErr: ErrMalformedJSON},
		{name: "person name number", in: `[{"00100010":{"vr":"PN","Value":[5]}}]`,
			wantErr: ErrMalformedJSON},
		{name: "boolean value", in: `[{"00100020":{"vr":"LO","Value":[true]}}]`,
			wantErr: ErrMalformedJSON},
		{name: "item not object", in: `[{"00081199":{"vr":"SQ","Value":["x"]}}]`,
			wantErr: ErrMalformedJSON},
		{name: "number out of range", in: `[{"00280010":{"vr":"US","Value":[1e999]}}]`,
			wantErr: ErrMalformedJSON},
		{name: "cut", in: `[{"00100020":{"vr":"LO","Val`, wantErr: ErrMalformedJSON},
		{name: "trailing data", in: `[] []`, wantErr: ErrMalformedJSON},
		{name: "deep nesting", in: deepSequence(maxSequenceDepth + 2), wantErr: ErrMalformedJSON},
		{name: "allowed nesting", in: deepSequence(maxSequenceDepth - 1), want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeDatasets(strings.NewReader(tt.in))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeDatasets(%.60q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if len(got) != tt.want {
				t.Errorf("DecodeDatasets(%.60q) gave %d data sets, want %d", tt.in, len(got),
					tt.want)
			}
		})
	}
}

// deepSequence returns an array of one data set with sequences nested n
// levels deep.
func deepSequence(n int) string {
	return "[" + strings.Repeat(`{"00081199":{"vr":"SQ","Value":[`, n) + "{}" +
		strings.Repeat("]}}", n) + "]"
}

func TestAttributeMarshalJSON(t *testing.T) {
	d := Dataset{}
	d.Set("00081190", "UR", "http://gw/studies/1")
	d.Set("(0008,1197)", "US", 0xC000)
	d.Set("00100010", "PN", PersonName{Alphabetic: "Doe^J"})
	d.Set("00200032", "DS", -1.5, "2.25", nil)
	d.Set("00081199", "SQ", Dataset{"00081150": {VR: "UI", Value: []any{"1.2"}}})
	d.Set("0072000A", "SV", int64(-3))
	d["00209161"] = &Attribute{VR: "UI"}
	d["7FE00010"] = &Attribute{VR: "OB", BulkDataURI: "http://gw/bulk"}

	got, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("json.Marshal() = %v", err)
	}
	want := `{"00081190":{"vr":"UR","Value":["http://gw/studies/1"]},` +
		`"00081197":{"vr":"US","Value":[49152]},` +
		`"00081199":{"vr":"SQ","Value":[{"00081150":{"vr":"UI","Value":["1.2"]}}]},` +
		`"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^J"}]},` +
		`"00200032":{"vr":"DS","Value":[-1.5,"2.25",null]},` +
		`"00209161":{"vr":"UI"},` +
		`"0072000A":{"vr":"SV","Value":[-3]},` +
		`"7FE00010":{"vr":"OB","BulkDataURI":"http://gw/bulk"}}`
	if string(got) != want {
		t.Errorf("json.Marshal() =\n%s\nwant\n%s", got, want)
	}

	bad := Dataset{}
	bad.Set("00100010", "FD", func() {})
	if _, err := json.Marshal(bad); err == nil {
		t.Errorf("json.Marshal() of a func value succeeded, want an error")
	}
}

// FuzzDecodeDatasets checks that decoding never panics and that what
// decodes survives an encode and decode unchanged.
func FuzzDecodeDatasets(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seeds in testdata: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatalf("reading seed: %v", err)
		}
		f.Add(data)
	}
	f.Add([]byte(`[{"00100010":{"vr":"PN","Value":["x",null]}}]`))
	f.Add([]byte(deepSequence(3)))

	f.Fuzz(func(t *testing.T, data []byte) {
		dss, err := DecodeDatasets(strings.NewReader(string(data)))
		if err != nil {
			if !errors.Is(err, ErrMalformedJSON) {
				t.Fatalf("DecodeDatasets() error %v does not wrap ErrMalformedJSON", err)
			}
			return
		}
		if len(dss) == 0 {
			return
		}
		enc, err := json.Marshal(dss)
		if err != nil {
			t.Fatalf("json.Marshal() of decoded data sets = %v", err)
		}
		again, err := DecodeDatasets(strings.NewReader(string(enc)))
		if err != nil {
			t.Fatalf("DecodeDatasets() of own encoding %s = %v", enc, err)
		}
		if diff := cmp.Diff(dss, again); diff != "" {
			t.Errorf("round trip mismatch (-first +second):\n%s", diff)
		}
	})
}
