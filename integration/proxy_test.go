package integration

import (
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qcgate/qcgate/integration/harness"
)

// tapEnv is an Orthanc, a recording tap in front of it, and a gateway in
// front of the tap.
type tapEnv struct {
	*env
	tap *harness.Tap
}

// newTapEnv starts Orthanc (with extra configuration keys), a tap and a
// gateway whose upstream is the tap, with extra gateway settings.
func newTapEnv(t *testing.T, orthancConfig map[string]any, settings map[string]string) *tapEnv {
	t.Helper()
	o := harness.StartOrthanc(t, harness.OrthancOptions{Config: orthancConfig})
	tap := harness.NewTap(t, o.URL)
	g := harness.StartGateway(t, o, harness.GatewayOptions{
		Upstream: tap.URL + "/dicom-web",
		Settings: settings,
	})
	return &tapEnv{
		env: &env{orthanc: o, gateway: g, gw: g.Client(), direct: o.Client()},
		tap: tap,
	}
}

// TestGatewayHidesOrthancREST sends paths that would reach Orthanc's REST
// API, plain, encoded, with dot segments and double slashes, to the
// gateway, with a valid annotator token and without one. With the token
// each gets 404, without it 401; none reaches Orthanc: the tap records
// nothing, and a Lua script that would tag the stored CT has no effect. The
// same script sent to Orthanc directly does tag it, which shows the check
// can fail. With the OHIF viewer served at the root, a GET outside the
// gateway's own paths may get the viewer's index.html instead, which is
// the viewer's routing and still reaches nothing upstream.
func TestGatewayHidesOrthancREST(t *testing.T) {
	t.Parallel()
	t.Run("without viewer", func(t *testing.T) {
		t.Parallel()
		testGatewayHidesOrthancREST(t, nil, nil)
	})
	t.Run("with viewer", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		index := []byte("<!doctype html><title>viewer stand-in</title>")
		if err := os.WriteFile(filepath.Join(dir, "index.html"), index, 0o600); err != nil {
			t.Fatalf("writing viewer stand-in: %v", err)
		}
		testGatewayHidesOrthancREST(t, map[string]string{"ohif_dir": dir}, index)
	})
}

