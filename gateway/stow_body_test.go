package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"io"
	"net/http"
	"testing"
	"testing/iotest"

	"github.com/qcgate/qcgate/dicomweb"
)

// gzipped compresses b.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return out.Bytes()
}

// segBomb returns the liver SEG with its Pixel Data (at offset 4314, OB)
// declaring declared bytes, followed by size zero bytes of value.
func segBomb(t *testing.T, declared uint32, size int) []byte {
	t.Helper()
	seg := readTestFile(t, liverSEGFile)
	out := bytes.Clone(seg[:4314+12])
	if !bytes.Equal(out[4314:4320], []byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B'}) {
		t.Fatalf("liver SEG has no Pixel Data OB at offset 4314")
	}
	binary.LittleEndian.PutUint32(out[4314+8:], declared)
	return append(out, make([]byte, size)...)
}

// zeroPixels returns the first liver CT (526474 bytes) with its Pixel Data
// value zeroed, which gzip shrinks to a few KiB. Its Pixel Data element
// (implicit VR, 8-byte header) starts at offset 2178 (dcmdump).
func zeroPixels(t *testing.T) []byte {
	t.Helper()
	ct := readTestFile(t, liverCTFile1)
	if !bytes.Equal(ct[2178:2182], []byte{0xE0, 0x7F, 0x10, 0x00}) {
		t.Fatalf("liver CT has no Pixel Data at offset 2178")
	}
	clear(ct[2178+8:])
	return ct
}

func TestSTOWBodyLimits(t *testing.T) {
	tests := []struct {
		name        string
		mutate      func(*Config)
		body        []byte
		want        int
		wantWarning string
	}{
		{"gzip SEG declaring 256 MiB: refused from its header",
			func(c *Config) { c.MaxSEGPartBytes = 1 * MiB },
			gzipped(t, multipartBody(part{"application/dicom", segBomb(t, 256<<20, 64<<20)})),
			http.StatusRequestEntityTooLarge, "max_seg_part_bytes"},
		{"gzip SEG of undefined length: refused at the limit",
			func(c *Config) { c.MaxSEGPartBytes = 1 * MiB },
			gzipped(t, multipartBody(part{"application/dicom",
				segBomb(t, 0xFFFFFFFF, 64<<20)})),
			http.StatusRequestEntityTooLarge, "max_seg_part_bytes"},
		{"gzip body inflating past max_request_bytes",
			func(c *Config) { c.MaxRequestBytes = 200_000 },
			gzipped(t, multipartBody(part{"application/dicom", zeroPixels(t)})),
			http.StatusRequestEntityTooLarge, "after decompression"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.body) > 200_000 {
				t.Fatalf("test body of %d bytes: want a small gzip body", len(tt.body))
			}
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), tt.mutate)
			res, b := g.stow(t, "/dicom-web/studies", stowContentType, tt.body,
				http.Header{"Content-Encoding": {"gzip"}})
			if res.StatusCode != tt.want {
				t.Fatalf("STOW of %d gzip bytes = %d, want %d; body %.300s", len(tt.body),
					res.StatusCode, tt.want, b)
			}
			checkWarnings(t, res.Header.Values("Warning"), []string{tt.wantWarning})
			if n := g.srv.held.inUse(); n != 0 {
				t.Errorf("held budget in use after the request = %d, want 0", n)
			}
			if held := up.storedUIDs(); len(held) != 0 {
				t.Errorf("upstream holds %v, want nothing", held)
			}
		})
	}
}

func TestSTOWNoPartMessages(t *testing.T) {
	good := multipartBody(dicomPart(t, liverCTFile1))
	other := bytes.ReplaceAll(good, []byte(testBoundary), []byte("another-boundary"))
	tests := []struct {
		name        string
		body        []byte
		wantWarning string
	}{
		{"empty body", nil, "empty request body: a STOW-RS request needs at least one part"},
		{"another boundary", other, "no part found: the body holds no delimiter line of " +
			"the boundary its Content-Type names"},
		{"text without a boundary", []byte("hello\r\n"), "no part found: the body holds " +
			"no delimiter line"},
		{"cut in the first part's header", []byte("--" + testBoundary +
			"\r\nContent-Type: appl"), "no part found: the body ends inside the header " +
			"of its first part"},
		{"cut in the second part", good[:len(good)-1000], "request body ends before " +
			"the closing boundary"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), nil)
			res, b := g.stow(t, "/dicom-web/studies", stowContentType, tt.body, nil)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("STOW = %d, want 400; body %.300s", res.StatusCode, b)
			}
			checkWarnings(t, res.Header.Values("Warning"), []string{tt.wantWarning})
		})
	}
}

// TestBodyProbeExplain reads bodies through the probe in reads of one,
// three and all bytes, so that a delimiter also spans two reads, and checks
// which cause explain gives a body in which no part was found.
func TestBodyProbeExplain(t *testing.T) {
	const boundary = "b0und4ry"
	tooFar := append(bytes.Repeat([]byte{'x'}, probeHead-3), "--"+boundary+"\r\n"...)
	tests := []struct {
		name string
		body []byte
		want error
	}{
		{"empty", nil, errEmptyBody},
		{"no delimiter", []byte("--other\r\nContent-Type: application/dicom\r\n"),
			errBoundaryNotFound},
		{"delimiter after text", []byte("preamble\r\n--" + boundary + "\r\nContent-Ty"),
			errFirstPartCut},
		{"delimiter cut at the end", []byte("--" + boundary[:5]), errBoundaryNotFound},
		{"delimiter past the head", tooFar, errBoundaryNotFound},
		{"delimiter ending the head", tooFar[:probeHead], errBoundaryNotFound},
		{"delimiter ending at the head's end",
			append(bytes.Repeat([]byte{'x'}, probeHead-10), "--"+boundary...),
			errFirstPartCut},
	}
	readers := map[string]func([]byte) io.Reader{
		"one byte":    func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"three bytes": func(b []byte) io.Reader { return &chunkReader{data: b, n: 3} },
		"whole":       func(b []byte) io.Reader { return bytes.NewReader(b) },
	}
	for _, tt := range tests {
		for name, reader := range readers {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				probe := newBodyProbe(reader(tt.body), boundary)
				if _, err := io.Copy(io.Discard, probe); err != nil {
					t.Fatalf("reading the probe: %v", err)
				}
				if probe.n != int64(len(tt.body)) {
					t.Errorf("probe counted %d bytes, want %d", probe.n, len(tt.body))
				}
				got := probe.explain(dicomweb.ErrTruncated, 0)
				if !errors.Is(got, tt.want) || !errors.Is(got, dicomweb.ErrTruncated) {
					t.Errorf("explain(ErrTruncated, 0) = %v, want %v wrapping it", got, tt.want)
				}
			})
		}
	}
}
