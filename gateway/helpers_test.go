package gateway

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// Credentials the gateway under test sends upstream.
const (
	testUser     = "gateway"
	testPassword = "upstream-secret-42"
)

// recorded is one request a fake upstream received.
type recorded struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// BodyErr is the error reading the body ended with, for example when
	// the gateway aborted the request.
	BodyErr error
	// Parts are the parts of a multipart body, in order.
	Parts [][]byte
}

// fakeOrthanc is an httptest server that records every request and
// answers like Orthanc 1.10 with its DICOMweb plugin where the tests need
// it: STOW-RS (200 when every part is DICOM, else 400 listing the good
// ones, which it keeps), QIDO-RS instance lookups, WADO-RS series
// metadata from fixtures, /tools/lookup and user metadata.
type fakeOrthanc struct {
	*httptest.Server
	t *testing.T

	mu   sync.Mutex
	reqs []recorded
	// stored holds the SOP Instance UIDs stored, by the order they came.
	stored []string
	// metadata maps a series UID to a DICOM JSON metadata fixture.
	metadata map[string][]byte
	// refuse lists SOP Instance UIDs the fake fails with 0x0110.
	refuse map[string]bool
	// dropSilently lists SOP Instance UIDs the fake lists as stored and
	// does not keep, as Orthanc does with instances its filter refuses.
	dropSilently map[string]bool
	// tags holds the user metadata written, "uid name" -> value.
	tags map[string]string
	// hook, when set, answers instead of the fake, for failure tests.
	hook http.HandlerFunc
	// delay holds every answer back, after the body was read.
	delay time.Duration
	// early, when set, answers before the body is read, as a server that
	// refuses a request at once does.
	early http.HandlerFunc
	// restStatus is the Status of answers to POST /instances; empty means
	// Success.
	restStatus string
}

// newFakeOrthanc starts a fake upstream; it stops when the test ends.
func newFakeOrthanc(t *testing.T) *fakeOrthanc {
	t.Helper()
	f := &fakeOrthanc{t: t, metadata: map[string][]byte{}, refuse: map[string]bool{},
		tags: map[string]string{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// dicomWebURL is the fake's DICOMweb root.
func (f *fakeOrthanc) dicomWebURL() string { return f.URL + "/dicom-web" }

// requests returns a copy of what the fake received.
func (f *fakeOrthanc) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// storedUIDs returns the SOP Instance UIDs the fake stored.
func (f *fakeOrthanc) storedUIDs() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stored...)
}

// stowRequests returns the STOW-RS requests the fake received.
func (f *fakeOrthanc) stowRequests() []recorded {
	var out []recorded
	for _, r := range f.requests() {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/dicom-web/studies") {
			out = append(out, r)
		}
	}
	return out
}

func (f *fakeOrthanc) serve(w http.ResponseWriter, r *http.Request) {
	if f.early != nil {
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path})
		f.mu.Unlock()
		f.early(w, r)
		return
	}
	body, err := io.ReadAll(r.Body)
	rec := recorded{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, BodyErr: err}
	if mt, params, perr := mime.ParseMediaType(r.Header.Get("Content-Type")); perr == nil &&
		mt == "multipart/related" && err == nil {
		rec.Parts = splitParts(f.t, body, params["boundary"])
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	hook := f.hook
	f.mu.Unlock()
	if hook != nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
		hook(w, r)
		return
	}
	if err != nil {
		// Orthanc stores nothing of a request whose body broke off.
		return
	}
	time.Sleep(f.delay)

	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/dicom-web/studies"):
		f.serveStow(w, rec)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/metadata"):
		f.serveMetadata(w, r)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/instances"):
		f.serveInstances(w, r)
	case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/series"):
		w.Header().Set("Content-Type", "application/dicom+json")
		w.Write([]byte("[]"))
	case r.Method == http.MethodPost && r.URL.Path == "/instances":
		f.serveRESTStore(w, body)
	case r.Method == http.MethodPost && r.URL.Path == "/tools/lookup":
		uid := strings.TrimSpace(string(body))
		w.Header().Set("Content-Type", "application/json")
		if !slices.Contains(f.storedUIDs(), uid) {
			w.Write([]byte("[]"))
			return
		}
		fmt.Fprintf(w, `[{"ID":%q,"Type":"Instance"}]`, orthancID(uid))
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/instances/"):
		// /instances/{id}/metadata/{name}
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/instances/"), "/")
		uid := ""
		for _, u := range f.storedUIDs() {
			if orthancID(u) == parts[0] {
				uid = u
			}
		}
		f.mu.Lock()
		f.tags[uid+" "+parts[len(parts)-1]] = string(body)
		f.mu.Unlock()
	default:
		w.Header().Set("Content-Type", "application/dicom+json")
		w.Write([]byte("[]"))
	}
}

// orthancID returns an identifier of the form Orthanc gives its
// resources: a SHA-1 in five dash-separated groups of eight hex digits.
func orthancID(uid string) string {
	h := fmt.Sprintf("%x", sha1.Sum([]byte(uid)))
	return h[0:8] + "-" + h[8:16] + "-" + h[16:24] + "-" + h[24:32] + "-" + h[32:40]
}

// splitParts splits a multipart body with the standard library's reader,
// independent of the gateway's.
func splitParts(t *testing.T, body []byte, boundary string) [][]byte {
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var parts [][]byte
	for {
		p, err := mr.NextPart()
		if err != nil {
			return parts
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, b)
	}
}

