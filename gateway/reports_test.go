package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/store"
)

// putReport writes a report of a SEG into the gateway's store.
func putReport(t *testing.T, g *testGateway, sop, study, series string, d qc.Decision) int64 {
	t.Helper()
	r := &store.StoredReport{Report: &qc.Report{SOPInstanceUID: sop, StudyInstanceUID: study,
		SeriesInstanceUID: series, Decision: d, SourceSeriesUIDs: []string{},
		Segments: []qc.SegmentReport{}, Findings: []qc.Finding{},
		CheckedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}, Stored: d != qc.DecisionRejected}
	if err := g.srv.store.Put(context.Background(), r); err != nil {
		t.Fatalf("Put = %v", err)
	}
	return r.ID
}

func TestReportAPI(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	putReport(t, g, "1.1", "9.1", "8.1", qc.DecisionRejected)
	putReport(t, g, "1.2", "9.1", "8.1", qc.DecisionAccepted)
	putReport(t, g, "1.3", "9.1", "8.2", qc.DecisionAcceptedWithWarnings)
	putReport(t, g, "1.4", "9.2", "8.3", qc.DecisionRejected)
	latest := putReport(t, g, "1.1", "9.1", "8.1", qc.DecisionAccepted)

	t.Run("latest of a SEG", func(t *testing.T) {
		res, b := g.do(t, http.MethodGet, "/qc/v1/reports/1.1", nil, nil)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET = %d, want 200", res.StatusCode)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("report JSON: %v", err)
		}
		want := map[string]any{"sop_instance_uid": "1.1", "decision": "accepted",
			"report_id": float64(latest), "stored": true,
			"checked_at": "2026-01-02T03:04:05Z"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("report %s = %v, want %v", k, got[k], v)
			}
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
	})

	for _, p := range []string{"/qc/v1/reports/7.7", "/qc/v1/reports/not-a-uid",
		"/qc/v1/reports/1.1/extra"} {
		t.Run("404 "+p, func(t *testing.T) {
			if res, _ := g.do(t, http.MethodGet, p, nil, nil); res.StatusCode != 404 {
				t.Errorf("GET %s = %d, want 404", p, res.StatusCode)
			}
		})
	}

	tests := []struct {
		query      string
		want       []string
		wantStatus int
	}{
		{"", []string{"1.1", "1.4", "1.3", "1.2", "1.1"}, 200},
		{"?StudyInstanceUID=9.1", []string{"1.1", "1.3", "1.2", "1.1"}, 200},
		{"?SeriesInstanceUID=8.1&decision=accepted", []string{"1.1", "1.2"}, 200},
		{"?decision=rejected", []string{"1.4", "1.1"}, 200},
		{"?limit=2&offset=1", []string{"1.4", "1.3"}, 200},
		{"?limit=0", nil, 400},
		{"?limit=1001", nil, 400},
		{"?limit=ten", nil, 400},
		{"?offset=-1", nil, 400},
		{"?decision=maybe", nil, 400},
		{"?StudyInstanceUID=abc", nil, 400},
		{"?studyinstanceuid=9.1", nil, 400},
		{"?decision=accepted&decision=rejected", nil, 400},
	}
	for _, tt := range tests {
		t.Run("list"+tt.query, func(t *testing.T) {
			res, b := g.do(t, http.MethodGet, "/qc/v1/reports"+tt.query, nil, nil)
			if res.StatusCode != tt.wantStatus {
				t.Fatalf("GET = %d, want %d; %s", res.StatusCode, tt.wantStatus, b)
			}
			if tt.wantStatus != 200 {
				if !strings.Contains(string(b), "invalid query") {
					t.Errorf("400 body %s does not say what is wrong", b)
				}
				return
			}
			var got struct {
				Reports []struct {
					SOP string `json:"sop_instance_uid"`
				} `json:"reports"`
			}
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatalf("list JSON: %v", err)
			}
			var uids []string
			for _, r := range got.Reports {
				uids = append(uids, r.SOP)
			}
			if diff := cmp.Diff(tt.want, uids); diff != "" {
				t.Errorf("list mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	if res, _ := g.do(t, http.MethodGet, "/healthz", nil, nil); res.StatusCode != 200 {
		t.Errorf("/healthz = %d, want 200", res.StatusCode)
	}
	res, b := g.do(t, http.MethodGet, "/readyz", nil, nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `"status":"ready"`) {
		t.Errorf("/readyz = %d %s, want 200 ready", res.StatusCode, b)
	}

	// A tagging failure shows, without making the gateway unready.
	g.srv.tagger.fail("setting orthanc metadata: upstream status 400")
	res, b = g.do(t, http.MethodGet, "/readyz", nil, nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), "upstream status 400") {
		t.Errorf("/readyz after a tagging failure = %d %s", res.StatusCode, b)
	}

	// Upstream refusing the gateway's credentials, then the store closed.
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}
	if res, b = g.do(t, http.MethodGet, "/readyz", nil, nil); res.StatusCode != 503 ||
		!strings.Contains(string(b), `"status":"not ready"`) {
		t.Errorf("/readyz with upstream 401 = %d %s, want 503", res.StatusCode, b)
	}
	up.hook = nil
	g.srv.store.Close()
	if res, b = g.do(t, http.MethodGet, "/readyz", nil, nil); res.StatusCode != 503 ||
		!strings.Contains(string(b), `"upstream":"ok"`) {
		t.Errorf("/readyz with the store closed = %d %s, want 503, upstream ok",
			res.StatusCode, b)
	}
}

