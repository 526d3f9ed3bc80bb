package gateway

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/review"
	"github.com/qcgate/qcgate/qc/store"
)

// The QC dashboard at /qc/ is server-rendered HTML: no script, no build
// step. Browsers cannot send a bearer token on a navigation, so the
// dashboard signs in once: the login form takes a token (as "qcgate token"
// or the identity provider issues it), the gateway verifies it and keeps it
// in a cookie that is HttpOnly (no script reads it), SameSite=Strict (the
// browser never sends it with a request another site starts, so a forged
// cross-site form post arrives without it: that is the CSRF defence),
// Secure over TLS, and scoped to Path=/qc/; only the dashboard's routes
// read it, never the DICOMweb or /qc/v1 API, which keep taking bearer
// headers only. Every request re-verifies the token, so the session ends
// when the token expires. Posts also must come from the gateway's own
// pages (Origin and Sec-Fetch-Site checked when the browser sends them).
const sessionCookie = "qcgate_session"

// dashboardPath is the root of the dashboard.
const dashboardPath = "/qc/"

// reviewWorkflow is what the dashboard needs of the review workflow;
// *review.Workflow provides it.
type reviewWorkflow interface {
	// Review returns the review of a SEG and its trail.
	Review(ctx context.Context, sopInstanceUID string) (*review.Review, []review.Entry, error)
	// Act applies a reviewer's action.
	Act(ctx context.Context, sopInstanceUID string, p *auth.Principal,
		req review.ActionRequest) (*review.Outcome, error)
}

// SetReviewWorkflow gives the QC status and the dashboard the review
// workflow: review states in DICOMweb answers and on the dashboard, the
// review trail and the review actions on a SEG's page. Call it before
// serving.
func (s *Server) SetReviewWorkflow(wf *review.Workflow) {
	if s.reviewLookup == nil {
		s.reviewLookup = ReviewLookupFromStore(wf.Store())
	}
	s.web.reviews = wf
}

// dashboardRoutes adds the dashboard to e.
func (s *Server) dashboardRoutes(e *gin.Engine) {
	e.GET("/qc", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, dashboardPath) })
	e.GET("/qc/static/:file", s.wrap(s.serveDashboardStatic))
	e.GET("/qc/login", s.wrap(s.serveLoginForm))
	e.POST("/qc/login", s.wrap(s.serveLogin))
	e.POST("/qc/logout", s.wrap(s.serveLogout))
	g := e.Group(dashboardPath, s.dashboardAuth, s.requireRole(auth.RoleViewer))
	g.GET("", s.wrap(s.serveDashboardList))
	g.GET("seg/:uid", s.wrap(s.serveDashboardSEG))
	g.POST("seg/:uid/review", s.wrap(s.serveDashboardReview))
	g.GET("seg/:uid/frames/:file", s.wrap(s.serveSEGFrame))
}

// dashboardAuth turns the session cookie into the request's bearer token
// and authenticates the request like any other; without a valid session a
// page request gets the login form.
func (s *Server) dashboardAuth(c *gin.Context) {
	r := c.Request
	if !s.verifier.Disabled() {
		ck, err := r.Cookie(sessionCookie)
		if err != nil || ck.Value == "" {
			s.web.renderLogin(c, http.StatusUnauthorized, "")
			c.Abort()
			return
		}
		if _, err := s.verifier.VerifyToken(r.Context(), ck.Value); err != nil {
			clearSession(c)
			s.web.renderLogin(c, http.StatusUnauthorized,
				"Your session has expired or its token is not valid: sign in again.")
			c.Abort()
			return
		}
		r.Header.Set("Authorization", "Bearer "+ck.Value)
	}
	s.authenticate(c)
}

// sameOrigin reports whether a state-changing request comes from the
// gateway's own pages: browsers send Sec-Fetch-Site and Origin on form
// posts; when present they must name this origin.
func sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// serveLoginForm answers GET /qc/login.
func (s *Server) serveLoginForm(c *gin.Context) error {
	s.web.renderLogin(c, http.StatusOK, "")
	return nil
}

// maxLoginBody bounds the body of the login form.
const maxLoginBody = 16 << 10

