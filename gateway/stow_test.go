package gateway

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc/store"
)

// Real files of the tests, under realData.
const (
	liverCTFile1 = realData + "/dcmqi-ct-liver-binary/source/ct-3slice-01.dcm"
	liverCTFile2 = realData + "/dcmqi-ct-liver-binary/source/ct-3slice-02.dcm"
	liverCTFile3 = realData + "/dcmqi-ct-liver-binary/source/ct-3slice-03.dcm"
	liverSEGFile = realData + "/dcmqi-ct-liver-binary/liver.dcm"
	// warnSEGFile is 510x510 on the 512x512 liver CTs (MANIFEST.md).
	warnSEGFile = realData + "/pydicom-liver-nonbyte-aligned-510/liver_nonbyte_aligned.dcm"
	warnSEGSOP  = "1.2.826.0.1.3680043.8.498.21030306363353744389552298683532131927"
	// missingSEGFile references 32 instances of a series none of the
	// tests hold.
	missingSEGFile = realData + "/orthanc-tcga-gbm-brats-3seg-source-missing/DicomSeg.dcm"
	missingSEGSOP  = "1.2.276.0.7230010.3.1.4.8323329.356949.1540933411.360229"
	liverCT2       = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23432.1"
	liverCT3       = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1"
	// liverSEGVoxels is the liver segment's foreground over its 3 frames,
	// from MANIFEST.md (an independent decoder).
	liverSEGVoxels = 107098
)

// testBoundary delimits the multipart bodies of the tests.
const testBoundary = "qcgate-test-boundary-7d1f"

// stowContentType is the Content-Type of a well-formed STOW-RS request.
const stowContentType = `multipart/related; type="application/dicom"; boundary=` +
	testBoundary

// part is one part of a test request.
type part struct {
	ctype string
	data  []byte
}

// dicomPart returns an application/dicom part holding a file.
func dicomPart(t *testing.T, path string) part {
	t.Helper()
	return part{"application/dicom", readTestFile(t, path)}
}

// multipartBody builds a multipart/related body of parts.
func multipartBody(parts ...part) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		fmt.Fprintf(&b, "--%s\r\n", testBoundary)
		if p.ctype != "" {
			fmt.Fprintf(&b, "Content-Type: %s\r\n", p.ctype)
		}
		b.WriteString("\r\n")
		b.Write(p.data)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", testBoundary)
	return b.Bytes()
}

// stowAnswer is what a test reads from a STOW-RS answer.
type stowAnswer struct {
	retrieveURL string
	stored      []string
	retrieve    map[string]string
	failed      map[string]int
}

// parseAnswer decodes a DICOM JSON STOW-RS answer with encoding/json,
// independent of the dicomweb package.
func parseAnswer(t *testing.T, body []byte) stowAnswer {
	t.Helper()
	type attr struct {
		VR    string            `json:"vr"`
		Value []json.RawMessage `json:"Value"`
	}
	var ds map[string]attr
	if err := json.Unmarshal(body, &ds); err != nil {
		t.Fatalf("answer is not a DICOM JSON object: %v; body %.300s", err, body)
	}
	str := func(a attr) string {
		var s string
		if len(a.Value) > 0 {
			json.Unmarshal(a.Value[0], &s)
		}
		return s
	}
	items := func(a attr) []map[string]attr {
		var out []map[string]attr
		for _, v := range a.Value {
			var it map[string]attr
			if err := json.Unmarshal(v, &it); err != nil {
				t.Fatalf("sequence item: %v", err)
			}
			out = append(out, it)
		}
		return out
	}
	a := stowAnswer{retrieveURL: str(ds["00081190"]), retrieve: map[string]string{},
		failed: map[string]int{}}
	for _, it := range items(ds["00081199"]) {
		uid := str(it["00081155"])
		a.stored = append(a.stored, uid)
		a.retrieve[uid] = str(it["00081190"])
	}
	for _, it := range items(ds["00081198"]) {
		var reason int
		if v := it["00081197"].Value; len(v) > 0 {
			json.Unmarshal(v[0], &reason)
		}
		a.failed[str(it["00081155"])] = reason
	}
	slices.Sort(a.stored)
	return a
}

