package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/review"
	"github.com/qcgate/qcgate/qc/store"
)

// reportWith returns a stored report of a SEG with a decision and n
// warning findings.
func reportWith(sop, series string, d qc.Decision, warnings int) *store.StoredReport {
	r := &qc.Report{SOPInstanceUID: sop, SeriesInstanceUID: series, Decision: d}
	for range warnings {
		r.Findings = append(r.Findings, qc.Finding{Rule: "labels.vocabulary",
			Severity: qc.SeverityWarning})
	}
	r.Findings = append(r.Findings, qc.Finding{Rule: "x.info", Severity: qc.SeverityInfo})
	return &store.StoredReport{Report: r}
}

func TestCombineStatus(t *testing.T) {
	ok := reportWith("1", "9", qc.DecisionAccepted, 0)
	warn2 := reportWith("2", "9", qc.DecisionAcceptedWithWarnings, 2)
	warn1 := reportWith("3", "9", qc.DecisionAcceptedWithWarnings, 1)
	bad := reportWith("4", "9", qc.DecisionRejected, 0)
	tests := []struct {
		name string
		segs []segStatus
		want qcStatus
	}{
		{"no SEG", nil, qcStatus{Words: "unchecked"}},
		{"accepted", []segStatus{{report: ok}},
			qcStatus{Words: "ok", Decision: qc.DecisionAccepted}},
		{"one warning", []segStatus{{report: warn1}},
			qcStatus{Words: "1 warning", Decision: qc.DecisionAcceptedWithWarnings}},
		{"warnings add up over SEGs", []segStatus{{report: warn2}, {report: ok},
			{report: warn1}},
			qcStatus{Words: "3 warnings", Decision: qc.DecisionAcceptedWithWarnings}},
		{"rejected wins", []segStatus{{report: ok}, {report: bad}, {report: warn2}},
			qcStatus{Words: "rejected", Decision: qc.DecisionRejected}},
		{"never checked", []segStatus{{report: ok}, {}},
			qcStatus{Words: "unchecked", Decision: qc.DecisionAccepted}},
		{"in review beats warnings", []segStatus{
			{report: warn2, state: review.StatePeerReview}},
			qcStatus{Words: "in review", Decision: qc.DecisionAcceptedWithWarnings,
				ReviewState: review.StatePeerReview}},
		{"approved", []segStatus{{report: ok, state: review.StateApproved}},
			qcStatus{Words: "approved", Decision: qc.DecisionAccepted,
				ReviewState: review.StateApproved}},
		{"one approved, one in senior QA", []segStatus{
			{report: ok, state: review.StateApproved},
			{report: warn1, state: review.StateSeniorQA}},
			qcStatus{Words: "in review", Decision: qc.DecisionAcceptedWithWarnings,
				ReviewState: review.StateSeniorQA}},
		{"rejected in review", []segStatus{{report: ok, state: review.StateRejected}},
			qcStatus{Words: "rejected", Decision: qc.DecisionAccepted,
				ReviewState: review.StateRejected}},
		{"superseded version ignored", []segStatus{
			{report: bad, state: review.StateSuperseded},
			{report: ok, state: review.StateApproved}},
			qcStatus{Words: "approved", Decision: qc.DecisionAccepted,
				ReviewState: review.StateApproved}},
		{"all superseded", []segStatus{{report: ok, state: review.StateSuperseded}},
			qcStatus{Words: "superseded", Decision: qc.DecisionAccepted,
				ReviewState: review.StateSuperseded}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := combineStatus(tt.segs)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("combineStatus() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeReviews is a ReviewLookup with fixed states.
type fakeReviews map[string]review.State

func (f fakeReviews) ReviewStates(_ context.Context, uids []string) (map[string]review.State,
	error) {
	out := map[string]review.State{}
	for _, u := range uids {
		if s, ok := f[u]; ok {
			out[u] = s
		}
	}
	return out, nil
}

// openTestStore returns an SQLite report store holding reports.
func openTestStore(t *testing.T, reports ...*store.StoredReport) store.Store {
	t.Helper()
	st, err := store.OpenSQLite(context.Background(), t.TempDir()+"/r.db")
	if err != nil {
		t.Fatalf("OpenSQLite = %v", err)
	}
	t.Cleanup(func() { st.Close() })
	for _, r := range reports {
		if err := st.Put(context.Background(), r); err != nil {
			t.Fatalf("Put = %v", err)
		}
	}
	return st
}

// Series-level QIDO items as Orthanc 1.10 writes them (keys and VRs).
const qidoSeries = `[
 {"00080060":{"vr":"CS","Value":["CT"]},"0008103E":{"vr":"LO","Value":["Abdomen"]},
  "0020000E":{"vr":"UI","Value":["1.2.3.1"]}},
 {"00080060":{"vr":"CS","Value":["SEG"]},"0008103E":{"vr":"LO","Value":["Liver"]},
  "0020000E":{"vr":"UI","Value":["1.2.3.2"]}},
 {"00080060":{"vr":"CS","Value":["SEG"]},"0008103E":{"vr":"LO"},
  "0020000E":{"vr":"UI","Value":["1.2.3.3"]},
  "00710010":{"vr":"LO","Value":["OTHER VENDOR"]}},
 {"00080060":{"vr":"CS","Value":["SEG"]},"0020000E":{"vr":"UI","Value":["1.2.3.4"]}}
]`

// attrs returns, for each item of a DICOM JSON array, its string values by
// key (first value only), for comparison.
func attrs(t *testing.T, b []byte) []map[string]string {
	t.Helper()
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		t.Fatalf("answer is not a DICOM JSON array: %v\n%s", err, b)
	}
	out := make([]map[string]string, len(items))
	for i, item := range items {
		out[i] = map[string]string{}
		for k := range item {
			out[i][k] = firstString(item, k)
		}
	}
	return out
}

func TestAnnotateSeries(t *testing.T) {
	st := openTestStore(t,
		reportWith("1.9.1", "1.2.3.2", qc.DecisionRejected, 0),
		reportWith("1.9.1", "1.2.3.2", qc.DecisionAcceptedWithWarnings, 2),
		reportWith("1.9.2", "1.2.3.3", qc.DecisionAccepted, 0),
		reportWith("1.9.3", "1.2.3.3", qc.DecisionAccepted, 0))
	src := statusSource{reports: st, reviews: fakeReviews{"1.9.3": review.StatePeerReview}}
	out, changed, err := annotateDICOMJSON(context.Background(), []byte(qidoSeries), src,
		annotateOptions{target: targetSeries, format: DefaultQCStatusFormat, private: true})
	if err != nil || !changed {
		t.Fatalf("annotateDICOMJSON = changed %v, %v; want true, nil", changed, err)
	}
	want := []map[string]string{
		{"00080060": "CT", "0008103E": "Abdomen", "0020000E": "1.2.3.1"},
		{"00080060": "SEG", "0008103E": "[QC 2 warnings] Liver", "0020000E": "1.2.3.2",
			"00710010": "QCGATE 1.0", "00711010": "accepted_with_warnings",
			"00711012": "/qc/v1/reports/1.9.1", "00711013": "2 warnings"},
		// The block (0071,10xx) belongs to another creator: ours is 11.
		{"00080060": "SEG", "0008103E": "[QC in review]", "0020000E": "1.2.3.3",
			"00710010": "OTHER VENDOR", "00710011": "QCGATE 1.0",
			"00711110": "accepted", "00711111": "peer_review",
			"00711112": "/qc/v1/reports?SeriesInstanceUID=1.2.3.3", "00711113": "in review"},
		{"00080060": "SEG", "0008103E": "[QC unchecked]", "0020000E": "1.2.3.4",
			"00710010": "QCGATE 1.0", "00711010": "unchecked", "00711013": "unchecked"},
	}
	if diff := cmp.Diff(want, attrs(t, out)); diff != "" {
		t.Errorf("annotated series mismatch (-want +got):\n%s", diff)
	}
}

func TestAnnotateLeavesOtherAnswers(t *testing.T) {
	st := openTestStore(t)
	tests := []struct {
		name string
		body string
		o    annotateOptions
	}{
		{"no SEG", `[{"00080060":{"vr":"CS","Value":["CT"]}}]`,
			annotateOptions{target: targetSeries, format: "[QC {status}] ", private: true}},
		{"not an array", `{"00080060":{"vr":"CS","Value":["SEG"]}}`,
			annotateOptions{target: targetSeries, format: "[QC {status}] ", private: true}},
		{"both off", qidoSeries, annotateOptions{target: targetSeries}},
		{"study search", qidoSeries,
			annotateOptions{target: targetNone, format: "[QC {status}] ", private: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, changed, err := annotateDICOMJSON(context.Background(), []byte(tt.body),
				statusSource{reports: st}, tt.o)
			if err != nil || changed || string(out) != tt.body {
				t.Errorf("annotateDICOMJSON = %q, %v, %v; want the body unchanged",
					out, changed, err)
			}
		})
	}
}

func TestTargetOf(t *testing.T) {
	tests := []struct {
		method, path string
		want         statusTarget
	}{
		{http.MethodGet, "/dicom-web/studies", targetNone},
		{http.MethodGet, "/dicom-web/series", targetSeries},
		{http.MethodGet, "/dicom-web/studies/1.2/series", targetSeries},
		{http.MethodGet, "/dicom-web/studies/1.2/series/3.4/instances", targetInstances},
		{http.MethodGet, "/dicom-web/instances", targetInstances},
		{http.MethodGet, "/dicom-web/studies/1.2/metadata", targetInstances},
		{http.MethodGet, "/dicom-web/studies/1.2/series/3.4/metadata", targetInstances},
		{http.MethodGet, "/dicom-web/studies/1.2/series/3.4/instances/5/metadata",
			targetInstances},
		{http.MethodGet, "/dicom-web/studies/1.2/series/3.4/instances/5/frames/1", targetNone},
		{http.MethodGet, "/dicom-web/studies/1.2/series/3.4/rendered", targetNone},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r, err := classifyPath(tt.method, tt.path)
			if err != nil {
				t.Fatalf("classifyPath(%s) = %v", tt.path, err)
			}
			if got := targetOf(r); got != tt.want {
				t.Errorf("targetOf(%s) = %d, want %d", tt.path, got, tt.want)
			}
		})
	}
}

// metadataSEG is WADO-RS metadata of two SEG instances of one series.
const metadataSEG = `[
 {"00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.66.4"]},
  "00080018":{"vr":"UI","Value":["1.9.1"]},"00080060":{"vr":"CS","Value":["SEG"]},
  "0008103E":{"vr":"LO","Value":["Liver"]},"0020000E":{"vr":"UI","Value":["1.2.3.2"]},
  "00711010":{"vr":"LO","Value":["forged"]}},
 {"00080016":{"vr":"UI","Value":["1.2.840.10008.5.1.4.1.1.66.4"]},
  "00080018":{"vr":"UI","Value":["1.9.2"]},"00080060":{"vr":"CS","Value":["SEG"]},
  "0008103E":{"vr":"LO","Value":["Liver"]},"0020000E":{"vr":"UI","Value":["1.2.3.2"]}}
]`

// qidoUpstream answers every request with body as DICOM JSON, gzipped when
// the client accepts it, and counts the requests.
func qidoUpstream(t *testing.T, body string) *httptest.Server {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/dicom+json")
		if !strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Write([]byte(body))
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		zw.Write([]byte(body))
		zw.Close()
	}))
	t.Cleanup(up.Close)
	return up
}

