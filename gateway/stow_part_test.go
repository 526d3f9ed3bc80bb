package gateway

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// realData is the repository's real test data, kept by the qc package.
const realData = "../qc/testdata/real"

// readTestFile reads a file relative to the package folder.
func readTestFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.FromSlash(path))
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return b
}

// UIDs of the real test files, as MANIFEST.md lists them (verified there
// with pydicom and dcmdump).
const (
	liverStudy     = "1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1"
	liverCTSeries  = "1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1"
	liverCT1       = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23431.1"
	liverSEGSOP    = "1.2.276.0.7230010.3.1.4.0.42154.1458337731.665796"
	liverSEGSer    = "1.2.276.0.7230010.3.1.3.0.42154.1458337731.665795"
	ct2Study       = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.1"
	ct2Series      = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.2"
	ct2SOP17106    = "1.3.6.1.4.1.5962.1.1.0.0.0.1196530851.28319.0.93"
	ct2SEGSOP      = "1.2.826.0.1.3680043.10.511.3.13328978933257881317937615676904125"
	ct2SEGSeries   = "1.2.826.0.1.3680043.10.511.3.80444451612581703766393849041349930"
	ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"
	segStorage     = "1.2.840.10008.5.1.4.1.1.66.4"
)

func TestReadPartHeader(t *testing.T) {
	tests := []struct {
		name string
		path string
		want partHeader
	}{
		{"implicit VR CT", realData + "/dcmqi-ct-liver-binary/source/ct-3slice-01.dcm",
			partHeader{"1.2.840.10008.1.2", ctImageStorage, liverCT1, ctImageStorage, liverCT1,
				liverStudy, liverCTSeries, 0, 0}},
		{"explicit VR SEG", realData + "/dcmqi-ct-liver-binary/liver.dcm",
			partHeader{"1.2.840.10008.1.2.1", segStorage, liverSEGSOP, segStorage, liverSEGSOP,
				liverStudy, liverSEGSer, 0, 0}},
		{"explicit VR CT", realData + "/highdicom-ct2-binary/source/CT2_17106.dcm",
			partHeader{"1.2.840.10008.1.2.1", ctImageStorage, ct2SOP17106, ctImageStorage,
				ct2SOP17106, ct2Study, ct2Series, 0, 0}},
		{"implicit VR SEG", realData + "/highdicom-ct2-binary/seg_image_ct_binary.dcm",
			partHeader{"1.2.840.10008.1.2", segStorage, ct2SEGSOP, segStorage, ct2SEGSOP,
				ct2Study, ct2SEGSeries, 0, 0}},
		{"deflated CT", "testdata/ct_deflated.dcm",
			partHeader{"1.2.840.10008.1.2.1.99", ctImageStorage, ct2SOP17106, ctImageStorage,
				ct2SOP17106, ct2Study, ct2Series, 0, 0}},
		{"deflated SEG", "testdata/seg_deflated.dcm",
			partHeader{"1.2.840.10008.1.2.1.99", segStorage, ct2SEGSOP, segStorage, ct2SEGSOP,
				ct2Study, ct2SEGSeries, 0, 0}},
		{"big endian CT", "testdata/ct_big.dcm",
			partHeader{"1.2.840.10008.1.2.2", ctImageStorage, ct2SOP17106, ctImageStorage,
				ct2SOP17106, ct2Study, ct2Series, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := readTestFile(t, tt.path)
			// Pixel Data starts at the first (7FE0,0010) tag in the file's
			// byte order; a deflated data set gives no offset.
			tagBytes := []byte{0xE0, 0x7F, 0x10, 0x00}
			if tt.want.TransferSyntaxUID == tsExplicitBig {
				tagBytes = []byte{0x7F, 0xE0, 0x00, 0x10}
			}
			if tt.want.TransferSyntaxUID != tsDeflated {
				tt.want.PixelDataOffset = int64(bytes.Index(data, tagBytes))
				// Pixel Data is the last element of each of these files
				// (checked with dcmdump), so its declared end is the
				// file's.
				tt.want.PixelDataEnd = int64(len(data))
			}
			r := bytes.NewReader(data)
			got, prefix, err := readPartHeader(r)
			if err != nil {
				t.Fatalf("readPartHeader(%s) error = %v", tt.path, err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("readPartHeader(%s) mismatch (-want +got):\n%s", tt.path, diff)
			}
			// What was consumed, followed by the rest, must be the file.
			rest, _ := io.ReadAll(r)
			if !bytes.Equal(append(append([]byte{}, prefix...), rest...), data) {
				t.Errorf("prefix (%d bytes) + rest (%d bytes) != the %d-byte file",
					len(prefix), len(rest), len(data))
			}
		})
	}
}

// withLength returns a copy of data whose element with tag (group,
// element) in explicit VR little endian, searched from offset 132, has
// its 4-byte length set to n.
func withLength(t *testing.T, data []byte, group, element uint16, long bool, n uint32) []byte {
	t.Helper()
	var tagBytes [4]byte
	binary.LittleEndian.PutUint16(tagBytes[0:], group)
	binary.LittleEndian.PutUint16(tagBytes[2:], element)
	i := bytes.Index(data[132:], tagBytes[:])
	if i < 0 {
		t.Fatalf("tag (%04X,%04X) not found", group, element)
	}
	out := bytes.Clone(data)
	at := 132 + i
	if long {
		binary.LittleEndian.PutUint32(out[at+8:], n)
	} else {
		binary.LittleEndian.PutUint32(out[at+4:], n)
	}
	return out
}

func TestReadPartHeaderRefuses(t *testing.T) {
	ct := readTestFile(t, realData+"/highdicom-ct2-binary/source/CT2_17106.dcm")
	implicit := readTestFile(t, realData+"/dcmqi-ct-liver-binary/source/ct-3slice-01.dcm")
	tests := []struct {
		name string
		data []byte
		// wantHeader is what the error still carries.
		wantHeader partHeader
	}{
		{"empty", nil, partHeader{}},
		{"text", []byte("hello, this is not DICOM at all"), partHeader{}},
		{"2000 bytes of x", bytes.Repeat([]byte("x"), 2000), partHeader{}},
		{"preamble and DICM only", append(make([]byte, 128), "DICM"...), partHeader{}},
		{"no DICM", append(make([]byte, 128), "DICN\x02\x00\x00\x00UL\x04\x00"...),
			partHeader{}},
		{"file meta cut", ct[:150], partHeader{}},
		{"absurd file meta length", withLength(t, ct, 0x0002, 0x0001, true, 0xFFFFFFF0),
			partHeader{}},
		{"absurd data set length", withLength(t, implicit, 0x0008, 0x0005, false,
			0x7FFFFFF0), partHeader{TransferSyntaxUID: "1.2.840.10008.1.2",
			MetaSOPClassUID: ctImageStorage, MetaSOPInstanceUID: liverCT1}},
		{"cut in the data set", implicit[:400], partHeader{
			TransferSyntaxUID: "1.2.840.10008.1.2", MetaSOPClassUID: ctImageStorage,
			MetaSOPInstanceUID: liverCT1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _, err := readPartHeader(bytes.NewReader(tt.data))
			var he *headerError
			if !errors.As(err, &he) || !errors.Is(err, errNotDICOM) {
				t.Fatalf("readPartHeader = %+v, %v, want a headerError", h, err)
			}
			if diff := cmp.Diff(tt.wantHeader, he.header); diff != "" {
				t.Errorf("header of the error mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// failingReader returns its data, then err.
type failingReader struct {
	data []byte
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReadPartHeaderSourceError(t *testing.T) {
	ct := readTestFile(t, realData+"/highdicom-ct2-binary/source/CT2_17106.dcm")
	boom := errors.New("connection reset")
	_, _, err := readPartHeader(&failingReader{data: ct[:300], err: boom})
	if !errors.Is(err, boom) || errors.Is(err, errNotDICOM) {
		t.Errorf("readPartHeader on a broken body = %v, want the body's error", err)
	}
}

func FuzzReadPartHeader(f *testing.F) {
	for _, p := range []string{realData + "/highdicom-ct2-binary/source/CT2_17106.dcm",
		realData + "/highdicom-ct2-binary/seg_image_ct_binary.dcm",
		"testdata/ct_deflated.dcm", "testdata/ct_big.dcm"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatalf("reading seed %s: %v", p, err)
		}
		f.Add(b[:min(len(b), 1500)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		_, prefix, err := readPartHeader(r)
		var he *headerError
		if err != nil && !errors.As(err, &he) {
			t.Fatalf("readPartHeader on bytes = %v, want a headerError", err)
		}
		rest, _ := io.ReadAll(r)
		if !bytes.Equal(append(bytes.Clone(prefix), rest...), data) {
			t.Fatalf("prefix + rest differs from the input")
		}
	})
}
