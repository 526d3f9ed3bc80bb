package gateway

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/review"
	"github.com/qcgate/qcgate/qc/store"
)

// UIDs of the review tests.
const (
	rvStudy  = "1.2.826.0.1.3680043.8.498.10"
	rvSource = "1.2.826.0.1.3680043.8.498.11"
)

// rvSEG returns the SOP Instance UID of test SEG n, and rvSeries its series.
func rvSEG(n int) string    { return fmt.Sprintf("1.2.826.0.1.3680043.8.498.2%d", n) }
func rvSeries(n int) string { return fmt.Sprintf("1.2.826.0.1.3680043.8.498.3%d", n) }

// reviewHarness is a gateway's review API behind a stand-in for the auth
// middleware: it takes the principal from the X-Test-Subject and
// X-Test-Roles headers, and none when X-Test-Subject is absent.
type reviewHarness struct {
	g    *testGateway
	api  *reviewAPI
	fake *fakeOrthanc
	ts   *httptest.Server
}

// newReviewHarness builds the harness with an SQLite review store in the
// report store's directory.
func newReviewHarness(t *testing.T, audit review.AuditConfig) *reviewHarness {
	t.Helper()
	fake := newFakeOrthanc(t)
	g := newTestGateway(t, fake.dicomWebURL(), nil)
	rs, err := review.OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "reviews.db"))
	if err != nil {
		t.Fatalf("OpenSQLite = %v", err)
	}
	t.Cleanup(func() { rs.Close() })
	api, err := newReviewAPI(g.srv, ReviewOptions{Store: rs, Audit: audit, Archive: true})
	if err != nil {
		t.Fatalf("newReviewAPI = %v", err)
	}
	e := gin.New()
	e.ContextWithFallback = true
	e.Use(g.srv.accessLog, func(c *gin.Context) {
		if sub := c.GetHeader("X-Test-Subject"); sub != "" {
			p := &auth.Principal{Subject: sub}
			for _, r := range splitList([]string{c.GetHeader("X-Test-Roles")}) {
				p.Roles = append(p.Roles, auth.Role(r))
			}
			c.Request = c.Request.WithContext(auth.NewContext(c.Request.Context(), p))
		}
	})
	api.register(g.srv, e)
	ts := httptest.NewServer(e)
	t.Cleanup(ts.Close)
	return &reviewHarness{g: g, api: api, fake: fake, ts: ts}
}

// upload stores the report of SEG n as the STOW-RS path does, marks the
// SEG as held by the fake archive, and opens its review.
func (h *reviewHarness) upload(t *testing.T, n int, uploader string, findings ...qc.Finding) {
	t.Helper()
	sr := &store.StoredReport{Stored: true, Report: &qc.Report{SOPInstanceUID: rvSEG(n),
		SOPClassUID: "1.2.840.10008.5.1.4.1.1.66.4", StudyInstanceUID: rvStudy,
		SeriesInstanceUID: rvSeries(n), SourceSeriesUIDs: []string{rvSource},
		Decision: qc.DecisionAccepted, Findings: findings, Uploader: uploader,
		Profile: qc.ProfileInfo{Name: "abdomen-ct", Version: "2"}}}
	if err := h.g.srv.store.Put(t.Context(), sr); err != nil {
		t.Fatalf("Put = %v", err)
	}
	h.fake.mu.Lock()
	h.fake.stored = append(h.fake.stored, rvSEG(n))
	h.fake.metadata[rvSeries(n)] = []byte(`[{"00080018":{"vr":"UI","Value":["` + rvSEG(n) +
		`"]},"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^Jane"}]},` +
		`"00100020":{"vr":"LO","Value":["P-17"]}}]`)
	h.fake.mu.Unlock()
	h.api.onReportStored(sr)
}

// call sends a request as sub with roles ("" sub: no principal) and
// returns the status and body.
func (h *reviewHarness) call(t *testing.T, method, path, sub, roles, body string,
	header ...string) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if sub != "" {
		req.Header.Set("X-Test-Subject", sub)
		req.Header.Set("X-Test-Roles", roles)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b, resp.Header
}

// post sends a review action and fails the test unless it gets want.
func (h *reviewHarness) post(t *testing.T, n int, sub, roles, body string, want int) []byte {
	t.Helper()
	status, b, _ := h.call(t, http.MethodPost, "/qc/v1/reviews/"+rvSEG(n), sub, roles, body)
	if status != want {
		t.Fatalf("POST review %d %s by %s = %d %s, want %d", n, body, sub, status, b, want)
	}
	return b
}

