package gateway

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/store"
)

// reportPath is where a SEG's latest report is served; the SOP Instance
// UID follows it.
const reportPath = "/qc/v1/reports/"

// reportBody is a report as the report API serves it: the report object
// of the design with what happened to the SEG.
type reportBody struct {
	*qc.Report
	// ReportID is the store's ID of this report.
	ReportID int64 `json:"report_id"`
	// Stored tells whether the archive holds the SEG.
	Stored bool `json:"stored"`
	// Outcome says in a few words what happened to the SEG.
	Outcome string `json:"outcome,omitempty"`
}

// bodyOf returns the API form of a stored report.
func bodyOf(r *store.StoredReport) reportBody {
	return reportBody{Report: r.Report, ReportID: r.ID, Stored: r.Stored, Outcome: r.Outcome}
}

// serveReport answers GET /qc/v1/reports/{SOPInstanceUID}: the latest
// report of that SEG, or 404.
func (s *Server) serveReport(c *gin.Context) error {
	uid := c.Param("uid")
	if !isUID(uid) {
		return httpError(http.StatusNotFound, "no report for that SOP Instance UID",
			errors.New("malformed SOP Instance UID"))
	}
	r, err := s.store.Latest(c.Request.Context(), uid)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "no report for that SOP Instance UID", err)
	}
	if err != nil {
		return fmt.Errorf("reading report: %w", err)
	}
	writeJSON(c.Writer, http.StatusOK, bodyOf(r))
	return nil
}

// reportList is the body of the list endpoint.
type reportList struct {
	Reports []reportBody `json:"reports"`
	Limit   int          `json:"limit"`
	Offset  int          `json:"offset"`
}

// serveReportList answers GET /qc/v1/reports with the reports matching
// StudyInstanceUID, SeriesInstanceUID and decision, newest first, limit
// (default 100, at most 1000) at a time from offset.
func (s *Server) serveReportList(c *gin.Context) error {
	f, err := parseReportFilter(c.Request.URL.Query())
	if err != nil {
		return httpError(http.StatusBadRequest, err.Error(), err)
	}
	list, err := s.store.List(c.Request.Context(), f)
	if err != nil {
		return fmt.Errorf("listing reports: %w", err)
	}
	body := reportList{Reports: make([]reportBody, 0, len(list)), Limit: f.Limit,
		Offset: f.Offset}
	for _, r := range list {
		body.Reports = append(body.Reports, bodyOf(r))
	}
	writeJSON(c.Writer, http.StatusOK, body)
	return nil
}

// reportParams are the query parameters of the list endpoint.
var reportParams = []string{"StudyInstanceUID", "SeriesInstanceUID", "decision", "limit",
	"offset"}

// parseReportFilter reads the list endpoint's query. Its error names every
// bad parameter and is safe to show the client.
func parseReportFilter(q url.Values) (store.Filter, error) {
	var problems []string
	for _, name := range slices.Sorted(maps.Keys(q)) {
		vs := q[name]
		switch {
		case !slices.Contains(reportParams, name):
			problems = append(problems, fmt.Sprintf("unknown parameter %q", name))
		case len(vs) > 1:
			problems = append(problems, fmt.Sprintf("parameter %s given %d times", name,
				len(vs)))
		}
	}

	f := store.Filter{
		StudyInstanceUID:  q.Get("StudyInstanceUID"),
		SeriesInstanceUID: q.Get("SeriesInstanceUID"),
		Decision:          qc.Decision(q.Get("decision")),
	}
	for _, p := range []struct{ name, v string }{{"StudyInstanceUID", f.StudyInstanceUID},
		{"SeriesInstanceUID", f.SeriesInstanceUID}} {
		if p.v != "" && !isUID(p.v) {
			problems = append(problems, p.name+": not a UID")
		}
	}
	intParam := func(name string, lo, hi int) int {
		v := q.Get(name)
		if v == "" {
			return 0
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			problems = append(problems, fmt.Sprintf("%s: must be an integer from %d to %d",
				name, lo, hi))
		}
		return n
	}
	f.Limit = intParam("limit", 1, store.MaxLimit)
	f.Offset = intParam("offset", 0, 1<<31-1)

	if len(problems) == 0 {
		nf, err := f.Normalize()
		if err != nil {
			return f, fmt.Errorf("invalid query: %s", strings.TrimPrefix(err.Error(),
				store.ErrInvalidFilter.Error()+": "))
		}
		f = nf
	}
	if len(problems) > 0 {
		return f, fmt.Errorf("invalid query: %s", strings.Join(problems, "; "))
	}
	return f, nil
}