// stow sends a STOW-RS request to the gateway.
func (g *testGateway) stow(t *testing.T, path, ctype string, body []byte,
	header http.Header) (*http.Response, []byte) {
	t.Helper()
	h := http.Header{"Content-Type": {ctype}}
	for k, v := range header {
		h[k] = v
	}
	return g.do(t, http.MethodPost, path, h, bytes.NewReader(body))
}

// sorted returns a sorted copy.
func sorted(s ...string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func TestSTOWOutcomes(t *testing.T) {
	ctMetadata := readTestFile(t, "testdata/orthanc-liver-ct-metadata.json")
	tests := []struct {
		name string
		path string
		// parts builds the request; metadata are the upstream's series.
		parts    func(t *testing.T) []part
		metadata map[string][]byte
		refuse   []string
		want     int
		// wantStored are the instances listed stored and held upstream.
		wantStored []string
		wantFailed map[string]int
		// wantSent are the SOP Instance UIDs the upstream received, in order.
		wantSent []string
		// wantWarnings are substrings of the Warning headers, in order.
		wantWarnings []string
	}{{
		name: "sources and SEG in one request",
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
				dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile)}
		},
		want:       http.StatusOK,
		wantStored: sorted(liverCT1, liverCT2, liverCT3, liverSEGSOP),
		wantFailed: map[string]int{},
		wantSent:   []string{liverCT1, liverCT2, liverCT3, liverSEGSOP},
	}, {
		name: "SEG whose sources the upstream holds",
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, liverSEGFile)}
		},
		metadata:   map[string][]byte{liverCTSeries: ctMetadata},
		want:       http.StatusOK,
		wantStored: []string{liverSEGSOP},
		wantFailed: map[string]int{},
		wantSent:   []string{liverSEGSOP},
	}, {
		// A 510x510 SEG on 512x512 sources: accepted with a warning, which
		// goes to a Warning header and the report, not to the answer body.
		name: "SEG accepted with warnings",
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
				dicomPart(t, liverCTFile3), dicomPart(t, warnSEGFile)}
		},
		want:       http.StatusOK,
		wantStored: sorted(liverCT1, liverCT2, liverCT3, warnSEGSOP),
		wantFailed: map[string]int{},
		wantSent:   []string{liverCT1, liverCT2, liverCT3, warnSEGSOP},
		wantWarnings: []string{"SEG " + warnSEGSOP + " accepted with warnings: " +
			"geometry.matrix_size"},
	}, {
		name: "SEG whose sources are nowhere",
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, missingSEGFile)}
		},
		want:       http.StatusConflict,
		wantFailed: map[string]int{missingSEGSOP: dicomweb.FailureQCRejected},
		wantWarnings: []string{`299 qcgate "SEG ` + missingSEGSOP +
			` rejected: references.source_missing`},
	}, {
		name: "rejected SEG beside an accepted one",
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, missingSEGFile), dicomPart(t, liverCTFile1),
				dicomPart(t, liverCTFile2), dicomPart(t, liverCTFile3),
				dicomPart(t, liverSEGFile)}
		},
		want:         http.StatusAccepted,
		wantStored:   sorted(liverCT1, liverCT2, liverCT3, liverSEGSOP),
		wantFailed:   map[string]int{missingSEGSOP: dicomweb.FailureQCRejected},
		wantSent:     []string{liverCT1, liverCT2, liverCT3, liverSEGSOP},
		wantWarnings: []string{"rejected: references.source_missing"},
	}, {
		name: "part that is not DICOM beside a CT",
		parts: func(t *testing.T) []part {
			return []part{{"application/dicom", bytes.Repeat([]byte("x"), 2000)},
				dicomPart(t, liverCTFile1)}
		},
		want:         http.StatusAccepted,
		wantStored:   []string{liverCT1},
		wantFailed:   map[string]int{"": dicomweb.FailureCannotUnderstand},
		wantSent:     []string{liverCT1},
		wantWarnings: []string{"part 1 is not a readable DICOM file"},
	}, {
		name: "instance of another study than the URL's",
		path: "/dicom-web/studies/1.2.826.0.1.3680043.8.498.1",
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, liverCTFile1)}
		},
		want:         http.StatusConflict,
		wantFailed:   map[string]int{liverCT1: dicomweb.FailureStudyInstanceUIDMismatch},
		wantWarnings: []string{"part 1 belongs to another study"},
	}, {
		name: "instance of the URL's study",
		path: "/dicom-web/studies/" + liverStudy,
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, liverCTFile1)}
		},
		want:       http.StatusOK,
		wantStored: []string{liverCT1},
		wantFailed: map[string]int{},
		wantSent:   []string{liverCT1},
	}, {
		name: "DICOM JSON and nested multipart parts are refused",
		parts: func(t *testing.T) []part {
			seg := readTestFile(t, liverSEGFile)
			return []part{{"application/dicom+json", []byte(`[{}]`)},
				{`multipart/related; boundary=inner`, append([]byte("--inner\r\n\r\n"),
					seg...)},
				{"application/octet-stream", seg}}
		},
		want:         http.StatusConflict,
		wantFailed:   map[string]int{"": dicomweb.FailureCannotUnderstand},
		wantWarnings: []string{"media type application/dicom+json", "multipart/related"},
	}, {
		name: "upstream refuses one instance",
		parts: func(t *testing.T) []part {
			return []part{dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2)}
		},
		refuse:       []string{liverCT2},
		want:         http.StatusAccepted,
		wantStored:   []string{liverCT1},
		wantFailed:   map[string]int{liverCT2: dicomweb.FailureProcessing},
		wantSent:     []string{liverCT1, liverCT2},
		wantWarnings: []string{"part 2: upstream refused it"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			for k, v := range tt.metadata {
				up.metadata[k] = v
			}
			for _, uid := range tt.refuse {
				up.refuse[uid] = true
			}
			g := newTestGateway(t, up.dicomWebURL(), nil)
			path := tt.path
			if path == "" {
				path = "/dicom-web/studies"
			}

			parts := tt.parts(t)
			res, body := g.stow(t, path, stowContentType, multipartBody(parts...), nil)
			if res.StatusCode != tt.want {
				t.Fatalf("STOW = %d, want %d; Warning %q; body %.400s", res.StatusCode,
					tt.want, res.Header.Values("Warning"), body)
			}
			if ct := res.Header.Get("Content-Type"); ct != "application/dicom+json" {
				t.Errorf("Content-Type = %q, want application/dicom+json", ct)
			}
			a := parseAnswer(t, body)
			if diff := cmp.Diff(tt.wantStored, a.stored); diff != "" {
				t.Errorf("stored instances mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFailed, a.failed); diff != "" {
				t.Errorf("failed instances mismatch (-want +got):\n%s", diff)
			}
			checkRetrieveURLs(t, g, a)
			checkWarnings(t, res.Header.Values("Warning"), tt.wantWarnings)
			checkSent(t, up, parts, tt.wantSent)
			stored := up.storedUIDs()
			slices.Sort(stored)
			if diff := cmp.Diff(tt.wantStored, stored); diff != "" {
				t.Errorf("upstream holds (-listed +held):\n%s", diff)
			}
		})
	}
}