func TestRequestIDAndAccessRecord(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	tests := []struct {
		name, sent string
		keep       bool
	}{
		{"sane ID kept", "abc-123.X_y", true},
		{"injection replaced", "abc\" injected=1", false},
		{"too long replaced", strings.Repeat("a", 65), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := g.do(t, http.MethodGet, "/dicom-web/studies/1.2.3/series?"+
				"PatientName=Doe", http.Header{"X-Request-ID": {tt.sent},
				"Authorization": {"Basic c2VjcmV0"}, "Cookie": {"sid=cookie-value"}}, nil)
			got := res.Header.Get("X-Request-ID")
			if (got == tt.sent) != tt.keep || !requestIDPattern.MatchString(got) {
				t.Errorf("X-Request-ID = %q for %q, keep %v", got, tt.sent, tt.keep)
			}
		})
	}

	recs := g.log.records(t, "request")
	if len(recs) != len(tests) {
		t.Fatalf("%d access records, want %d", len(recs), len(tests))
	}
	for _, r := range recs {
		want := map[string]any{"method": "GET", "status": float64(200),
			"route": "/dicom-web/studies/{study}/series"}
		for k, v := range want {
			if r[k] != v {
				t.Errorf("record %s = %v, want %v", k, r[k], v)
			}
		}
		for _, k := range []string{"bytes", "duration", "request_id"} {
			if _, ok := r[k]; !ok {
				t.Errorf("record lacks %s: %v", k, r)
			}
		}
	}
	logs := g.log.String()
	for _, leak := range []string{"1.2.3", "Doe", "c2VjcmV0", "cookie-value", "injected"} {
		if strings.Contains(logs, leak) {
			t.Errorf("log holds %q:\n%s", leak, logs)
		}
	}
}

func TestAccessRecordWithUIDs(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), func(c *Config) { c.LogUIDs = true })
	g.do(t, http.MethodGet, "/dicom-web/studies/1.2.3/series?PatientName=Doe", nil, nil)
	recs := g.log.records(t, "request")
	if len(recs) != 1 || recs[0]["path"] != "/dicom-web/studies/1.2.3/series" {
		t.Errorf("records = %v, want one with the path", recs)
	}
	if strings.Contains(g.log.String(), "Doe") {
		t.Errorf("log holds the query")
	}
}