// serveLogin answers POST /qc/login: it verifies the token of the form and
// sets the session cookie.
func (s *Server) serveLogin(c *gin.Context) error {
	r := c.Request
	if !sameOrigin(r) {
		return httpError(http.StatusForbidden, "cross-site request refused", nil)
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxLoginBody)
	token := strings.TrimSpace(r.PostFormValue("token"))
	p, err := s.verifier.VerifyToken(r.Context(), token)
	if err != nil || token == "" {
		s.web.renderLogin(c, http.StatusUnauthorized,
			"That token was not accepted: check that it is complete and not expired.")
		return nil
	}
	if !p.Has(auth.RoleViewer) {
		s.web.renderLogin(c, http.StatusForbidden, "That token has no role that may see QC.")
		return nil
	}
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Value: token,
		Path: dashboardPath, HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
	c.Redirect(http.StatusSeeOther, dashboardPath)
	return nil
}

// serveLogout answers POST /qc/logout.
func (s *Server) serveLogout(c *gin.Context) error {
	if !sameOrigin(c.Request) {
		return httpError(http.StatusForbidden, "cross-site request refused", nil)
	}
	clearSession(c)
	c.Redirect(http.StatusSeeOther, "/qc/login")
	return nil
}

// clearSession deletes the session cookie.
func clearSession(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{Name: sessionCookie, Path: dashboardPath,
		MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// serveDashboardStatic serves the dashboard's style sheet.
func (s *Server) serveDashboardStatic(c *gin.Context) error {
	name := c.Param("file")
	b, err := webFiles.ReadFile("web/static/" + name)
	if err != nil || strings.Contains(name, "/") {
		return httpError(http.StatusNotFound, "not found", err)
	}
	ct := "text/css; charset=utf-8"
	if !strings.HasSuffix(name, ".css") {
		ct = "application/octet-stream"
	}
	c.Header("Cache-Control", "max-age=3600")
	c.Data(http.StatusOK, ct, b)
	return nil
}

// seesIdentities reports whether p may see who made and reviewed SEGs:
// the review roles do, plain viewers and annotators do not.
func seesIdentities(p *auth.Principal) bool {
	return p.Has(auth.RoleReviewer) || p.Has(auth.RoleAuditor)
}

// listRow is one SEG in the dashboard's list.
type listRow struct {
	SOPInstanceUID, StudyInstanceUID, SeriesInstanceUID string
	Decision                                            qc.Decision
	Status                                              string
	Warnings, Errors                                    int
	State                                               review.State
	Annotator                                           string
	CheckedAt                                           time.Time
	Stored                                              bool
}

// listFilter is the dashboard list's query.
type listFilter struct {
	Study, Decision, State, Annotator string
}

// maxDashboardRows bounds the SEGs one list page shows.
const maxDashboardRows = 200

// serveDashboardList answers GET /qc/: the SEGs with their latest reports,
// newest first, filtered by study, decision, review state and annotator.
func (s *Server) serveDashboardList(c *gin.Context) error {
	ctx := c.Request.Context()
	p := auth.FromContext(ctx)
	q := c.Request.URL.Query()
	f := listFilter{Study: q.Get("study"), Decision: q.Get("decision"),
		State: q.Get("state"), Annotator: q.Get("annotator")}
	if !seesIdentities(p) {
		f.Annotator = ""
	}
	sf := store.Filter{Limit: store.MaxLimit, Decision: qc.Decision(f.Decision)}
	if isUID(f.Study) {
		sf.StudyInstanceUID = f.Study
	}
	list, err := s.store.List(ctx, sf)
	if errors.Is(err, store.ErrInvalidFilter) {
		return httpError(http.StatusBadRequest, "unknown decision", err)
	}
	if err != nil {
		return fmt.Errorf("listing reports: %w", err)
	}
	latest := latestPerSEG(list)
	states, err := s.reviewStates(ctx, latest)
	if err != nil {
		return err
	}

	var rows []listRow
	for _, r := range latest {
		row := newListRow(r, states[r.Report.SOPInstanceUID])
		if (f.State != "" && string(row.State) != f.State && !(f.State == "none" &&
			row.State == "")) || (f.Annotator != "" && row.Annotator != f.Annotator) {
			continue
		}
		if !seesIdentities(p) {
			row.Annotator = ""
		}
		rows = append(rows, row)
		if len(rows) == maxDashboardRows {
			break
		}
	}
	return s.web.render(c, "list", map[string]any{
		"Title": "QC dashboard", "Principal": p, "Filter": f, "Rows": rows,
		"SeesIdentities": seesIdentities(p), "States": review.States(),
		"Reviews": s.reviewLookup != nil, "Limit": maxDashboardRows,
	})
}

// newListRow summarises a stored report.
func newListRow(r *store.StoredReport, state review.State) listRow {
	row := listRow{SOPInstanceUID: r.Report.SOPInstanceUID,
		StudyInstanceUID: r.Report.StudyInstanceUID, SeriesInstanceUID: r.Report.SeriesInstanceUID,
		Decision: r.Report.Decision, State: state, Annotator: r.Report.Uploader,
		CheckedAt: r.Report.CheckedAt, Stored: r.Stored,
		Status: wordsOf(segStatus{report: r, state: state})}
	for _, f := range r.Report.Findings {
		switch f.Severity {
		case qc.SeverityWarning:
			row.Warnings++
		case qc.SeverityError:
			row.Errors++
		}
	}
	return row
}

// reviewStates returns the review states of the SEGs of reports.
func (s *Server) reviewStates(ctx context.Context, reports []*store.StoredReport) (
	map[string]review.State, error) {
	if s.reviewLookup == nil || len(reports) == 0 {
		return map[string]review.State{}, nil
	}
	uids := make([]string, len(reports))
	for i, r := range reports {
		uids[i] = r.Report.SOPInstanceUID
	}
	st, err := s.reviewLookup.ReviewStates(ctx, uids)
	if err != nil {
		return nil, fmt.Errorf("reading review states: %w", err)
	}
	return st, nil
}

// segmentView is one segment on a SEG's page.
type segmentView struct {
	qc.SegmentReport
	Chart  chartSVG
	Frames string
}

// serveDashboardSEG answers GET /qc/seg/{uid}: the SEG's latest report,
// its segments with a chart of voxels per slice, its review and the
// actions the user may take.
func (s *Server) serveDashboardSEG(c *gin.Context) error {
	ctx := c.Request.Context()
	p := auth.FromContext(ctx)
	uid := c.Param("uid")
	if !isUID(uid) {
		return httpError(http.StatusNotFound, "no report for that SOP Instance UID", nil)
	}
	r, err := s.store.Latest(ctx, uid)
	if errors.Is(err, store.ErrNotFound) {
		return httpError(http.StatusNotFound, "no report for that SOP Instance UID", err)
	}
	if err != nil {
		return fmt.Errorf("reading report: %w", err)
	}
	if !isUID(r.Report.StudyInstanceUID) || !isUID(r.Report.SeriesInstanceUID) {
		r.Stored = false
	}

	data := map[string]any{"Title": "SEG " + uid, "Principal": p, "Report": r.Report,
		"Stored": r.Stored, "Outcome": r.Outcome, "SeesIdentities": seesIdentities(p),
		"ReportURL": reportPath + uid, "Notice": c.Query("notice")}
	var state review.State
	if s.web.reviews != nil {
		rv, trail, err := s.web.reviews.Review(ctx, uid)
		switch {
		case err == nil:
			state = rv.State
			data["Review"], data["Trail"] = rv, trail
			data["Actions"] = allowedActions(p, rv.State)
		case !errors.Is(err, review.ErrNotFound):
			return fmt.Errorf("reading review: %w", err)
		}
	}
	data["Status"] = wordsOf(segStatus{report: r, state: state})

	// Voxels per slice need the SEG's pixels, which only the archive
	// holds: a rejected SEG has its numbers but no chart.
	var counts *sliceCounts
	if r.Stored {
		counts, err = s.segSliceCounts(ctx, r.Report)
		if err != nil {
			s.log.Warn("dashboard chart failed", s.uidAttr(uid), "err", s.redact(err.Error()))
			data["ChartError"] = "The SEG could not be read from the archive for its charts."
		}
	}
	var segs []segmentView
	for _, sr := range r.Report.Segments {
		v := segmentView{SegmentReport: sr}
		if counts != nil {
			n := uint16(sr.Number)
			if cs := counts.Counts[n]; cs != nil {
				v.Chart = newChart(counts.Positions, cs)
			}
			v.Frames = framesText(counts.Frames[n])
		}
		segs = append(segs, v)
	}
	data["Segments"] = segs
	pics, anchors, more := slicePictures(r.Report, counts)
	data["Pictures"], data["FrameAnchors"], data["MorePictures"] = pics, anchors, more
	data["PicturesOfFindings"] = len(anchors) > 0
	return s.web.render(c, "seg", data)
}

// allowedActions returns the review actions p may take on a SEG in state.
func allowedActions(p *auth.Principal, state review.State) []review.Action {
	var out []review.Action
	for _, a := range []review.Action{review.ActionApprove, review.ActionReturn,
		review.ActionReject} {
		if role, ok := review.RequiredRole(state, a); ok && p.Has(role) {
			out = append(out, a)
		}
	}
	return out
}

// serveDashboardReview answers the review form of a SEG's page: it applies
// the action and goes back to the page with a notice.
func (s *Server) serveDashboardReview(c *gin.Context) error {
	r := c.Request
	if !sameOrigin(r) {
		return httpError(http.StatusForbidden, "cross-site request refused", nil)
	}
	uid := c.Param("uid")
	if !isUID(uid) || s.web.reviews == nil {
		return httpError(http.StatusNotFound, "no review for that SOP Instance UID", nil)
	}
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxActionBody)
	req := review.ActionRequest{Action: review.Action(r.PostFormValue("action")),
		Comment: strings.TrimSpace(r.PostFormValue("comment"))}
	if _, err := fmt.Sscan(r.PostFormValue("version"), &req.Version); err != nil {
		req.Version = 0
	}
	notice := "Done: " + string(req.Action) + "."
	p := auth.FromContext(r.Context())
	if _, err := s.web.reviews.Act(r.Context(), uid, p, req); err != nil {
		he := asHTTPError(r.Context(), reviewHTTPError(err))
		if he.Status >= 500 {
			return err
		}
		notice = "Not done: " + he.Message + "."
	}
	c.Redirect(http.StatusSeeOther, dashboardPath+"seg/"+uid+"?notice="+url.QueryEscape(notice))
	return nil
}

// segSliceCounts reads a stored SEG from the archive and counts its voxels
// per slice.
func (s *Server) segSliceCounts(ctx context.Context, rep *qc.Report) (*sliceCounts, error) {
	seg, err := s.readStoredSEG(ctx, rep)
	if err != nil {
		return nil, err
	}
	return countSlices(seg)
}

// readStoredSEG reads the stored SEG of rep from the archive by WADO-URI
// (PS3.18 9), at most max_seg_part_bytes of it.
func (s *Server) readStoredSEG(ctx context.Context, rep *qc.Report) (*qc.Segmentation, error) {
	// Orthanc 1.10 does not percent-decode WADO-URI parameters either: the
	// content type goes with its slash as it is, and UIDs need no escaping.
	u := *s.wadoURI
	u.RawQuery = "requestType=WADO&studyUID=" + rep.StudyInstanceUID + "&seriesUID=" +
		rep.SeriesInstanceUID + "&objectUID=" + rep.SOPInstanceUID +
		"&contentType=application/dicom"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("building SEG request: %w", err)
	}
	res, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching SEG: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching SEG: upstream answered %d", res.StatusCode)
	}
	limit := int64(s.cfg.MaxSEGPartBytes)
	b, err := io.ReadAll(io.LimitReader(res.Body, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading SEG: %w", err)
	}
	if int64(len(b)) > limit {
		return nil, errors.New("reading SEG: over max_seg_part_bytes")
	}
	seg, err := qc.ParseSegmentation(b)
	if err != nil {
		return nil, fmt.Errorf("parsing SEG: %w", err)
	}
	return seg, nil
}