func TestReviewActions(t *testing.T) {
	h := newReviewHarness(t, review.AuditConfig{Share: 1, Seed: "s"})
	h.upload(t, 1, "ann")

	approve := `{"action":"approve"}`
	tests := []struct {
		name, sub, roles, body string
		want                   int
	}{
		{"no principal", "", "", approve, http.StatusUnauthorized},
		{"viewer", "vie", "viewer", approve, http.StatusForbidden},
		{"annotator", "ann2", "annotator", approve, http.StatusForbidden},
		{"auditor at peer review", "aud", "auditor", approve, http.StatusForbidden},
		{"uploader", "ann", "annotator,reviewer", approve, http.StatusForbidden},
		{"return without reason", "rev", "reviewer", `{"action":"return"}`,
			http.StatusBadRequest},
		{"unknown field", "rev", "reviewer", `{"action":"approve","x":1}`,
			http.StatusBadRequest},
		{"not JSON", "rev", "reviewer", `approve`, http.StatusBadRequest},
		{"unknown action", "rev", "reviewer", `{"action":"bless"}`, http.StatusConflict},
		{"stale version", "rev", "reviewer", `{"action":"approve","version":7}`,
			http.StatusConflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.post(t, 1, tc.sub, tc.roles, tc.body, tc.want)
		})
	}
	if status, _, _ := h.call(t, http.MethodPost, "/qc/v1/reviews/1.2.9", "rev", "reviewer",
		approve); status != http.StatusNotFound {
		t.Errorf("POST unknown SEG = %d, want 404", status)
	}

	h.post(t, 1, "rev", "reviewer", `{"action":"approve","comment":"ok","version":1}`, 200)
	h.post(t, 1, "rev", "reviewer,senior_qa", approve, http.StatusForbidden)
	h.post(t, 1, "sen", "senior_qa", approve, http.StatusOK)
	h.post(t, 1, "sen", "senior_qa", approve, http.StatusForbidden)
	// If-Match carries the version as well.
	status, b, _ := h.call(t, http.MethodPost, "/qc/v1/reviews/"+rvSEG(1), "aud", "auditor",
		approve, "If-Match", `"2"`)
	if status != http.StatusConflict {
		t.Errorf("POST with a stale If-Match = %d %s, want 409", status, b)
	}
	h.post(t, 1, "aud", "auditor", approve, http.StatusOK)

	status, b, hdr := h.call(t, http.MethodGet, "/qc/v1/reviews/"+rvSEG(1), "vie", "viewer", "")
	if status != http.StatusOK {
		t.Fatalf("GET review = %d %s", status, b)
	}
	var got reviewBody
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("decoding review: %v", err)
	}
	var moves []string
	for _, e := range got.Trail {
		moves = append(moves, fmt.Sprintf("%s %s %s->%s", e.Actor, e.Role, e.From, e.To))
	}
	want := []string{"ann annotator ->peer_review", "rev reviewer peer_review->senior_qa",
		"sen senior_qa senior_qa->audit", "aud auditor audit->approved"}
	if diff := cmp.Diff(want, moves); diff != "" {
		t.Errorf("trail (-want +got):\n%s", diff)
	}
	if hdr.Get("ETag") != `"4"` || got.Review.State != review.StateApproved {
		t.Errorf("review %s with ETag %s, want approved with \"4\"", got.Review.State,
			hdr.Get("ETag"))
	}
	if tag := h.fake.tags[rvSEG(1)+" "+metadataReview]; tag != "approved" {
		t.Errorf("Orthanc metadata %s = %q, want approved", metadataReview, tag)
	}
}

// TestReviewConcurrent sends one action per reviewer at once, all on
// version 1: one gets 200, the others 409.
func TestReviewConcurrent(t *testing.T) {
	h := newReviewHarness(t, review.AuditConfig{})
	h.upload(t, 1, "ann")
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			body := `{"action":"approve","version":1}`
			if i%2 == 1 {
				body = `{"action":"return","comment":"redo","version":1}`
			}
			statuses[i], _, _ = h.call(t, http.MethodPost, "/qc/v1/reviews/"+rvSEG(1),
				fmt.Sprintf("rev%d", i), "reviewer", body)
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(statuses)
	want := []int{200, 409, 409, 409, 409, 409, 409, 409}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
}