// checkRetrieveURLs requires every Retrieve URL to point at the gateway.
func checkRetrieveURLs(t *testing.T, g *testGateway, a stowAnswer) {
	t.Helper()
	for uid, u := range a.retrieve {
		if !strings.HasPrefix(u, g.ts.URL+"/dicom-web/studies/") ||
			!strings.HasSuffix(u, "/instances/"+uid) {
			t.Errorf("Retrieve URL of %s = %q, want one at the gateway %s", uid, u, g.ts.URL)
		}
	}
	if len(a.stored) > 0 && !strings.HasPrefix(a.retrieveURL, g.ts.URL+"/dicom-web/studies/") {
		t.Errorf("study Retrieve URL = %q, want one at the gateway", a.retrieveURL)
	}
}

// checkWarnings requires the Warning headers to hold the substrings, in
// order, and to be well-formed 299 warnings.
func checkWarnings(t *testing.T, got, want []string) {
	t.Helper()
	if len(got) < len(want) {
		t.Errorf("Warning headers = %q, want at least %d", got, len(want))
		return
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("Warning[%d] = %q, want it to contain %q", i, got[i], w)
		}
	}
	for _, v := range got {
		if !strings.HasPrefix(v, `299 qcgate "`) || !strings.HasSuffix(v, `"`) {
			t.Errorf("Warning %q is not a 299 qcgate warning", v)
		}
		for _, r := range v {
			if r < 0x20 || r > 0x7e {
				t.Errorf("Warning %q holds a non-ASCII or control character", v)
				break
			}
		}
	}
}

