package integration

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/qcgate/qcgate/integration/harness"
)

// bypassBoundary delimits the hand-made bodies of the bypass tests.
const bypassBoundary = "qcgate-bypass-5e1c"

// rawPart is one part of a hand-made multipart body: its header lines and
// its content.
type rawPart struct {
	headers []string
	data    []byte
}

// rawMultipart builds a multipart body with boundary from parts, each with
// its own header lines.
func rawMultipart(boundary string, parts ...rawPart) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\n", boundary)
		for _, h := range p.headers {
			b.WriteString(h + "\r\n")
		}
		b.WriteString("\r\n")
		b.Write(p.data)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return b.Bytes()
}

// gzipped returns data compressed with gzip.
func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	if err := zw.Close(); err != nil {
		t.Fatalf("gzip: %v", err)
	}
	return b.Bytes()
}

// TestNoWayAroundTheGate sends the GBM SEG, which QC rejects (none of its
// 32 sources exist), in every way a client could try to slip it past the
// check, and requires each to be either checked (a rejected report) or
// refused with a 4xx; and, asked directly, Orthanc never holds it.
func TestNoWayAroundTheGate(t *testing.T) {
	seg, err := os.ReadFile(gbmSEG)
	if err != nil {
		t.Fatalf("reading SEG: %v", err)
	}
	good := harness.StowContentType(bypassBoundary)
	dicomPart := rawPart{headers: []string{"Content-Type: application/dicom"}, data: seg}
	wellFormed := rawMultipart(bypassBoundary, dicomPart)
	inner := rawMultipart("inner-7a2b", dicomPart)
	jsonMeta := fmt.Sprintf(`[{"00080016":{"vr":"UI","Value":[%q]},`+
		`"00080018":{"vr":"UI","Value":[%q]},"7FE00010":{"vr":"OB","BulkDataURI":"bulk1"}}]`,
		"1.2.840.10008.5.1.4.1.1.66.4", gbmSOP)

	tests := []struct {
		name   string
		path   string
		header http.Header
		body   []byte
		// chunked sends the body without a Content-Length.
		chunked bool
	}{
		{"DICOM JSON with bulk data", "/dicom-web/studies", http.Header{"Content-Type": {
			`multipart/related; type="application/dicom+json"; boundary=` + bypassBoundary}},
			rawMultipart(bypassBoundary,
				rawPart{[]string{"Content-Type: application/dicom+json"}, []byte(jsonMeta)},
				rawPart{[]string{"Content-Type: application/octet-stream",
					"Content-Location: bulk1"}, seg}), false},
		{"bare octet-stream body", "/dicom-web/studies",
			http.Header{"Content-Type": {"application/octet-stream"}}, seg, false},
		{"bare application/dicom body", "/dicom-web/studies",
			http.Header{"Content-Type": {"application/dicom"}}, seg, false},
		{"octet-stream part", "/dicom-web/studies", http.Header{"Content-Type": {good}},
			rawMultipart(bypassBoundary, rawPart{[]string{
				"Content-Type: application/octet-stream"}, seg}), false},
		{"part without Content-Type", "/dicom-web/studies",
			http.Header{"Content-Type": {good}},
			rawMultipart(bypassBoundary, rawPart{nil, seg}), false},
		{"part type in odd case", "/dicom-web/studies", http.Header{"Content-Type": {good}},
			rawMultipart(bypassBoundary, rawPart{[]string{
				"Content-Type: Application/DICOM"}, seg}), false},
		{"type parameter in odd case", "/dicom-web/studies", http.Header{"Content-Type": {
			`Multipart/Related; TYPE="Application/Dicom"; Boundary=` + bypassBoundary}},
			wellFormed, false},
		{"type parameter unquoted", "/dicom-web/studies", http.Header{"Content-Type": {
			`multipart/related; type=application/dicom; boundary=` + bypassBoundary}},
			wellFormed, false},
		{"type parameter single-quoted", "/dicom-web/studies", http.Header{"Content-Type": {
			`multipart/related; type='application/dicom'; boundary=` + bypassBoundary}},
			wellFormed, false},
		{"type parameter with a transfer syntax", "/dicom-web/studies",
			http.Header{"Content-Type": {`multipart/related; type="application/dicom; ` +
				`transfer-syntax=*"; boundary=` + bypassBoundary}}, wellFormed, false},
		{"two type parameters", "/dicom-web/studies", http.Header{"Content-Type": {
			`multipart/related; type="application/dicom"; type="application/dicom+json"; ` +
				`boundary=` + bypassBoundary}}, wellFormed, false},
		{"nested multipart", "/dicom-web/studies", http.Header{"Content-Type": {good}},
			rawMultipart(bypassBoundary, rawPart{[]string{
				`Content-Type: multipart/related; type="application/dicom"; boundary=inner-7a2b`},
				inner}), false},
		{"gzip", "/dicom-web/studies", http.Header{"Content-Type": {good},
			"Content-Encoding": {"gzip"}}, gzipped(t, wellFormed), false},
		{"gzip in odd case", "/dicom-web/studies", http.Header{"Content-Type": {good},
			"Content-Encoding": {"GZip"}}, gzipped(t, wellFormed), false},
		{"deflate", "/dicom-web/studies", http.Header{"Content-Type": {good},
			"Content-Encoding": {"deflate"}}, wellFormed, false},
		{"gzip twice", "/dicom-web/studies", http.Header{"Content-Type": {good},
			"Content-Encoding": {"gzip, gzip"}}, gzipped(t, gzipped(t, wellFormed)), false},
		{"chunked", "/dicom-web/studies", http.Header{"Content-Type": {good}}, wellFormed,
			true},
		{"gzip and chunked", "/dicom-web/studies", http.Header{"Content-Type": {good},
			"Content-Encoding": {"gzip"}}, gzipped(t, wellFormed), true},
		{"to its study", "/dicom-web/studies/" + gbmStudy,
			http.Header{"Content-Type": {good}}, wellFormed, false},
		{"to another study", "/dicom-web/studies/" + liverStudy,
			http.Header{"Content-Type": {good}}, wellFormed, false},
		{"dot segments", "/dicom-web/studies/" + gbmStudy + "/..",
			http.Header{"Content-Type": {good}}, wellFormed, false},
		{"encoded dot segments", "/dicom-web/studies/%2e%2e/studies",
			http.Header{"Content-Type": {good}}, wellFormed, false},
		{"encoded slash", "/dicom-web%2fstudies", http.Header{"Content-Type": {good}},
			wellFormed, false},
		{"double slash", "/dicom-web//studies", http.Header{"Content-Type": {good}},
			wellFormed, false},
		{"leading double slash", "//dicom-web/studies", http.Header{"Content-Type": {good}},
			wellFormed, false},
		{"semicolon", "/dicom-web/studies;type=x", http.Header{"Content-Type": {good}},
			wellFormed, false},
		{"trailing slash", "/dicom-web/studies/", http.Header{"Content-Type": {good}},
			wellFormed, false},
		{"to instances", "/dicom-web/instances", http.Header{"Content-Type": {good}},
			wellFormed, false},
		{"to WADO-URI", "/wado", http.Header{"Content-Type": {good}}, wellFormed, false},
		{"Orthanc REST through dot segments", "/dicom-web/../instances",
			http.Header{"Content-Type": {"application/dicom"}}, seg, false},
		{"Orthanc REST through encoded dots", "/dicom-web/%2e%2e/instances",
			http.Header{"Content-Type": {"application/dicom"}}, seg, false},
		{"Orthanc REST through an encoded slash", "/dicom-web/..%2finstances",
			http.Header{"Content-Type": {"application/dicom"}}, seg, false},
		{"Orthanc REST directly", "/instances",
			http.Header{"Content-Type": {"application/dicom"}}, seg, false},
	}

	e := newEnv(t, harness.GatewayOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var resp *harness.Response
			if tt.chunked {
				h := tt.header.Clone()
				h.Set("Accept", harness.MediaTypeDICOMJSON)
				resp = e.gw.Do(t, http.MethodPost, tt.path, &onlyReader{bytes.NewReader(tt.body)},
					h)
			} else {
				resp = e.gw.Do(t, http.MethodPost, tt.path, bytes.NewReader(tt.body), tt.header)
			}

			// Never stored: Orthanc, asked directly, does not hold it.
			if e.heldByOrthanc(t, gbmSOP) {
				t.Fatalf("POST %s (%s) = %d and Orthanc now holds the rejected SEG", tt.path,
					tt.name, resp.Status)
			}
			// Checked (a rejected report exists) or refused (4xx).
			checked := e.gw.Get(t, "/qc/v1/reports/"+gbmSOP, nil).Status == http.StatusOK
			t.Logf("POST %s = %d, Warning %q", tt.path, resp.Status, resp.Header.Get("Warning"))
			if !checked && (resp.Status < 400 || resp.Status >= 500) {
				t.Errorf("POST %s (%s) = %d without a report, want the SEG checked or a 4xx",
					tt.path, tt.name, resp.Status)
			}
			if resp.Status < 300 {
				t.Errorf("POST %s (%s) = %d, want a refusal or a QC rejection", tt.path,
					tt.name, resp.Status)
			}
		})
	}
	// The ways a SEG is readable were checked, not just refused.
	if e.gw.Get(t, "/qc/v1/reports/"+gbmSOP, nil).Status != http.StatusOK {
		t.Errorf("no report of the SEG after the readable variants, want it checked")
	}
}

