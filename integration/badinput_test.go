package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"os"
	"slices"
	"testing"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/integration/harness"
)

// readFile reads a test file or fails the test.
func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading test file: %v", err)
	}
	return data
}

// withMetaVersionLength returns a copy of a Part 10 file (PS3.10 7.1) whose
// File Meta Information Version (0002,0001), explicit VR OB with a 32-bit
// length, claims n bytes.
func withMetaVersionLength(t *testing.T, file []byte, n uint32) []byte {
	t.Helper()
	tag := []byte{0x02, 0x00, 0x01, 0x00, 'O', 'B', 0, 0}
	i := bytes.Index(file, tag)
	if i < 0 || i > 200 {
		t.Fatalf("test file has no (0002,0001) OB element in its file meta")
	}
	out := slices.Clone(file)
	binary.LittleEndian.PutUint32(out[i+len(tag):], n)
	return out
}

// TestBadInput sends malformed STOW-RS requests through the gateway. Each
// gets a clear 4xx, the gateway keeps serving, and Orthanc holds nothing
// afterwards: nothing was stored half-way.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})
	ct := readFile(t, ctImage)
	good := harness.Multipart(harness.Part{ContentType: harness.MediaTypeDICOM, Data: ct})
	stow := func(data []byte) harness.Body {
		return harness.Body{ContentType: good.ContentType, Data: data}
	}
	onePart := func(data []byte) harness.Body {
		return harness.Multipart(harness.Part{ContentType: harness.MediaTypeDICOM, Data: data})
	}
	boundary := good.ContentType[bytes.LastIndex([]byte(good.ContentType), []byte("="))+1:]

	tests := []struct {
		name string
		path string
		body harness.Body
		want int
		// failedItems is how many Failed SOP Sequence items the answer
		// must list, each with Failure Reason C000H (cannot understand);
		// -1 when the answer need not be a STOW-RS answer.
		failedItems int
	}{
		{"no content type", "", harness.Body{Data: good.Data}, 415, -1},
		{"not multipart", "", harness.Body{ContentType: "application/json", Data: good.Data},
			415, -1},
		{"multipart of DICOM XML", "", harness.Body{
			ContentType: `multipart/related; type="application/dicom+xml"; boundary=` + boundary,
			Data:        good.Data,
		}, 415, -1},
		{"no boundary", "", harness.Body{
			ContentType: `multipart/related; type="application/dicom"`,
			Data:        good.Data,
		}, 400, -1},
		{"no body", "", stow(nil), 400, -1},
		{"empty multipart", "", stow([]byte("--" + boundary + "--\r\n")), 400, -1},
		{"body cut in the middle of a part", "", stow(good.Data[:len(good.Data)/2]), 400, -1},
		{"body cut before the closing delimiter", "",
			stow(good.Data[:len(good.Data)-len(boundary)-6]), 400, -1},
		{"part without the DICM prefix", "", onePart(bytes.Repeat([]byte("x"), 2000)), 409, 1},
		{"part of 132 zero bytes and DICM only", "",
			onePart(append(make([]byte, 128), "DICM"...)), 409, 1},
		{"file meta cut short", "", onePart(ct[:150]), 409, 1},
		{"absurd element length", "", onePart(withMetaVersionLength(t, ct, 0xFFFFFFF0)), 409, 1},
		{"instance of another study", "/dicom-web/studies/1.2.826.0.1.3680043.8.498.1",
			good, 409, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "/dicom-web/studies"
			}
			resp := e.gw.STOW(t, path, tt.body)
			if resp.Status != tt.want {
				t.Errorf("STOW (%s) = %d, want %d; body: %s",
					tt.name, resp.Status, tt.want, resp.Snippet())
			}
			if len(bytes.TrimSpace(resp.Body)) == 0 {
				t.Errorf("STOW (%s) answer has no body saying what is wrong", tt.name)
			}
			if tt.failedItems >= 0 && resp.Status == tt.want {
				a := readStow(t, resp)
				if len(a.failedItems) != tt.failedItems || len(a.stored) != 0 {
					t.Errorf("answer lists %d failed and %d stored, want %d and 0; body: %s",
						len(a.failedItems), len(a.stored), tt.failedItems, resp.Snippet())
				}
				for uid, reason := range a.failed {
					if tt.path == "" && reason != dicomweb.FailureCannotUnderstand {
						t.Errorf("Failure Reason of part %q = %#x, want %#x",
							uid, reason, dicomweb.FailureCannotUnderstand)
					}
				}
			}
			requireNothingStored(t, e)
		})
	}

	t.Run("instance of another study gets its Failure Reason", func(t *testing.T) {
		resp := e.gw.STOW(t, "/dicom-web/studies/1.2.826.0.1.3680043.8.498.1", good)
		resp.RequireStatus(t, http.StatusConflict)
		a := readStow(t, resp)
		want := dicomweb.FailureStudyInstanceUIDMismatch
		if got, ok := a.failed[ctImageSOP]; !ok || got != want {
			t.Errorf("Failure Reason of %s = %#x (listed: %v), want %#x",
				ctImageSOP, got, ok, want)
		}
	})
}