// checkSent requires the upstream to have received, in one STOW-RS
// request, exactly the parts with those SOP Instance UIDs, byte for byte.
func checkSent(t *testing.T, up *fakeOrthanc, parts []part, want []string) {
	t.Helper()
	reqs := up.stowRequests()
	if len(want) == 0 {
		if len(reqs) != 0 {
			t.Errorf("upstream received %d STOW-RS requests, want none", len(reqs))
		}
		return
	}
	if len(reqs) != 1 {
		t.Fatalf("upstream received %d STOW-RS requests, want 1", len(reqs))
	}
	var got []string
	for _, p := range reqs[0].Parts {
		_, uid, _ := sopOf(p)
		got = append(got, uid)
		if !slices.ContainsFunc(parts, func(sent part) bool { return bytes.Equal(sent.data, p) }) {
			t.Errorf("upstream part %s differs from every part the client sent", uid)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parts sent upstream mismatch (-want +got):\n%s", diff)
	}
	if ct := reqs[0].Header.Get("Content-Type"); !strings.Contains(ct, "application/dicom") {
		t.Errorf("upstream STOW Content-Type = %q", ct)
	}
}

func TestSTOWRequestErrors(t *testing.T) {
	good := multipartBody(part{"application/dicom", readTestFile(t, liverCTFile1)})
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(good)
	zw.Close()
	tests := []struct {
		name, ctype, encoding string
		body                  []byte
		want                  int
		wantMsg               string
	}{
		{"no content type", "", "", good, 415, "no Content-Type"},
		{"not multipart", "application/dicom", "", good, 415, "not multipart/related"},
		{"no type parameter", "multipart/related; boundary=" + testBoundary, "", good, 415,
			"type parameter"},
		{"DICOM XML parts", `multipart/related; type="application/dicom+xml"; boundary=` +
			testBoundary, "", good, 415, "application/dicom+xml"},
		{"no boundary", `multipart/related; type="application/dicom"`, "", good, 400,
			"boundary"},
		{"empty multipart", stowContentType, "", []byte("--" + testBoundary + "--\r\n"),
			400, "empty multipart"},
		{"no body", stowContentType, "", nil, 400, ""},
		{"unknown encoding", stowContentType, "br", good, 415, "Content-Encoding br"},
		{"bad gzip", stowContentType, "gzip", good, 400, "not gzip"},
		{"gzip", stowContentType, "gzip", gz.Bytes(), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), nil)
			h := http.Header{}
			if tt.encoding != "" {
				h.Set("Content-Encoding", tt.encoding)
			}
			res, body := g.stow(t, "/dicom-web/studies", tt.ctype, tt.body, h)
			if res.StatusCode != tt.want {
				t.Fatalf("STOW = %d, want %d; body %s", res.StatusCode, tt.want, body)
			}
			if !strings.Contains(string(body), tt.wantMsg) {
				t.Errorf("body %s, want it to say %q", body, tt.wantMsg)
			}
			n := len(up.stowRequests())
			if tt.want == 200 && n != 1 || tt.want != 200 && n != 0 {
				t.Errorf("upstream received %d STOW-RS requests", n)
			}
		})
	}
}

