package gateway

import (
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc/review"
)

// nonSourceModalities excludes, from a study's series, those that are no
// annotation source: derived objects and documents (PS3.3 C.7.3.1.1.1).
var nonSourceModalities = []string{"SEG", "KO", "SR", "PR", "RTSTRUCT", "REG", "DOC"}

// sourceSeries is a source series of an exported SEG.
type sourceSeries struct {
	SeriesInstanceUID string `json:"series_instance_uid"`
	// URL is the series' WADO-RS URL at the gateway (PS3.18 10.4).
	URL string `json:"url"`
}

// exportItem is one SEG of the export with its URLs.
type exportItem struct {
	review.ExportItem
	// URL is the SEG instance's WADO-RS URL at the gateway.
	URL string `json:"url"`
	// Sources are the source series with their URLs.
	Sources []sourceSeries `json:"source_series"`
}

// exportBody is the JSON answer of GET /qc/v1/export.
type exportBody struct {
	Items []exportItem `json:"items"`
	Count int          `json:"count"`
}

// exportColumns are the CSV columns; lists are separated by spaces.
var exportColumns = []string{"sop_instance_uid", "study_instance_uid",
	"series_instance_uid", "url", "source_series_uids", "source_series_urls", "profile_name",
	"profile_version", "version", "previous", "uploader", "peer_reviewer", "senior_qa",
	"auditor", "audited", "qc_decision", "approved_at"}

// serveExport answers GET /qc/v1/export?StudyInstanceUID=&limit=&format=:
// the approved SEGs with their source series and WADO-RS URLs, profile
// and review summary, as JSON or, with format=csv or Accept: text/csv, as
// CSV. Only approved SEGs are listed, so a training pipeline can take the
// list as it is.
func (a *reviewAPI) serveExport(c *gin.Context) error {
	if _, err := requireRole(c, auth.RoleViewer); err != nil {
		return err
	}
	q := c.Request.URL.Query()
	f := review.ExportFilter{StudyInstanceUID: q.Get("StudyInstanceUID")}
	if f.StudyInstanceUID != "" && !isUID(f.StudyInstanceUID) {
		return httpError(http.StatusBadRequest, "StudyInstanceUID: not a UID", nil)
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > review.MaxLimit {
			return httpError(http.StatusBadRequest,
				fmt.Sprintf("limit: must be an integer from 1 to %d", review.MaxLimit), err)
		}
		f.Limit = n
	}
	format, err := exportFormat(q.Get("format"), c.GetHeader("Accept"))
	if err != nil {
		return err
	}
	base, err := a.s.gatewayBase(c.Request)
	if err != nil {
		return err
	}

	list, err := a.wf.Export(c.Request.Context(), f)
	if err != nil {
		return reviewHTTPError(err)
	}
	items := make([]exportItem, 0, len(list))
	for _, it := range list {
		items = append(items, withURLs(base, it))
	}
	if format == "csv" {
		return writeExportCSV(c.Writer, items)
	}
	writeJSON(c.Writer, http.StatusOK, exportBody{Items: items, Count: len(items)})
	return nil
}

// exportFormat picks "json" or "csv": the format parameter first, then
// the Accept header.
func exportFormat(param, accept string) (string, error) {
	switch strings.ToLower(param) {
	case "json", "csv":
		return strings.ToLower(param), nil
	case "":
	default:
		return "", httpError(http.StatusBadRequest, "format: must be json or csv", nil)
	}
	if strings.Contains(strings.ToLower(accept), "text/csv") {
		return "csv", nil
	}
	return "json", nil
}

// withURLs adds the gateway's WADO-RS URLs to an export item.
func withURLs(base *url.URL, it review.ExportItem) exportItem {
	out := exportItem{ExportItem: it, Sources: []sourceSeries{}}
	study := base.JoinPath("dicom-web", "studies", it.StudyInstanceUID)
	out.URL = study.JoinPath("series", it.SeriesInstanceUID, "instances",
		it.SOPInstanceUID).String()
	for _, s := range it.SourceSeriesUIDs {
		out.Sources = append(out.Sources, sourceSeries{SeriesInstanceUID: s,
			URL: study.JoinPath("series", s).String()})
	}
	return out
}