// testGatewayHidesOrthancREST is TestGatewayHidesOrthancREST with gateway
// settings; viewerIndex is the viewer's index.html, nil without viewer.
func testGatewayHidesOrthancREST(t *testing.T, settings map[string]string, viewerIndex []byte) {
	e := newTapEnv(t, map[string]any{"ExecuteLuaEnabled": true}, settings)
	byViewer := func(method string, resp *harness.Response) bool {
		return viewerIndex != nil && method == http.MethodGet &&
			resp.Status == http.StatusOK && bytes.Equal(resp.Body, viewerIndex)
	}
	e.direct.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, ctImage))).
		RequireStatus(t, http.StatusOK)
	id := e.orthanc.InstanceID(t, ctImageSOP)
	if id == "" {
		t.Fatalf("Orthanc lookup of the stored CT found nothing")
	}
	script := func(value string) []byte {
		return fmt.Appendf(nil, "RestApiPut('/instances/%s/metadata/%s', '%s')",
			id, harness.MetadataQCDecision, value)
	}

	tests := []struct {
		method string
		target string
	}{
		{"POST", "/tools/execute-script"},
		{"POST", "//tools/execute-script"},
		{"POST", "/dicom-web/../tools/execute-script"},
		{"POST", "/dicom-web/%2e%2e/tools/execute-script"},
		{"POST", "/dicom-web/%2E%2E/tools/execute-script"},
		{"POST", "/dicom-web/..%2ftools/execute-script"},
		{"POST", "/dicom-web%2f..%2ftools%2fexecute-script"},
		{"POST", "/dicom-web//../tools/execute-script"},
		{"POST", "/dicom-web/studies/../../tools/execute-script"},
		{"POST", "/dicom-web/studies/%2e%2e/%2e%2e/tools/execute-script"},
		{"POST", "/wado/../tools/execute-script"},
		{"POST", "/%74ools/execute-script"},
		{"POST", "/dicom-web/..%5ctools/execute-script"},
		{"GET", "/system"},
		{"GET", "/instances"},
		{"GET", "/instances/" + id},
		{"GET", "/dicom-web/../system"},
		{"GET", "/dicom-web/%2e%2e/system"},
		{"GET", "/dicom-web/studies/..%2f..%2finstances"},
		{"GET", "//system"},
		{"GET", "/app/explorer.html"},
		{"GET", "/qc/../system"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target, func(t *testing.T) {
			e.tap.Reset()
			var body []byte
			if tt.method == http.MethodPost {
				body = script("through-the-gateway")
			}
			resp := e.gw.Raw(t, tt.method, tt.target, e.gw.Header, body)
			if resp.Status != http.StatusNotFound && !byViewer(tt.method, resp) {
				t.Errorf("%s %s = %d, want 404; body: %s",
					tt.method, tt.target, resp.Status, resp.Snippet())
			}
			// Without a token: 401 before the path is looked at; the
			// viewer answers its own paths first, 404 for a missing file.
			resp = e.gw.Raw(t, tt.method, tt.target, nil, body)
			viewerMiss := viewerIndex != nil && resp.Status == http.StatusNotFound
			if resp.Status != http.StatusUnauthorized && !byViewer(tt.method, resp) &&
				!viewerMiss {
				t.Errorf("%s %s without a token = %d, want 401; body: %s",
					tt.method, tt.target, resp.Status, resp.Snippet())
			}
			for _, r := range e.tap.Requests() {
				t.Errorf("%s %s reached the upstream as %s %s",
					tt.method, tt.target, r.Method, r.RequestURI)
			}
		})
	}

	if v, ok := e.orthanc.Metadata(t, id, harness.MetadataQCDecision); ok {
		t.Errorf("metadata %s = %q after the attacks, want it unset", harness.MetadataQCDecision, v)
	}
	if s := e.orthanc.Statistics(t); s.CountInstances != 1 {
		t.Errorf("Orthanc holds %d instances, want 1", s.CountInstances)
	}

	// The gateway still serves DICOMweb, and the script works on Orthanc
	// itself.
	if !e.qidoInstance(t, ctImageSOP) {
		t.Errorf("QIDO through the gateway does not find the CT after the attacks")
	}
	direct := bytes.NewReader(script("direct"))
	e.direct.Do(t, http.MethodPost, "/tools/execute-script", direct, nil).
		RequireStatus(t, http.StatusOK)
	if v, _ := e.orthanc.Metadata(t, id, harness.MetadataQCDecision); v != "direct" {
		t.Errorf("metadata after the direct script = %q, want %q", v, "direct")
	}
}

// TestQIDORepair checks that OHIF's study list query, whose includefield
// values are joined by an encoded comma, returns StudyDescription through
// the gateway although Orthanc 1.10 alone does not (TestOrthancPeerFacts).
func TestQIDORepair(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})
	e.requireStow(t, http.StatusOK, ctImage)

	tests := []struct {
		name  string
		query string
	}{
		{"encoded comma in includefield", "includefield=00081030%2C00080060"},
		{"encoded wildcard", "StudyDescription=e%2A&includefield=00081030"},
		{"repeated includefield", "includefield=00081030&includefield=00080060"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := e.gw.QIDO(t, "/dicom-web/studies?"+tt.query)
			if len(found) != 1 {
				t.Fatalf("QIDO studies?%s through the gateway = %d matches, want 1",
					tt.query, len(found))
			}
			if got := found[0].String(harness.TagStudyDescription); got != ctImageStudyDescription {
				t.Errorf("StudyDescription = %q, want %q", got, ctImageStudyDescription)
			}
		})
	}
}