func TestSTOWTruncatedBody(t *testing.T) {
	tests := []struct {
		name string
		// whole parts before the cut one, and how much of it is sent.
		whole   []string
		cutPart string
		cutAt   int
		// wantAborted: the upstream request had started streaming (over
		// startThreshold) and was cut; else it was never sent.
		wantAborted bool
		wantFailed  []string
	}{
		{"small: nothing sent", []string{liverCTFile1}, liverCTFile2, 300_000, false,
			[]string{liverCT1}},
		{"streaming: request cut", []string{liverCTFile1, liverCTFile2}, liverCTFile3,
			300_000, true, []string{liverCT1, liverCT2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), nil)
			var parts []part
			size := 0
			for _, f := range tt.whole {
				parts = append(parts, dicomPart(t, f))
				size += len(parts[len(parts)-1].data)
			}
			parts = append(parts, dicomPart(t, tt.cutPart))
			body := multipartBody(parts...)
			cut := body[:size+tt.cutAt]

			res, b := g.stow(t, "/dicom-web/studies", stowContentType, cut, nil)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("STOW of a cut body = %d, want 400; body %.300s", res.StatusCode, b)
			}
			a := parseAnswer(t, b)
			if len(a.stored) != 0 {
				t.Errorf("answer lists %v stored, want none", a.stored)
			}
			for _, uid := range tt.wantFailed {
				if _, ok := a.failed[uid]; !ok {
					t.Errorf("answer's failed = %v, want %s listed", a.failed, uid)
				}
			}
			checkWarnings(t, res.Header.Values("Warning"), []string{"ends before the closing"})

			// The fake may still be reading when the gateway has answered.
			deadline := time.Now().Add(3 * time.Second)
			for tt.wantAborted && len(up.stowRequests()) == 0 &&
				time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			reqs := up.stowRequests()
			switch {
			case tt.wantAborted && (len(reqs) != 1 || reqs[0].BodyErr == nil):
				t.Errorf("upstream STOW requests = %d, want 1 whose body broke off", len(reqs))
			case !tt.wantAborted && len(reqs) != 0:
				t.Errorf("upstream STOW requests = %d, want none", len(reqs))
			}
			if held := up.storedUIDs(); len(held) != 0 {
				t.Errorf("upstream holds %v after a cut request, want nothing", held)
			}
		})
	}
}

func TestSTOWSEGOverLimit(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), func(c *Config) { c.MaxSEGPartBytes = 64 * KiB })
	body := multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverSEGFile))

	res, b := g.stow(t, "/dicom-web/studies", stowContentType, body, nil)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("STOW with a 102630-byte SEG over 64KiB = %d, want 413; body %.300s",
			res.StatusCode, b)
	}
	a := parseAnswer(t, b)
	want := map[string]int{liverCT1: dicomweb.FailureProcessing,
		liverSEGSOP: dicomweb.FailureOutOfResources}
	if diff := cmp.Diff(want, a.failed); diff != "" {
		t.Errorf("failed instances mismatch (-want +got):\n%s", diff)
	}
	if held := up.storedUIDs(); len(held) != 0 {
		t.Errorf("upstream holds %v, want nothing", held)
	}
	for _, r := range up.stowRequests() {
		if bytes.Contains(r.Body, readTestFile(t, liverSEGFile)[:4096]) {
			t.Errorf("the SEG's bytes reached the upstream")
		}
	}
	checkWarnings(t, res.Header.Values("Warning"), []string{"max_seg_part_bytes"})

	// A CT, not held, passes whatever its size.
	res, b = g.stow(t, "/dicom-web/studies", stowContentType,
		multipartBody(dicomPart(t, liverCTFile2)), nil)
	if res.StatusCode != http.StatusOK {
		t.Errorf("STOW of a 526 KB CT with a 64KiB SEG limit = %d, want 200; %.200s",
			res.StatusCode, b)
	}
}