// onlyReader hides every method but Read, so net/http sends the body
// chunked, without a Content-Length.
type onlyReader struct{ r *bytes.Reader }

func (o *onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

// TestOrthancRESTOutOfReach sends the Orthanc REST requests that would
// change the archive or run code, under every path encoding, with an admin
// token, and requires that none reaches Orthanc.
func TestOrthancRESTOutOfReach(t *testing.T) {
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	tap := harness.NewTap(t, o.URL)
	g := harness.StartGateway(t, o, harness.GatewayOptions{Upstream: tap.URL + "/dicom-web"})
	admin := g.ClientAs("admin")

	targets := []struct{ method, path string }{
		{"POST", "/tools/execute-script"},
		{"POST", "/instances"},
		{"POST", "/studies/" + strings.Repeat("0", 8) + "/modify"},
		{"PUT", "/modalities/evil"},
		{"GET", "/modalities"},
		{"DELETE", "/instances/x"},
	}
	prefixes := []string{"", "/", "/dicom-web/..", "/dicom-web/%2e%2e", "/dicom-web/%2E%2E",
		"/dicom-web/.%2e", "/dicom-web/studies/../..", "/dicom-web/studies/%2e%2e/%2e%2e",
		"/wado/..", "/dicom-web;/..", "/dicom-web/studies;x=/../.."}
	for _, tg := range targets {
		for _, p := range prefixes {
			path := p + tg.path
			t.Run(tg.method+" "+path, func(t *testing.T) {
				tap.Reset()
				resp := admin.Do(t, tg.method, path, strings.NewReader(`os.execute("true")`),
					http.Header{"Content-Type": {"text/plain"}})
				if resp.Status < 400 || resp.Status >= 500 {
					t.Errorf("%s %s = %d, want a 4xx", tg.method, path, resp.Status)
				}
				if reqs := tap.Requests(); len(reqs) != 0 {
					t.Errorf("%s %s reached Orthanc: %s %s", tg.method, path, reqs[0].Method,
						reqs[0].RequestURI)
				}
			})
		}
	}
	// Encoded slashes in a path of the study resource do not reach a
	// different resource either.
	for _, path := range []string{"/dicom-web/studies%2f..%2f..%2finstances",
		"/dicom-web/studies/1.2.3%2f..%2f..%2f..%2finstances"} {
		tap.Reset()
		resp := admin.Do(t, "POST", path, strings.NewReader("x"),
			http.Header{"Content-Type": {"application/dicom"}})
		if resp.Status != http.StatusNotFound || len(tap.Requests()) != 0 {
			t.Errorf("POST %s = %d with %d upstream requests, want 404 and none", path,
				resp.Status, len(tap.Requests()))
		}
	}
}