// requireNothingStored fails the test unless the gateway still answers and
// Orthanc holds no instance.
func requireNothingStored(t *testing.T, e *env) {
	t.Helper()
	e.gateway.Anonymous().Get(t, "/healthz", nil).RequireStatus(t, http.StatusOK)
	if n := e.orthanc.Statistics(t).CountInstances; n != 0 {
		t.Fatalf("Orthanc holds %d instance(s) after a refused request, want 0", n)
	}
}

// TestTruncatedAfterGoodPart cuts a body in the middle of its second part,
// after a good CT. Whatever the gateway did with the CT, the answer must
// say it: Orthanc holds the CT exactly when the answer lists it as stored.
func TestTruncatedAfterGoodPart(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})
	ct := readFile(t, ctImage)
	second := readFile(t, liverSources[0])
	body := harness.Multipart(
		harness.Part{ContentType: harness.MediaTypeDICOM, Data: ct},
		harness.Part{ContentType: harness.MediaTypeDICOM, Data: second},
	)
	cut := len(ct) + len(second)/2
	resp := e.gw.STOW(t, "/dicom-web/studies",
		harness.Body{ContentType: body.ContentType, Data: body.Data[:cut]})
	if resp.Status < 400 || resp.Status >= 500 {
		t.Fatalf("STOW of a truncated body = %d, want a 4xx; body: %s", resp.Status, resp.Snippet())
	}

	listed := false
	if ds, err := harness.DecodeDatasets(resp.Body); err == nil && len(ds) == 1 {
		a := readStow(t, resp)
		listed = slices.Contains(a.stored, ctImageSOP)
	}
	held := e.heldByOrthanc(t, ctImageSOP)
	if held != listed {
		t.Errorf("Orthanc holds the CT: %v; the answer lists it as stored: %v; body: %s",
			held, listed, resp.Snippet())
	}
	if e.heldByOrthanc(t, liverSourceSOPs[0]) {
		t.Errorf("Orthanc holds the truncated instance %s", liverSourceSOPs[0])
	}
}

// TestSEGPartOverLimit sends a 102630-byte SEG to a gateway whose SEG part
// limit is 64 KiB: 413, and nothing stored.
func TestSEGPartOverLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{Settings: map[string]string{
		"max_seg_part_bytes": fmt.Sprint(64 * 1024),
	}})
	resp := e.gw.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, liverSEG)))
	if resp.Status != http.StatusRequestEntityTooLarge {
		t.Errorf("STOW of a SEG over the part limit = %d, want 413; body: %s",
			resp.Status, resp.Snippet())
	}
	requireNothingStored(t, e)

	// A CT of 39 KB is under the limit, and non-SEG parts are not held
	// anyway: it goes through.
	e.requireStow(t, http.StatusOK, ctImage)
}
