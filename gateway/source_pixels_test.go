package gateway

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
)

// SOP Instance UIDs of the liver CTs 2 and 3 (MANIFEST.md).
const (
	liverCT2UID = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23432.1"
	liverCT3UID = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1"
)

// liverCTFrameBytes is the length of a liver CT's Pixel Data: 512 x 512
// samples of 16 bits (MANIFEST.md).
const liverCTFrameBytes = 512 * 512 * 2

// nativePixels returns the Pixel Data value of an Implicit VR Little Endian
// single-frame file whose Pixel Data (7FE0,0010) is its last element, as the
// liver CTs' is: the element header is checked, not parsed by any decoder.
func nativePixels(t *testing.T, path string, n int) []byte {
	t.Helper()
	b := readTestFile(t, path)
	if len(b) < n+8 {
		t.Fatalf("%s: %d bytes, too short for %d bytes of pixels", path, len(b), n)
	}
	head := b[len(b)-n-8 : len(b)-n]
	want := binary.LittleEndian.AppendUint32([]byte{0xE0, 0x7F, 0x10, 0x00}, uint32(n))
	if string(head) != string(want) {
		t.Fatalf("%s: element before the last %d bytes is % x, want Pixel Data % x", path,
			n, head, want)
	}
	return b[len(b)-n:]
}

// constantFrame returns a 512 x 512 frame of 16-bit stored value v.
func constantFrame(v uint16) []byte {
	b := make([]byte, liverCTFrameBytes)
	for i := 0; i < len(b); i += 2 {
		binary.LittleEndian.PutUint16(b[i:], v)
	}
	return b
}

// frameServer is a fake upstream that answers WADO-RS frame requests
// (PS3.18 10.4.1.1.3) from frames, by SOP Instance UID, the way Orthanc's
// DICOMweb plugin does, and passes every other request to a fakeOrthanc.
type frameServer struct {
	*httptest.Server
	up     *fakeOrthanc
	frames map[string][]byte

	mu sync.Mutex
	// asked lists the frame requests, "SOP Instance UID/frame".
	asked []string
}

// newFrameServer starts a frame server in front of up; it stops when the
// test ends.
func newFrameServer(t *testing.T, up *fakeOrthanc, frames map[string][]byte) *frameServer {
	t.Helper()
	fs := &frameServer{up: up, frames: frames}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	t.Cleanup(fs.Close)
	return fs
}

func (fs *frameServer) serve(w http.ResponseWriter, r *http.Request) {
	path, frame, ok := strings.Cut(r.URL.Path, "/frames/")
	if !ok {
		fs.up.Config.Handler.ServeHTTP(w, r)
		return
	}
	sop := path[strings.LastIndex(path, "/")+1:]
	fs.mu.Lock()
	fs.asked = append(fs.asked, sop+"/"+frame)
	fs.mu.Unlock()
	b, found := fs.frames[sop]
	if !found || frame != "1" {
		http.Error(w, `{"HttpError":"Not Found"}`, http.StatusNotFound)
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/octet-stream") {
		http.Error(w, "not acceptable", http.StatusNotAcceptable)
		return
	}
	const boundary = "frame-boundary-7"
	w.Header().Set("Content-Type", `multipart/related; type="application/octet-stream"; `+
		"boundary="+boundary)
	fmt.Fprintf(w, "--%s\r\nContent-Type: application/octet-stream; "+
		"transfer-syntax=1.2.840.10008.1.2.1\r\nContent-Length: %d\r\n\r\n", boundary, len(b))
	w.Write(b)
	fmt.Fprintf(w, "\r\n--%s--\r\n", boundary)
}

// requested returns the frame requests received.
func (fs *frameServer) requested() []string {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]string(nil), fs.asked...)
}

// writeAirProfile writes a profile that enables only boundary.air, or no
// optional rule when air is false, and returns its path.
func writeAirProfile(t *testing.T, air bool) string {
	t.Helper()
	text := "name: air-test\nversion: \"1\"\n"
	if air {
		text += "rules:\n  boundary.air: {enabled: true}\n"
	}
	path := filepath.Join(t.TempDir(), "air.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatalf("writing profile: %v", err)
	}
	return path
}

// airFindings returns the boundary.air findings of a stored report, and
// the check.skipped findings about that rule, as "rule: message".
func airFindings(t *testing.T, g *testGateway, sop string) []string {
	t.Helper()
	res, b := g.do(t, http.MethodGet, "/qc/v1/reports/"+sop, nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET report = %d; %.300s", res.StatusCode, b)
	}
	var rep qc.Report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report JSON: %v; %.300s", err, b)
	}
	var out []string
	for _, f := range rep.Findings {
		if f.Rule == "boundary.air" ||
			(f.Rule == qc.RuleSkipped && strings.HasPrefix(f.Message, "boundary.air ")) {
			out = append(out, f.Rule+": "+f.Message)
		}
	}
	return out
}

