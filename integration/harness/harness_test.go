package harness

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// ctImage is a real 39 KB CT image (Explicit VR Little Endian) and its SOP
// Instance UID, from the repository's test data.
const (
	ctImage    = "../../qc/testdata/real/highdicom-ct-binary-single-frame/source/ct_image.dcm"
	ctImageSOP = "1.3.6.1.4.1.5962.1.1.1.1.1.20040119072730.12322"
)

// TestCopies checks with an independent DICOM parser that copies carry the
// new UID in file meta and dataset and keep their length.
func TestCopies(t *testing.T) {
	file, err := os.ReadFile(ctImage)
	if err != nil {
		t.Fatalf("reading test file: %v", err)
	}
	c, err := NewCopies(file, ctImageSOP)
	if err != nil {
		t.Fatalf("NewCopies() error = %v", err)
	}

	tests := []struct {
		i    int
		want string
	}{
		{0, "1.3.6.1.4.1.5962.1.1.1.1.1.90000000000000000000"},
		{42, "1.3.6.1.4.1.5962.1.1.1.1.1.90000000000000000042"},
		{123456, "1.3.6.1.4.1.5962.1.1.1.1.1.90000000000000123456"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := c.UID(tt.i); got != tt.want {
				t.Fatalf("UID(%d) = %s, want %s", tt.i, got, tt.want)
			}
			data := c.Copy(tt.i)
			if len(data) != len(file) {
				t.Errorf("len(Copy(%d)) = %d, want %d", tt.i, len(data), len(file))
			}
			ds, err := dicom.Parse(bytes.NewReader(data), int64(len(data)), nil,
				dicom.SkipPixelData())
			if err != nil {
				t.Fatalf("parsing copy: %v", err)
			}
			for _, tg := range []tag.Tag{tag.SOPInstanceUID, tag.MediaStorageSOPInstanceUID} {
				e, err := ds.FindElementByTag(tg)
				if err != nil {
					t.Fatalf("finding %v: %v", tg, err)
				}
				got := strings.TrimRight(dicom.MustGetStrings(e.Value)[0], "\x00")
				if got != tt.want {
					t.Errorf("%v = %s, want %s", tg, got, tt.want)
				}
			}
		})
	}
}

// TestStreamBody reads a generated body with the standard library's
// multipart reader and checks its announced size.
func TestStreamBody(t *testing.T) {
	parts := [][]byte{[]byte("first-part"), []byte("second-prt"), []byte("third-part")}
	s := NewStreamBody(len(parts), len(parts[0]), func(i int) []byte { return parts[i] })
	data, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("reading stream body: %v", err)
	}
	if int64(len(data)) != s.Size {
		t.Errorf("body length = %d, Size = %d", len(data), s.Size)
	}

	mt, params, err := mime.ParseMediaType(s.ContentType)
	if err != nil || mt != "multipart/related" || params["type"] != MediaTypeDICOM {
		t.Fatalf("ContentType = %q (%v), want multipart/related of %s",
			s.ContentType, err, MediaTypeDICOM)
	}
	mr := multipart.NewReader(bytes.NewReader(data), params["boundary"])
	var got [][]byte
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("NextPart() error = %v", err)
		}
		b, _ := io.ReadAll(p)
		got = append(got, b)
	}
	if diff := cmp.Diff(parts, got); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

// TestDecodeDatasets decodes a STOW-RS answer as Orthanc writes it.
func TestDecodeDatasets(t *testing.T) {
	body := `{"00081198":{"vr":"SQ","Value":[{"00081197":{"vr":"US","Value":[49442]},` +
		`"00081155":{"vr":"UI","Value":["1.2.3"]}}]},` +
		`"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]}}`
	ds, err := DecodeDatasets([]byte(body))
	if err != nil {
		t.Fatalf("DecodeDatasets() error = %v", err)
	}
	if len(ds) != 1 {
		t.Fatalf("DecodeDatasets() = %d datasets, want 1", len(ds))
	}
	failed := ds[0].Items(TagFailedSOPSequence)
	if len(failed) != 1 {
		t.Fatalf("Items(FailedSOPSequence) = %d, want 1", len(failed))
	}
	if n, ok := failed[0].Int(TagFailureReason); !ok || n != 0xC122 {
		t.Errorf("FailureReason = %d, %v, want %d", n, ok, 0xC122)
	}
	if got := failed[0].String(TagReferencedSOPInstanceUID); got != "1.2.3" {
		t.Errorf("ReferencedSOPInstanceUID = %q, want 1.2.3", got)
	}
	if got := ds[0].String("00100010"); got != "Doe^Jane" {
		t.Errorf("PatientName = %q, want Doe^Jane", got)
	}
}