// pages are the dashboard's templates, each with the layout.
var pages = func() map[string]*template.Template {
	funcs := template.FuncMap{
		"short": func(uid string) string {
			if len(uid) <= 18 {
				return uid
			}
			return "…" + uid[len(uid)-16:]
		},
		"time": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"contains": func(list []review.Action, a string) bool {
			return slices.Contains(list, review.Action(a))
		},
		"pct": func(f float64) string { return fmt.Sprintf("%.3f", f) },
		"mm": func(f *float64) string {
			if f == nil {
				return "–"
			}
			return fmt.Sprintf("%.1f mm", *f)
		},
		"ml": func(f *float64) string {
			if f == nil {
				return "–"
			}
			return fmt.Sprintf("%.1f", *f)
		},
	}
	out := map[string]*template.Template{}
	for _, name := range []string{"list", "seg", "login"} {
		out[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(webFiles,
			"web/templates/layout.html", "web/templates/"+name+".html"))
	}
	return out
}()

// render writes page name with data.
func (w *webUI) render(c *gin.Context, name string, data map[string]any) error {
	return w.renderStatus(c, http.StatusOK, name, data)
}

// renderStatus writes page name with data and status.
func (w *webUI) renderStatus(c *gin.Context, status int, name string,
	data map[string]any) error {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "+
		"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "same-origin")
	c.Status(status)
	if err := pages[name].Execute(c.Writer, data); err != nil {
		return fmt.Errorf("rendering %s page: %w", name, err)
	}
	return nil
}

// renderLogin writes the login form with an optional message.
func (w *webUI) renderLogin(c *gin.Context, status int, msg string) {
	w.renderStatus(c, status, "login", map[string]any{"Title": "Sign in", "Message": msg})
}