// TestHeadersNotForwarded checks what the gateway must not pass upstream:
// the client's Authorization header, a valid bearer token (the gateway
// sends its own credentials), and Expect: 100-continue, which Orthanc never
// answers, so forwarding it stalls every upload by a second.
func TestHeadersNotForwarded(t *testing.T) {
	t.Parallel()
	e := newTapEnv(t, nil, nil)
	clientAuth := e.gw.Header.Get("Authorization")
	if clientAuth == "" {
		t.Fatalf("the gateway's test client sends no token")
	}

	resp := e.gw.Get(t, "/dicom-web/studies", http.Header{"Accept": {harness.MediaTypeDICOMJSON}})
	resp.RequireStatus(t, http.StatusOK, http.StatusNoContent)

	body := harness.Multipart(harness.FilePart(t, ctImage))
	start := time.Now()
	resp = e.gw.Do(t, http.MethodPost, "/dicom-web/studies", bytes.NewReader(body.Data),
		http.Header{
			"Content-Type": {body.ContentType},
			"Expect":       {"100-continue"},
			"Accept":       {harness.MediaTypeDICOMJSON},
		})
	took := time.Since(start)
	resp.RequireStatus(t, http.StatusOK)
	if took > 900*time.Millisecond {
		t.Errorf("STOW with Expect: 100-continue took %v, want under 0.9 s", took)
	}

	reqs := e.tap.Requests()
	if len(reqs) == 0 {
		t.Fatalf("no request reached the upstream")
	}
	for _, r := range reqs {
		got := r.Header.Get("Authorization")
		if got == clientAuth || !strings.HasPrefix(got, "Basic ") {
			t.Errorf("%s %s reached the upstream with Authorization %q, want the gateway's Basic",
				r.Method, r.RequestURI, got)
		}
		if got := r.Header.Get("Expect"); got != "" {
			t.Errorf("%s %s reached the upstream with Expect %q", r.Method, r.RequestURI, got)
		}
	}
}

// TestRetrievalsPassThrough fetches a stored CT through the gateway with
// WADO-URI and WADO-RS: the file comes back byte for byte, and its one
// frame as a multipart answer of 128 x 128 x 2 bytes.
func TestRetrievalsPassThrough(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})
	answer := e.requireStow(t, http.StatusOK, ctImage)
	if len(answer.retrieveURLs) < 2 {
		t.Fatalf("STOW answer has %d Retrieve URLs, want the study's and the instance's",
			len(answer.retrieveURLs))
	}
	want, err := os.ReadFile(ctImage)
	if err != nil {
		t.Fatalf("reading test file: %v", err)
	}

	t.Run("WADO-URI", func(t *testing.T) {
		series := e.gw.QIDO(t, "/dicom-web/studies/"+ctImageStudy+"/series")
		if len(series) != 1 {
			t.Fatalf("QIDO series = %d, want 1", len(series))
		}
		// Orthanc 1.10 does not decode WADO-URI query values either:
		// contentType=application%2Fdicom gets 400 from it.
		q := "/wado?requestType=WADO&contentType=application/dicom&studyUID=" + ctImageStudy +
			"&seriesUID=" + series[0].String(harness.TagSeriesInstanceUID) +
			"&objectUID=" + ctImageSOP
		resp := e.gw.Get(t, q, nil)
		resp.RequireStatus(t, http.StatusOK)
		if !bytes.Equal(resp.Body, want) {
			t.Errorf("WADO-URI answer = %d bytes, want the %d bytes of the file sent",
				len(resp.Body), len(want))
		}
	})

	t.Run("WADO-RS frame", func(t *testing.T) {
		last := answer.retrieveURLs[len(answer.retrieveURLs)-1]
		instance := strings.TrimPrefix(last, e.gateway.URL)
		resp := e.gw.Get(t, instance+"/frames/1", http.Header{
			"Accept": {`multipart/related; type="application/octet-stream"`},
		})
		resp.RequireStatus(t, http.StatusOK)
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if err != nil || mt != "multipart/related" {
			t.Fatalf("Content-Type = %q, want multipart/related", resp.Header.Get("Content-Type"))
		}
		frame := partPayload(t, resp.Body, params["boundary"])
		if len(frame) != 128*128*2 {
			t.Errorf("frame = %d bytes, want %d", len(frame), 128*128*2)
		}
	})
}

// partPayload returns the content of the only part of a multipart body.
func partPayload(t *testing.T, body []byte, boundary string) []byte {
	t.Helper()
	start := bytes.Index(body, []byte("--"+boundary))
	if start < 0 {
		t.Fatalf("multipart body without its boundary")
	}
	head := bytes.Index(body[start:], []byte("\r\n\r\n"))
	end := bytes.Index(body, []byte("\r\n--"+boundary+"--"))
	if head < 0 || end < 0 {
		t.Fatalf("multipart body without header end or closing delimiter")
	}
	return body[start+head+4 : end]
}