func TestSTOWAirRule(t *testing.T) {
	real := map[string][]byte{
		liverCT1:    nativePixels(t, liverCTFile1, liverCTFrameBytes),
		liverCT2UID: nativePixels(t, liverCTFile2, liverCTFrameBytes),
		liverCT3UID: nativePixels(t, liverCTFile3, liverCTFrameBytes),
	}
	// Rescale Intercept -1024 and Slope 1 (the series metadata): stored 24
	// is -1000 HU, air.
	air := constantFrame(24)
	// The SEG's frames hold 36233, 35645 and 35220 liver pixels, on CT 3, 2
	// and 1 (MANIFEST.md: foreground per frame; frame z against source IPP).
	const liverVoxels = 36233 + 35645 + 35220
	tests := []struct {
		name string
		// air selects the profile enabling boundary.air.
		air bool
		// withSources sends the three CTs in the SEG's request.
		withSources bool
		frames      map[string][]byte
		want        []string
		wantFrames  int
	}{{
		name:       "real CT: no liver voxel on air",
		air:        true,
		frames:     real,
		wantFrames: 3,
	}, {
		name: "every source pixel is air",
		air:  true,
		frames: map[string][]byte{liverCT1: air, liverCT2UID: air,
			liverCT3UID: air},
		want: []string{fmt.Sprintf("boundary.air: at most 5%% of a segment may lie on air "+
			"(under -900 HU): 100%% of segment 1 (%q) does, %d of %d voxels on CT", "Liver",
			liverVoxels, liverVoxels)},
		wantFrames: 3,
	}, {
		name: "CT 1 is air",
		air:  true,
		frames: map[string][]byte{liverCT1: air, liverCT2UID: real[liverCT2UID],
			liverCT3UID: real[liverCT3UID]},
		// 35220 / 107098 = 32.886%.
		want: []string{fmt.Sprintf("boundary.air: at most 5%% of a segment may lie on air "+
			"(under -900 HU): 32.9%% of segment 1 (%q) does, 35220 of %d voxels on CT",
			"Liver", liverVoxels)},
		wantFrames: 3,
	}, {
		name:   "rule off: no frame fetched",
		frames: real,
	}, {
		name:        "sources in the same request are not read",
		air:         true,
		withSources: true,
		frames:      real,
		want: []string{qc.RuleSkipped + ": boundary.air did not run: reading source " +
			"pixels: source " + liverCT3UID + " frame 1: " + errSourceInRequest.Error()},
	}, {
		name:   "frame not in the archive",
		air:    true,
		frames: map[string][]byte{liverCT2UID: air, liverCT3UID: air},
		want: []string{qc.RuleSkipped + ": boundary.air did not run: reading source " +
			"pixels: source " + liverCT1 + " frame 1: fetching source frame: upstream " +
			"answered 404: not found upstream"},
		wantFrames: 3,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			up.metadata[liverCTSeries] = readTestFile(t,
				"testdata/orthanc-liver-ct-metadata.json")
			fs := newFrameServer(t, up, tt.frames)
			profile := writeAirProfile(t, tt.air)
			g := newTestGateway(t, fs.URL+"/dicom-web", func(c *Config) {
				c.Profile = profile
			})

			parts := []part{dicomPart(t, liverSEGFile)}
			if tt.withSources {
				parts = []part{dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
					dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile)}
			}
			res, b := g.stow(t, "/dicom-web/studies", stowContentType,
				multipartBody(parts...), nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("STOW = %d, want 200; %.400s", res.StatusCode, b)
			}
			if diff := cmp.Diff(tt.want, airFindings(t, g, liverSEGSOP)); diff != "" {
				t.Errorf("boundary.air findings (-want +got):\n%s", diff)
			}
			if got := fs.requested(); len(got) != tt.wantFrames {
				t.Errorf("frame requests = %q, want %d", got, tt.wantFrames)
			}
		})
	}
}

func TestWADOPixelsBound(t *testing.T) {
	tests := []struct {
		name       string
		frames     int
		bytes      int64
		n          int
		wantErr    error
		wantFrames int
		wantBytes  int64
	}{
		{"first frame", 0, 0, liverCTFrameBytes, nil, 1, liverCTFrameBytes},
		{"last frame allowed", maxPixelFrames - 1, 0, 2, nil, maxPixelFrames, 2},
		{"one frame too many", maxPixelFrames, 0, 2, errPixelBudget, maxPixelFrames, 0},
		{"bytes up to the bound", 1, maxPixelBytes - 10, 10, nil, 2, maxPixelBytes},
		{"bytes over the bound", 1, maxPixelBytes - 10, 11, errPixelBudget, 1,
			maxPixelBytes - 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &wadoPixels{frames: tt.frames, bytes: tt.bytes}
			err := p.spend(tt.n)
			if !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("spend(%d) = %v, want %v", tt.n, err, tt.wantErr)
			}
			if p.frames != tt.wantFrames || p.bytes != tt.wantBytes {
				t.Errorf("after spend(%d): %d frames, %d bytes; want %d, %d", tt.n,
					p.frames, p.bytes, tt.wantFrames, tt.wantBytes)
			}
		})
	}
}