// sopOf reads the SOP Class and Instance UIDs of a DICOM file with the
// dicom library, independent of the gateway's reader.
func sopOf(b []byte) (class, instance string, ok bool) {
	ds, err := dicom.Parse(bytes.NewReader(b), int64(len(b)), nil, dicom.SkipPixelData())
	if err != nil {
		return "", "", false
	}
	get := func(tg tag.Tag) string {
		e, err := ds.FindElementByTag(tg)
		if err != nil {
			return ""
		}
		v, _ := e.Value.GetValue().([]string)
		if len(v) == 0 {
			return ""
		}
		return strings.TrimRight(v[0], "\x00 ")
	}
	class, instance = get(tag.SOPClassUID), get(tag.SOPInstanceUID)
	return class, instance, instance != ""
}

// serveStow stores the DICOM parts and answers as Orthanc does: 200 with
// every instance listed, or 400 when a part is not DICOM, listing the
// others (which it kept).
func (f *fakeOrthanc) serveStow(w http.ResponseWriter, rec recorded) {
	var referenced, failed []any
	bad := false
	for _, p := range rec.Parts {
		class, inst, ok := sopOf(p)
		if !ok {
			bad = true
			continue
		}
		f.mu.Lock()
		refused := f.refuse[inst]
		if !refused && !f.dropSilently[inst] {
			f.stored = append(f.stored, inst)
		}
		f.mu.Unlock()
		item := map[string]any{
			"00081150": map[string]any{"vr": "UI", "Value": []string{class}},
			"00081155": map[string]any{"vr": "UI", "Value": []string{inst}},
		}
		if refused {
			item["00081197"] = map[string]any{"vr": "US", "Value": []int{0x0110}}
			failed = append(failed, item)
			continue
		}
		item["00081190"] = map[string]any{"vr": "UR",
			"Value": []string{f.URL + "/dicom-web/studies/x/series/y/instances/" + inst}}
		referenced = append(referenced, item)
	}
	ds := map[string]any{}
	if len(referenced) > 0 {
		ds["00081199"] = map[string]any{"vr": "SQ", "Value": referenced}
	}
	if len(failed) > 0 {
		ds["00081198"] = map[string]any{"vr": "SQ", "Value": failed}
	}
	status := http.StatusOK
	switch {
	case bad:
		status = http.StatusBadRequest
	case len(failed) > 0 && len(referenced) > 0:
		status = http.StatusAccepted
	case len(failed) > 0:
		status = http.StatusConflict
	}
	b, _ := json.Marshal(ds)
	w.Header().Set("Content-Type", "application/dicom+json")
	w.WriteHeader(status)
	w.Write(b)
}

// serveRESTStore stores a DICOM file sent to Orthanc's REST API and answers
// as Orthanc 1.10 does, with Status FilteredOut when restStatus says so.
func (f *fakeOrthanc) serveRESTStore(w http.ResponseWriter, body []byte) {
	_, inst, ok := sopOf(body)
	if !ok {
		http.Error(w, `{"HttpError":"Bad Request"}`, http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	status := f.restStatus
	if status == "" {
		status = "Success"
		f.stored = append(f.stored, inst)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"ID":%q,"Path":"/instances/%s","Status":%q}`, orthancID(inst),
		orthancID(inst), status)
}

// serveMetadata answers series metadata from the fixtures, else 404.
func (f *fakeOrthanc) serveMetadata(w http.ResponseWriter, r *http.Request) {
	segs := strings.Split(r.URL.Path, "/")
	series := ""
	for i, s := range segs {
		if s == "series" && i+1 < len(segs) {
			series = segs[i+1]
		}
	}
	f.mu.Lock()
	md, ok := f.metadata[series]
	f.mu.Unlock()
	if !ok {
		http.Error(w, `{"HttpError":"Not Found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/dicom+json")
	w.Write(md)
}

// serveInstances answers a QIDO-RS instance search by SOP Instance UID
// from what the fake stored.
func (f *fakeOrthanc) serveInstances(w http.ResponseWriter, r *http.Request) {
	want := r.URL.Query().Get("SOPInstanceUID")
	var out []any
	for _, uid := range f.storedUIDs() {
		if uid == want {
			out = append(out, map[string]any{"00080018": map[string]any{"vr": "UI",
				"Value": []string{uid}}})
		}
	}
	b, _ := json.Marshal(out)
	if out == nil {
		b = []byte("[]")
	}
	w.Header().Set("Content-Type", "application/dicom+json")
	w.Write(b)
}

// testGateway is a gateway under test with its log.
type testGateway struct {
	srv *Server
	ts  *httptest.Server
	log *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a logger.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns the JSON log records with the given message.
func (b *syncBuffer) records(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for line := range strings.Lines(b.String()) {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if rec["msg"] == msg {
			out = append(out, rec)
		}
	}
	return out
}

// newTestGateway starts a gateway in front of upstream (a DICOMweb root)
// with a temporary store; mutate may change the configuration.
func newTestGateway(t *testing.T, upstream string, mutate func(*Config)) *testGateway {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Upstream = upstream
	cfg.UpstreamUser, cfg.UpstreamPassword = testUser, testPassword
	cfg.Store = filepath.Join(t.TempDir(), "reports.db")
	cfg.UpstreamTimeout = 5_000_000_000
	// Tests of other concerns run without authentication; the auth tests
	// turn it on in mutate.
	cfg.Auth.Disabled = true
	if mutate != nil {
		mutate(cfg)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := New(Options{Config: cfg, Logger: log})
	if err != nil {
		t.Fatalf("New = %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Close()
	})
	return &testGateway{srv: srv, ts: ts, log: logs}
}

// do sends a request to the gateway and returns the answer with its body.
func (g *testGateway) do(t *testing.T, method, path string, header http.Header,
	body io.Reader) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, g.ts.URL+path, body)
	if err != nil {
		t.Fatalf("building request: %v", err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	res, err := g.ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("reading answer of %s %s: %v", method, path, err)
	}
	return res, b
}