func TestProxyAddsQCStatus(t *testing.T) {
	up := qidoUpstream(t, metadataSEG)
	g := newTestGateway(t, up.URL+"/dicom-web", nil)
	putReport(t, g, "1.9.1", "9.1", "1.2.3.2", qc.DecisionAccepted)
	putReport(t, g, "1.9.2", "9.1", "1.2.3.2", qc.DecisionRejected)

	for _, enc := range []string{"gzip", "identity"} {
		t.Run(enc, func(t *testing.T) {
			h := http.Header{"Accept-Encoding": {enc}}
			res, b := g.do(t, http.MethodGet, "/dicom-web/studies/9.1/series/1.2.3.2/metadata",
				h, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET metadata = %d, want 200", res.StatusCode)
			}
			if ce := res.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding = %q, want none", ce)
			}
			base := g.ts.URL
			want := []map[string]string{
				{"00080016": qc.SegmentationStorage, "00080018": "1.9.1", "00080060": "SEG",
					"0008103E": "[QC rejected] Liver", "0020000E": "1.2.3.2",
					"00710010": "QCGATE 1.0", "00711010": "accepted",
					"00711012": base + "/qc/v1/reports/1.9.1", "00711013": "ok"},
				{"00080016": qc.SegmentationStorage, "00080018": "1.9.2", "00080060": "SEG",
					"0008103E": "[QC rejected] Liver", "0020000E": "1.2.3.2",
					"00710010": "QCGATE 1.0", "00711010": "rejected",
					"00711012": base + "/qc/v1/reports/1.9.2", "00711013": "rejected"},
			}
			if diff := cmp.Diff(want, attrs(t, b)); diff != "" {
				t.Errorf("metadata mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("turned off", func(t *testing.T) {
		off := false
		g := newTestGateway(t, up.URL+"/dicom-web", func(c *Config) {
			c.QCStatusDescription, c.QCStatusPrivate = &off, &off
		})
		putReport(t, g, "1.9.1", "9.1", "1.2.3.2", qc.DecisionAccepted)
		_, b := g.do(t, http.MethodGet, "/dicom-web/studies/9.1/series/1.2.3.2/metadata",
			nil, nil)
		if !bytes.Equal(b, []byte(metadataSEG)) {
			t.Errorf("answer with QC status off = %s, want the upstream's bytes", b)
		}
	})

	t.Run("format", func(t *testing.T) {
		g := newTestGateway(t, up.URL+"/dicom-web", func(c *Config) {
			c.QCStatusFormat = "QC:{status} | "
		})
		putReport(t, g, "1.9.1", "9.1", "1.2.3.2", qc.DecisionAccepted)
		_, b := g.do(t, http.MethodGet, "/dicom-web/studies/9.1/series/1.2.3.2/metadata",
			nil, nil)
		got := attrs(t, b)
		if d := got[0]["0008103E"]; d != "QC:unchecked | Liver" {
			t.Errorf("Series Description = %q, want %q", d, "QC:unchecked | Liver")
		}
	})
}

func TestProxyPassesLargeAnswers(t *testing.T) {
	// An answer over the buffer limit passes unchanged and whole.
	big := `[{"00080060":{"vr":"CS","Value":["SEG"]},"0020000E":{"vr":"UI","Value":["1.2"]},` +
		`"00081030":{"vr":"LO","Value":["` + strings.Repeat("x", maxStatusBody) + `"]}}]`
	up := qidoUpstream(t, big)
	g := newTestGateway(t, up.URL+"/dicom-web", nil)
	res, b := g.do(t, http.MethodGet, "/dicom-web/series", http.Header{
		"Accept-Encoding": {"gzip"}}, nil)
	if res.StatusCode != http.StatusOK || len(b) != len(big) || string(b) != big {
		t.Errorf("GET /series = %d with %d bytes, want 200 with the upstream's %d",
			res.StatusCode, len(b), len(big))
	}
}