// writeExportCSV writes the export as CSV (RFC 4180) with a header row.
func writeExportCSV(w gin.ResponseWriter, items []exportItem) error {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	cw := csv.NewWriter(w)
	cw.Write(exportColumns)
	for _, it := range items {
		var urls []string
		for _, s := range it.Sources {
			urls = append(urls, s.URL)
		}
		r := it.Review
		approved := ""
		if !r.ApprovedAt.IsZero() {
			approved = r.ApprovedAt.UTC().Format(time.RFC3339)
		}
		cw.Write([]string{it.SOPInstanceUID, it.StudyInstanceUID, it.SeriesInstanceUID,
			it.URL, strings.Join(it.SourceSeriesUIDs, " "), strings.Join(urls, " "),
			csvSafe(it.Profile.Name), csvSafe(it.Profile.Version), strconv.Itoa(r.Version),
			r.Previous, csvSafe(r.Uploader), csvSafe(r.PeerReviewer), csvSafe(r.SeniorQA),
			csvSafe(r.Auditor), strconv.FormatBool(r.Audited), r.Decision, approved})
	}
	cw.Flush()
	return nil
}

// csvSafe keeps a spreadsheet from reading a free-text cell (a subject, a
// profile name) as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// serveCompleteness answers GET /qc/v1/completeness?StudyInstanceUID= or
// ?SeriesInstanceUID=a,b: per source series, the approved SEGs, the
// required segments missing and the SEGs per state, and the series that
// lack an approved SEG. For a study, its source series come from a
// QIDO-RS search of the upstream (every series but SEG, KO, SR, PR,
// RTSTRUCT, REG and DOC) and from the study's reviewed SEGs.
func (a *reviewAPI) serveCompleteness(c *gin.Context) error {
	if _, err := requireRole(c, auth.RoleViewer); err != nil {
		return err
	}
	q := c.Request.URL.Query()
	study := q.Get("StudyInstanceUID")
	series := splitList(q["SeriesInstanceUID"])
	if (study == "") == (len(series) == 0) {
		return httpError(http.StatusBadRequest,
			"give either StudyInstanceUID or SeriesInstanceUID", nil)
	}
	for _, u := range append(slices.Clone(series), study) {
		if u != "" && !isUID(u) {
			return httpError(http.StatusBadRequest, "not a UID: "+clip(u, 70), nil)
		}
	}
	if study != "" {
		found, err := a.studySourceSeries(c, study)
		if err != nil {
			return err
		}
		series = found
	}
	out, err := a.wf.Completeness(c.Request.Context(), study, series)
	if err != nil {
		return reviewHTTPError(err)
	}
	writeJSON(c.Writer, http.StatusOK, out)
	return nil
}

// studySourceSeries returns the source series of a study from the
// upstream. A study the upstream does not know has none.
func (a *reviewAPI) studySourceSeries(c *gin.Context, study string) ([]string, error) {
	dss, err := a.s.client.Search(c.Request.Context(), "studies/"+study+"/series",
		"includefield=00080060")
	if errors.Is(err, dicomweb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("searching the series of the study: %w", err)
	}
	var out []string
	for _, ds := range dss {
		uid := ds.String("0020000E")
		if uid != "" && !slices.Contains(nonSourceModalities, ds.String("00080060")) {
			out = append(out, uid)
		}
	}
	return out, nil
}

// serveCalibration answers GET /qc/v1/calibration: per reviewer, the
// agreement of their decisions with senior QA and the audit; per
// annotator, Dice and HD95 against the approved SEGs. It names people, so
// it needs the senior_qa or auditor role.
func (a *reviewAPI) serveCalibration(c *gin.Context) error {
	if _, err := requireRole(c, auth.RoleSeniorQA, auth.RoleAuditor); err != nil {
		return err
	}
	out, err := a.wf.Calibration(c.Request.Context())
	if err != nil {
		return reviewHTTPError(err)
	}
	writeJSON(c.Writer, http.StatusOK, out)
	return nil
}