func TestSTOWRequestOverLimit(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), func(c *Config) { c.MaxRequestBytes = 100_000 })
	res, b := g.stow(t, "/dicom-web/studies", stowContentType,
		multipartBody(dicomPart(t, liverCTFile1)), nil)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("STOW of 526 KB over a 100000-byte limit = %d, want 413; %.200s",
			res.StatusCode, b)
	}
	if held := up.storedUIDs(); len(held) != 0 {
		t.Errorf("upstream holds %v, want nothing", held)
	}
}

func TestSTOWUpstreamFailures(t *testing.T) {
	hanging := newFakeOrthanc(t)
	hanging.hook = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	down := newFakeOrthanc(t)
	downURL := down.dicomWebURL()
	down.Close()

	tests := []struct {
		name     string
		upstream string
		want     int
	}{
		{"unreachable", downURL, http.StatusBadGateway},
		{"timeout", hanging.dicomWebURL(), http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, tt.upstream, func(c *Config) {
				c.UpstreamTimeout = 300 * time.Millisecond
			})
			body := multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
				dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile))
			start := time.Now()
			res, b := g.stow(t, "/dicom-web/studies", stowContentType, body, nil)
			if res.StatusCode != tt.want {
				t.Fatalf("STOW = %d, want %d; body %.300s", res.StatusCode, tt.want, b)
			}
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("STOW took %v with a 300ms upstream timeout", took)
			}
			if a := parseAnswer(t, b); len(a.stored) != 0 {
				t.Errorf("answer lists %v stored, want none", a.stored)
			}

			// If the SEG was checked (an upstream that fails only at the end
			// lets the whole body in), its report must not claim it stored.
			rep, err := g.srv.store.Latest(t.Context(), liverSEGSOP)
			if errors.Is(err, store.ErrNotFound) && tt.want == http.StatusBadGateway {
				return
			}
			if err != nil {
				t.Fatalf("report of the SEG: %v", err)
			}
			if rep.Stored || !strings.Contains(rep.Outcome, "upstream") {
				t.Errorf("report stored=%v outcome=%q, want not stored because of the "+
					"upstream", rep.Stored, rep.Outcome)
			}
		})
	}
}