func TestReviewRejectionNote(t *testing.T) {
	h := newReviewHarness(t, review.AuditConfig{})
	h.upload(t, 1, "ann")
	h.upload(t, 2, "ann")
	h.post(t, 1, "rev", "reviewer", `{"action":"reject","comment":"not a liver"}`, 200)

	_, note := review.NoteUIDs(rvSEG(1))
	if !slices.Contains(h.fake.storedUIDs(), note) {
		t.Fatalf("archive holds %v, want the rejection note %s", h.fake.storedUIDs(), note)
	}
	var kos []byte
	for _, r := range h.fake.stowRequests() {
		if strings.HasSuffix(r.Path, "/studies/"+rvStudy) && len(r.Parts) == 1 {
			kos = r.Parts[0]
		}
	}
	if !bytes.Contains(kos, []byte("Rejected for Quality Reasons")) ||
		!bytes.Contains(kos, []byte(rvSEG(1))) || !bytes.Contains(kos, []byte("P-17")) {
		t.Errorf("stored note lacks the title, the SEG's UID or the patient ID")
	}
	if tag := h.fake.tags[rvSEG(1)+" "+metadataReview]; tag != "rejected" {
		t.Errorf("Orthanc metadata %s = %q, want rejected", metadataReview, tag)
	}

	// QIDO answers drop the rejected SEG and its series, nothing else.
	item := func(sop, series, modality string) string {
		s := `{"0020000E":{"vr":"UI","Value":["` + series + `"]},"00080060":{"vr":"CS",` +
			`"Value":["` + modality + `"]}`
		if sop != "" {
			s += `,"00080018":{"vr":"UI","Value":["` + sop + `"]}`
		}
		return s + "}"
	}
	instances := "[" + item(rvSEG(1), rvSeries(1), "SEG") + "," +
		item(rvSEG(2), rvSeries(2), "SEG") + "]"
	series := "[" + item("", rvSeries(1), "SEG") + "," + item("", rvSeries(2), "SEG") + "," +
		item("", rvSource, "CT") + "]"
	for _, tc := range []struct{ name, in, want string }{
		{"instances", instances, "[" + item(rvSEG(2), rvSeries(2), "SEG") + "]"},
		{"series", series, "[" + item("", rvSeries(2), "SEG") + "," +
			item("", rvSource, "CT") + "]"},
	} {
		got, err := h.api.filterQIDO(t.Context(), []byte(tc.in))
		if err != nil {
			t.Fatalf("filterQIDO(%s) = %v", tc.name, err)
		}
		if string(got) != tc.want {
			t.Errorf("filterQIDO(%s) = %s, want %s", tc.name, got, tc.want)
		}
	}
	if _, err := h.api.filterQIDO(t.Context(), []byte(`{"not":"an array"}`)); err == nil {
		t.Errorf("filterQIDO(object) succeeded, want an error")
	}
}

