package integration

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"net/http"
	"strconv"
	"testing"

	"github.com/qcgate/qcgate/integration/harness"
)

// zeroChunk is the decompressed size of one gzip member of zeros in
// [gzipSEGBomb]; the body repeats the member.
const zeroChunk = 16 << 20

// gzipSEGBomb returns a gzip STOW-RS body of one part: the header of the
// liver SEG up to its Pixel Data (PS3.5 A.2: explicit VR little endian),
// a Pixel Data element (7FE0,0010) OB claiming declared bytes (or an
// undefined length when declared is 0xFFFFFFFF), then zeros bytes of zeros.
// gzip members concatenate (RFC 1952 2.2), so the 1 GiB of zeros costs a
// few kilobytes of body.
func gzipSEGBomb(t *testing.T, declared uint32, zeros int64) harness.Body {
	t.Helper()
	seg := readFile(t, liverSEG)
	pixelData := []byte{0xE0, 0x7F, 0x10, 0x00, 'O', 'B', 0, 0}
	at := bytes.Index(seg, pixelData)
	if at < 0 {
		t.Fatalf("liver SEG has no explicit VR Pixel Data element")
	}
	boundary := "qcgate-hardening"
	var head bytes.Buffer
	head.WriteString("--" + boundary + "\r\nContent-Type: application/dicom\r\n\r\n")
	head.Write(seg[:at])
	head.Write(pixelData)
	head.Write(binary.LittleEndian.AppendUint32(nil, declared))

	var body bytes.Buffer
	member := func(data []byte) {
		zw, err := gzip.NewWriterLevel(&body, gzip.BestCompression)
		if err != nil {
			t.Fatalf("gzip: %v", err)
		}
		if _, err := zw.Write(data); err != nil {
			t.Fatalf("gzip: %v", err)
		}
		if err := zw.Close(); err != nil {
			t.Fatalf("gzip: %v", err)
		}
	}
	member(head.Bytes())
	var zeroMember bytes.Buffer
	{
		zw, _ := gzip.NewWriterLevel(&zeroMember, gzip.BestCompression)
		zw.Write(make([]byte, zeroChunk))
		zw.Close()
	}
	for range zeros / zeroChunk {
		body.Write(zeroMember.Bytes())
	}
	member([]byte("\r\n--" + boundary + "--\r\n"))
	return harness.Body{ContentType: harness.StowContentType(boundary), Data: body.Bytes()}
}

// TestSEGBombMemory sends a gzip body of a few kilobytes holding a SEG of
// 1 GiB of Pixel Data to the qcgate binary with max_seg_part_bytes at
// 16 MiB. The gateway must answer 413 and its peak resident set must stay
// far below the decompressed size: it holds at most about the limit.
func TestSEGBombMemory(t *testing.T) {
	t.Parallel()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	const segLimit = 16 << 20
	s := harness.StartServe(t, o, harness.ServeOptions{Env: []string{
		"QCGATE_MAX_SEG_PART_BYTES=" + strconv.Itoa(segLimit),
	}})
	const gib = 1 << 30
	tests := []struct {
		name     string
		declared uint32
	}{
		// The declared length alone makes the part too large.
		{"Pixel Data declaring 1 GiB", gib},
		// No length to go by: the gateway must stop reading at the limit.
		{"Pixel Data of undefined length", 0xFFFFFFFF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := gzipSEGBomb(t, tt.declared, gib)
			before := s.PeakRSS(t)
			h := http.Header{"Content-Type": {body.ContentType},
				"Content-Encoding": {"gzip"}, "Accept": {harness.MediaTypeDICOMJSON}}
			resp := s.Client().Do(t, http.MethodPost, "/dicom-web/studies",
				bytes.NewReader(body.Data), h)
			if resp.Status != http.StatusRequestEntityTooLarge {
				t.Errorf("STOW of a %d-byte gzip SEG bomb = %d, want 413; body: %s",
					len(body.Data), resp.Status, resp.Snippet())
			}
			peak := s.PeakRSS(t)
			t.Logf("body %d bytes, answer in %v, gateway peak RSS %.1f MB before, %.1f MB after",
				len(body.Data), resp.Duration, float64(before)/1e6, float64(peak)/1e6)
			// The gateway holds at most the limit of one part; three times
			// it leaves room for the runtime's own growth. Before the bound,
			// a doubling buffer took four times the limit.
			if peak > 200e6 || peak-before > 3*segLimit {
				t.Errorf("gateway peak RSS = %.1f MB (%.1f MB more than before), want "+
					"under 200 MB and less than %d MB more", float64(peak)/1e6,
					float64(peak-before)/1e6, 3*segLimit>>20)
			}
		})
	}
	if n := o.Statistics(t).CountInstances; n != 0 {
		t.Errorf("Orthanc holds %d instances after the refused bombs, want 0", n)
	}
}

// TestQIDOPagingRefused sends searches with paging values that Orthanc
// answers with 500 or 400, or with an escape it ignores (and so matches
// every study): the gateway answers 400 naming the parameter, and a
// well-formed search still finds the stored study.
func TestQIDOPagingRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})
	e.requireStow(t, http.StatusOK, ctImage)
	tests := []struct {
		query, wantMsg string
	}{
		{"limit=-1", `\"limit\"`},
		{"offset=-5", `\"offset\"`},
		{"limit=99999999999999999999", `\"limit\"`},
		{"limit=2147483648", `\"limit\"`},
		{"%ZZ=1", "malformed percent-encoding"},
		{"StudyDescription=%ZZ", "malformed percent-encoding"},
	}
	for _, tt := range tests {
		resp := e.gw.Get(t, "/dicom-web/studies?"+tt.query, nil)
		if resp.Status != http.StatusBadRequest ||
			!bytes.Contains(resp.Body, []byte(tt.wantMsg)) {
			t.Errorf("QIDO ?%s = %d %s, want 400 naming %s", tt.query, resp.Status,
				resp.Snippet(), tt.wantMsg)
		}
	}
	if got := e.gw.QIDO(t, "/dicom-web/studies?limit=2147483647&offset=0"); len(got) != 1 {
		t.Errorf("QIDO with the largest limit found %d studies, want 1", len(got))
	}
}