func TestSTOWAnswerXML(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	res, b := g.stow(t, "/dicom-web/studies", stowContentType,
		multipartBody(dicomPart(t, liverCTFile1)),
		http.Header{"Accept": {"application/dicom+xml"}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("STOW = %d, want 200", res.StatusCode)
	}
	if ct := res.Header.Get("Content-Type"); ct != "application/dicom+xml" {
		t.Errorf("Content-Type = %q, want application/dicom+xml", ct)
	}
	if !bytes.Contains(b, []byte("<NativeDicomModel")) || !bytes.Contains(b, []byte(liverCT1)) {
		t.Errorf("XML answer %.300s lacks the model or the instance", b)
	}
}

func TestSTOWReportsTagsAndRecords(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	body := multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
		dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile), dicomPart(t, missingSEGFile))
	res, b := g.stow(t, "/dicom-web/studies", stowContentType, body,
		http.Header{"Authorization": {"Bearer very-secret-token"}})
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("STOW = %d, want 202; %.300s", res.StatusCode, b)
	}
	g.srv.tagger.wait()

	// The accepted SEG: report stored, tagged in Orthanc with its ID.
	res, b = g.do(t, http.MethodGet, "/qc/v1/reports/"+liverSEGSOP, nil, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET report = %d, want 200", res.StatusCode)
	}
	var rep struct {
		Decision string `json:"decision"`
		Stored   bool   `json:"stored"`
		ReportID int64  `json:"report_id"`
		Segments []struct {
			Voxels int64 `json:"voxels"`
		} `json:"segments"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	if rep.Decision != "accepted" || !rep.Stored || len(rep.Segments) != 1 ||
		rep.Segments[0].Voxels != liverSEGVoxels {
		t.Errorf("report = %s, want accepted, stored, 1 segment of %d voxels", b,
			liverSEGVoxels)
	}
	wantTags := map[string]string{liverSEGSOP + " QCDecision": "accepted",
		liverSEGSOP + " QCReport": fmt.Sprint(rep.ReportID)}
	if diff := cmp.Diff(wantTags, up.tags); diff != "" {
		t.Errorf("Orthanc tags mismatch (-want +got):\n%s", diff)
	}

	// The rejected SEG: report stored, not stored upstream, not tagged.
	res, b = g.do(t, http.MethodGet, "/qc/v1/reports/"+missingSEGSOP, nil, nil)
	if res.StatusCode != http.StatusOK || !bytes.Contains(b, []byte(`"decision":"rejected"`)) ||
		!bytes.Contains(b, []byte(`"stored":false`)) {
		t.Errorf("rejected SEG's report = %d %.300s", res.StatusCode, b)
	}

	// One access record for the STOW, no UID, token or password in the log.
	recs := g.log.records(t, "request")
	var stowRec map[string]any
	for _, r := range recs {
		if r["route"] == "/dicom-web/studies" {
			stowRec = r
		}
	}
	want := map[string]any{"method": "POST", "status": float64(202), "stow_parts": float64(5),
		"stow_stored": float64(4), "stow_failed": float64(1), "seg_checked": float64(2),
		"seg_rejected": float64(1)}
	for k, v := range want {
		if stowRec[k] != v {
			t.Errorf("access record %s = %v, want %v (record %v)", k, stowRec[k], v, stowRec)
		}
	}
	logs := g.log.String()
	for _, secret := range []string{liverSEGSOP, missingSEGSOP, liverStudy, liverCT1,
		"very-secret-token", testPassword} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q", secret)
		}
	}

	// Metrics count the decisions.
	_, m := g.do(t, http.MethodGet, "/metrics", nil, nil)
	for _, line := range []string{`qcgate_qc_decisions_total{decision="accepted"} 1`,
		`qcgate_qc_decisions_total{decision="rejected"} 1`,
		`qcgate_qc_findings_total{rule="references.source_missing",severity="error"}`,
		`qcgate_http_requests_total{method="POST",route="/dicom-web/studies",status="202"} 1`,
		`qcgate_orthanc_tagging_total{result="ok"} 1`} {
		if !bytes.Contains(m, []byte(line)) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

func TestSTOWUpstreamAnswersEarly(t *testing.T) {
	up := newFakeOrthanc(t)
	up.early = func(w http.ResponseWriter, r *http.Request) {
		// Refuse at once, without reading the upload, and close.
		w.Header().Set("Connection", "close")
		http.Error(w, "unauthorized", http.StatusUnauthorized)
	}
	g := newTestGateway(t, up.dicomWebURL(), nil)
	var parts []part
	for range 20 {
		parts = append(parts, dicomPart(t, liverCTFile1))
	}
	res, b := g.stow(t, "/dicom-web/studies", stowContentType, multipartBody(parts...), nil)
	if res.StatusCode != http.StatusBadGateway {
		t.Fatalf("STOW to an upstream refusing the gateway = %d, want 502; %.300s",
			res.StatusCode, b)
	}
	if a := parseAnswer(t, b); len(a.stored) != 0 {
		t.Errorf("answer lists %v stored, want none", a.stored)
	}
	if n := len(g.log.records(t, "upstream refuses the gateway's credentials")); n != 1 {
		t.Errorf("%d error records about the credentials, want 1", n)
	}
}

func TestSTOWSEGsThroughOrthancREST(t *testing.T) {
	tests := []struct {
		name       string
		restStatus string
		want       int
		wantStored []string
		wantFailed map[string]int
	}{
		{"stored", "", http.StatusOK, sorted(liverCT1, liverCT2, liverCT3, liverSEGSOP),
			map[string]int{}},
		{"filtered out", "FilteredOut", http.StatusAccepted,
			sorted(liverCT1, liverCT2, liverCT3),
			map[string]int{liverSEGSOP: dicomweb.FailureProcessing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			up.restStatus = tt.restStatus
			g := newTestGateway(t, up.dicomWebURL(), func(c *Config) {
				c.SEGStore = SEGStoreOrthancREST
			})
			parts := []part{dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
				dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile)}
			res, b := g.stow(t, "/dicom-web/studies", stowContentType, multipartBody(parts...),
				nil)
			if res.StatusCode != tt.want {
				t.Fatalf("STOW = %d, want %d; %.300s", res.StatusCode, tt.want, b)
			}
			a := parseAnswer(t, b)
			if diff := cmp.Diff(tt.wantStored, a.stored); diff != "" {
				t.Errorf("stored mismatch (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFailed, a.failed); diff != "" {
				t.Errorf("failed mismatch (-want +got):\n%s", diff)
			}
			// The STOW-RS request holds the CTs only; the SEG went by REST,
			// byte for byte.
			checkSent(t, up, parts, []string{liverCT1, liverCT2, liverCT3})
			var rest []recorded
			for _, r := range up.requests() {
				if r.Method == http.MethodPost && r.Path == "/instances" {
					rest = append(rest, r)
				}
			}
			if len(rest) != 1 || !bytes.Equal(rest[0].Body, parts[3].data) ||
				rest[0].Header.Get("Authorization") == "" {
				t.Errorf("REST stores = %d, want 1 of the SEG's bytes with credentials",
					len(rest))
			}
			rep, err := g.srv.store.Latest(t.Context(), liverSEGSOP)
			if err != nil {
				t.Fatalf("report: %v", err)
			}
			if rep.Stored != (tt.restStatus == "") {
				t.Errorf("report stored = %v (outcome %q)", rep.Stored, rep.Outcome)
			}
		})
	}
}

func TestSTOWSEGDroppedByArchiveFilter(t *testing.T) {
	up := newFakeOrthanc(t)
	// Like Orthanc with a Lua filter: the SEG is listed stored, not kept.
	up.dropSilently = map[string]bool{liverSEGSOP: true}
	g := newTestGateway(t, up.dicomWebURL(), nil)
	parts := []part{dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
		dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile)}
	res, b := g.stow(t, "/dicom-web/studies", stowContentType, multipartBody(parts...), nil)
	if res.StatusCode != http.StatusAccepted {
		t.Fatalf("STOW = %d, want 202; %.300s", res.StatusCode, b)
	}
	a := parseAnswer(t, b)
	if diff := cmp.Diff(map[string]int{liverSEGSOP: dicomweb.FailureProcessing},
		a.failed); diff != "" {
		t.Errorf("failed mismatch (-want +got):\n%s", diff)
	}
	checkWarnings(t, res.Header.Values("Warning"), []string{"does not hold it"})
	rep, err := g.srv.store.Latest(t.Context(), liverSEGSOP)
	if err != nil || rep.Stored {
		t.Errorf("report = %+v, %v, want one not stored", rep, err)
	}
}