func TestReviewExportCompleteness(t *testing.T) {
	h := newReviewHarness(t, review.AuditConfig{})
	missingSpleen := qc.Finding{Rule: "completeness.required_segment",
		Severity: qc.SeverityWarning, Message: `profile abdomen-ct requires a "spleen" ` +
			`segment on CT sources: none of the 1 segments maps to it (labels ["Liver"])`}
	h.upload(t, 1, "ann", missingSpleen)
	h.upload(t, 2, "ann")
	h.post(t, 1, "rev", "reviewer", `{"action":"approve"}`, 200)
	h.post(t, 1, "sen", "senior_qa", `{"action":"approve"}`, 200)

	status, b, _ := h.call(t, http.MethodGet, "/qc/v1/export", "vie", "viewer", "")
	if status != http.StatusOK {
		t.Fatalf("GET export = %d %s", status, b)
	}
	var ex exportBody
	if err := json.Unmarshal(b, &ex); err != nil {
		t.Fatalf("decoding export: %v", err)
	}
	base := h.ts.URL + "/dicom-web/studies/" + rvStudy
	if ex.Count != 1 || len(ex.Items) != 1 {
		t.Fatalf("export lists %d SEGs, want 1: %s", ex.Count, b)
	}
	it := ex.Items[0]
	wantSources := []sourceSeries{{rvSource, base + "/series/" + rvSource}}
	if it.SOPInstanceUID != rvSEG(1) || it.Profile.Version != "2" ||
		it.Review.PeerReviewer != "rev" || it.Review.SeniorQA != "sen" ||
		it.URL != base+"/series/"+rvSeries(1)+"/instances/"+rvSEG(1) ||
		!cmp.Equal(wantSources, it.Sources) {
		t.Errorf("export item = %+v", it)
	}

	status, b, hdr := h.call(t, http.MethodGet, "/qc/v1/export?format=csv", "vie", "viewer",
		"")
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if status != http.StatusOK || err != nil || len(rows) != 2 {
		t.Fatalf("GET export CSV = %d, %d rows, %v: %s", status, len(rows), err, b)
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("CSV Content-Type = %q", ct)
	}
	row := map[string]string{}
	for i, col := range rows[0] {
		row[col] = rows[1][i]
	}
	if row["sop_instance_uid"] != rvSEG(1) || row["source_series_uids"] != rvSource ||
		row["source_series_urls"] != base+"/series/"+rvSource || row["senior_qa"] != "sen" {
		t.Errorf("CSV row = %v", row)
	}
	if status, _, _ := h.call(t, http.MethodGet, "/qc/v1/export", "", "", ""); status != 401 {
		t.Errorf("export without principal = %d, want 401", status)
	}

	status, b, _ = h.call(t, http.MethodGet, "/qc/v1/completeness?SeriesInstanceUID="+
		rvSource+",1.2.826.0.1.3680043.8.498.99", "vie", "viewer", "")
	if status != http.StatusOK {
		t.Fatalf("GET completeness = %d %s", status, b)
	}
	var comp review.Completeness
	if err := json.Unmarshal(b, &comp); err != nil {
		t.Fatalf("decoding completeness: %v", err)
	}
	want := review.Completeness{
		Series: []review.SeriesCompleteness{
			{SeriesInstanceUID: rvSource, Approved: []string{rvSEG(1)},
				MissingSegments: []string{"spleen"},
				States:          map[review.State]int{"approved": 1, "peer_review": 1}},
			{SeriesInstanceUID: "1.2.826.0.1.3680043.8.498.99", Approved: []string{},
				MissingSegments: []string{}, States: map[review.State]int{}},
		},
		LackingApproved: []string{"1.2.826.0.1.3680043.8.498.99"},
		States:          map[review.State]int{"approved": 1, "peer_review": 1},
	}
	if diff := cmp.Diff(want, comp); diff != "" {
		t.Errorf("completeness (-want +got):\n%s", diff)
	}
	// By study: the fake upstream knows no series, the reviews name one.
	status, b, _ = h.call(t, http.MethodGet, "/qc/v1/completeness?StudyInstanceUID="+rvStudy,
		"vie", "viewer", "")
	if status != http.StatusOK || !bytes.Contains(b, []byte(rvSource)) {
		t.Errorf("GET completeness of the study = %d %s", status, b)
	}
	for _, q := range []string{"", "?StudyInstanceUID=1.2&SeriesInstanceUID=1.3",
		"?SeriesInstanceUID=abc"} {
		if status, _, _ := h.call(t, http.MethodGet, "/qc/v1/completeness"+q, "vie",
			"viewer", ""); status != http.StatusBadRequest {
			t.Errorf("GET completeness%s = %d, want 400", q, status)
		}
	}

	for _, tc := range []struct {
		roles string
		want  int
	}{{"viewer", 403}, {"reviewer", 403}, {"senior_qa", 200}, {"auditor", 200}} {
		if status, b, _ := h.call(t, http.MethodGet, "/qc/v1/calibration", "x", tc.roles,
			""); status != tc.want {
			t.Errorf("GET calibration as %s = %d %s, want %d", tc.roles, status, b, tc.want)
		}
	}
}

func TestReviewRoutesOff(t *testing.T) {
	g := newTestGateway(t, "http://127.0.0.1:1/dicom-web", nil)
	e := gin.New()
	var off *reviewAPI
	off.register(g.srv, e)
	for _, p := range []string{"/qc/v1/reviews/1.2", "/qc/v1/export", "/qc/v1/calibration"} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, httptest.NewRequest(http.MethodGet, p, nil))
		if w.Code != http.StatusNotFound {
			t.Errorf("GET %s with reviews off = %d, want 404", p, w.Code)
		}
	}
}
