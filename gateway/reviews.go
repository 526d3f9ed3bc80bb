package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc/review"
	"github.com/qcgate/qcgate/qc/store"
)

// metadataReview is the Orthanc user metadata name that holds a SEG's
// review state. Orthanc accepts it only when its configuration declares
// it, for example "UserMetadata": {"QCReview": 1026}.
const metadataReview = "QCReview"

// Limits of the review API.
const (
	// maxActionBody bounds the JSON body of a review action, in bytes.
	maxActionBody = 64 << 10
	// reviewHookTimeout bounds the opening of a review after a STOW-RS
	// request, which runs once the client has its answer.
	reviewHookTimeout = 30 * time.Second
)

// ReviewOptions configures the review workflow of the gateway.
type ReviewOptions struct {
	// Store keeps the reviews. Required.
	Store review.Store
	// Audit sets the random audit; the zero value audits nothing.
	Audit review.AuditConfig
	// AllowSelfReview turns the four-eyes rules off, for demos with
	// authentication off only. Default false: the rules hold.
	AllowSelfReview bool
	// Archive, when true, writes each review state to Orthanc user
	// metadata (QCReview) and stores a rejection note for each SEG
	// rejected in review. False leaves the archive alone.
	Archive bool
}

// reviewAPI serves the review workflow: /qc/v1/reviews, export,
// completeness and calibration. A nil *reviewAPI serves 404 on them.
type reviewAPI struct {
	s  *Server
	wf *review.Workflow
	// hooks counts the review openings running after STOW-RS answers.
	hooks sync.WaitGroup
}

// newReviewAPI builds the review API of s; it must run after s has its
// upstream client and report store.
func newReviewAPI(s *Server, o ReviewOptions) (*reviewAPI, error) {
	opts := review.Options{Store: o.Store, Reports: s.store, Audit: o.Audit,
		AllowSelfReview: o.AllowSelfReview}
	if o.Archive {
		opts.Archive = &orthancArchive{c: s.client}
	}
	wf, err := review.New(opts)
	if err != nil {
		return nil, fmt.Errorf("review workflow: %w", err)
	}
	return &reviewAPI{s: s, wf: wf}, nil
}

// collector returns the Prometheus collector of the review metrics.
func (a *reviewAPI) collector() *review.Collector { return review.NewCollector(a.wf) }

// register adds the review routes to r.
func (a *reviewAPI) register(s *Server, r gin.IRouter) {
	if a == nil {
		off := s.wrap(func(*gin.Context) error {
			return httpError(http.StatusNotFound, "the review workflow is not enabled", nil)
		})
		for _, p := range []string{"/qc/v1/reviews", "/qc/v1/reviews/:uid", "/qc/v1/export",
			"/qc/v1/completeness", "/qc/v1/calibration"} {
			r.GET(p, off)
		}
		r.POST("/qc/v1/reviews/:uid", off)
		return
	}
	r.GET("/qc/v1/reviews", s.wrap(a.serveQueue))
	r.GET("/qc/v1/reviews/:uid", s.wrap(a.serveReview))
	r.POST("/qc/v1/reviews/:uid", s.wrap(a.serveAction))
	r.GET("/qc/v1/export", s.wrap(a.serveExport))
	r.GET("/qc/v1/completeness", s.wrap(a.serveCompleteness))
	r.GET("/qc/v1/calibration", s.wrap(a.serveCalibration))
}

// onReportsStored opens, in the background, the reviews of the SEGs of
// one STOW-RS request whose reports were stored, in the request's order,
// so that a rework sent after its earlier version in the same request is
// linked to it. Only SEGs the archive holds (Stored) get a review.
func (a *reviewAPI) onReportsStored(reports []*store.StoredReport) {
	if a == nil {
		return
	}
	reports = slices.DeleteFunc(slices.Clone(reports), func(sr *store.StoredReport) bool {
		return sr == nil || !sr.Stored
	})
	if len(reports) == 0 {
		return
	}
	a.hooks.Go(func() {
		for _, sr := range reports {
			a.onReportStored(sr)
		}
	})
}

// onReportStored opens the review of a stored SEG. It runs after the
// STOW-RS answer; a failure is logged at Warn, since the SEG and its
// report are stored and the review can be opened again by re-sending.
func (a *reviewAPI) onReportStored(sr *store.StoredReport) {
	if a == nil || sr == nil || !sr.Stored {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), reviewHookTimeout)
	defer cancel()
	if _, err := a.wf.OnReportStored(ctx, sr, ""); err != nil {
		a.s.log.Warn("opening review failed", "request_id", sr.RequestID,
			a.s.uidAttr(sr.Report.SOPInstanceUID), "err", a.s.redact(err.Error()))
	}
}

// wait waits for the review openings in progress.
func (a *reviewAPI) wait() {
	if a != nil {
		a.hooks.Wait()
	}
}

// requireRole returns the principal of the request when it holds one of
// roles: 401 without a principal, 403 without the role.
func requireRole(c *gin.Context, roles ...auth.Role) (*auth.Principal, error) {
	p := auth.FromContext(c.Request.Context())
	if p == nil {
		c.Header("WWW-Authenticate", `Bearer error="invalid_request"`)
		return nil, httpError(http.StatusUnauthorized, "authentication required",
			review.ErrUnauthenticated)
	}
	names := make([]string, 0, len(roles))
	for _, r := range roles {
		if p.Has(r) {
			return p, nil
		}
		names = append(names, string(r))
	}
	// An auth error, so the 403 carries the Bearer challenge with
	// insufficient_scope like the route middleware's (RFC 6750 3.1).
	return nil, &auth.Error{Code: auth.CodeInsufficientScope,
		Description: "the " + strings.Join(names, " or ") + " role is required",
		Err:         fmt.Errorf("%w: %w", auth.ErrForbidden, review.ErrForbidden)}
}

// reviewHTTPError maps the workflow's errors to statuses; their texts are
// safe to show (states, roles, rules; nothing internal).
func reviewHTTPError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, review.ErrNotFound):
		return httpError(http.StatusNotFound, "no review for that SOP Instance UID", err)
	case errors.Is(err, review.ErrConflict):
		return httpError(http.StatusConflict, "the review changed meanwhile: read it again",
			err)
	case errors.Is(err, review.ErrInvalidAction):
		return httpError(http.StatusConflict, msg, err)
	case errors.Is(err, review.ErrUnauthenticated):
		return httpError(http.StatusUnauthorized, "authentication required", err)
	case errors.Is(err, review.ErrForbidden), errors.Is(err, review.ErrFourEyes):
		return httpError(http.StatusForbidden, msg, err)
	case errors.Is(err, review.ErrInvalidRequest):
		return httpError(http.StatusBadRequest, msg, err)
	}
	return err
}

// reviewBody is the answer of GET /qc/v1/reviews/{uid}.
type reviewBody struct {
	Review *review.Review `json:"review"`
	Trail  []review.Entry `json:"trail"`
}

// serveReview answers GET /qc/v1/reviews/{SOPInstanceUID}: the review and
// its whole trail, with the version as ETag for If-Match.
func (a *reviewAPI) serveReview(c *gin.Context) error {
	if _, err := requireRole(c, auth.RoleViewer); err != nil {
		return err
	}
	uid := c.Param("uid")
	if !isUID(uid) {
		return httpError(http.StatusNotFound, "no review for that SOP Instance UID",
			errors.New("malformed SOP Instance UID"))
	}
	r, trail, err := a.wf.Review(c.Request.Context(), uid)
	if err != nil {
		return reviewHTTPError(err)
	}
	c.Header("ETag", strconv.Quote(strconv.FormatInt(r.Version, 10)))
	writeJSON(c.Writer, http.StatusOK, reviewBody{Review: r, Trail: trail})
	return nil
}

// actionAnswer is the answer of POST /qc/v1/reviews/{uid}.
type actionAnswer struct {
	*review.Outcome
	// ArchiveError says, without internals, that the move is applied but
	// the archive was not updated.
	ArchiveError string `json:"archive_error,omitempty"`
}

// serveAction answers POST /qc/v1/reviews/{SOPInstanceUID} with a JSON
// body {"action", "comment", "version"}: 200 with the new review, 409 when
// another move came first or the state does not allow the action, 403 for
// a missing role or a four-eyes violation, 400 for a bad body. The
// version may also come as If-Match: "N".
func (a *reviewAPI) serveAction(c *gin.Context) error {
	p, err := requireRole(c, auth.RoleReviewer, auth.RoleAuditor)
	if err != nil {
		return err
	}
	uid := c.Param("uid")
	if !isUID(uid) {
		return httpError(http.StatusNotFound, "no review for that SOP Instance UID",
			errors.New("malformed SOP Instance UID"))
	}
	req, err := readAction(c)
	if err != nil {
		return err
	}
	out, err := a.wf.Act(c.Request.Context(), uid, p, req)
	if err != nil {
		return reviewHTTPError(err)
	}
	ans := actionAnswer{Outcome: out}
	if out.ArchiveErr != nil {
		ans.ArchiveError = "the review moved, but updating the archive failed"
		a.s.log.Warn("updating the archive after a review failed",
			"request_id", stateFrom(c.Request.Context()).id, a.s.uidAttr(uid),
			"err", a.s.redact(out.ArchiveErr.Error()))
	}
	c.Header("ETag", strconv.Quote(strconv.FormatInt(out.Review.Version, 10)))
	writeJSON(c.Writer, http.StatusOK, ans)
	return nil
}

// readAction decodes the body of a review action strictly.
func readAction(c *gin.Context) (review.ActionRequest, error) {
	var req review.ActionRequest
	body, err := io.ReadAll(io.LimitReader(c.Request.Body, maxActionBody+1))
	if err != nil {
		return req, fmt.Errorf("reading review action: %w", err)
	}
	if len(body) > maxActionBody {
		return req, httpError(http.StatusRequestEntityTooLarge, "review action too large", nil)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return req, httpError(http.StatusBadRequest,
			`body must be JSON {"action", "comment", "version"}`, err)
	}
	if m := c.GetHeader("If-Match"); m != "" && req.Version == 0 {
		v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(m, "W/"), `"`), 10, 64)
		if err != nil || v <= 0 {
			return req, httpError(http.StatusBadRequest, "If-Match must be a review version",
				err)
		}
		req.Version = v
	}
	return req, nil
}

// queueBody is the answer of GET /qc/v1/reviews.
type queueBody struct {
	Reviews []*review.Review `json:"reviews"`
}

// serveQueue answers GET /qc/v1/reviews?state=&StudyInstanceUID=&limit=:
// the reviews in those states (default: the three review states), oldest
// first.
func (a *reviewAPI) serveQueue(c *gin.Context) error {
	if _, err := requireRole(c, auth.RoleViewer); err != nil {
		return err
	}
	q := c.Request.URL.Query()
	f := review.Filter{StudyInstanceUID: q.Get("StudyInstanceUID")}
	if f.StudyInstanceUID != "" && !isUID(f.StudyInstanceUID) {
		return httpError(http.StatusBadRequest, "StudyInstanceUID: not a UID", nil)
	}
	for _, s := range splitList(q["state"]) {
		f.States = append(f.States, review.State(s))
	}
	if len(f.States) == 0 {
		f.States = []review.State{review.StatePeerReview, review.StateSeniorQA,
			review.StateAudit}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return httpError(http.StatusBadRequest, "limit: not an integer", err)
		}
		f.Limit = n
	}
	list, err := a.wf.Store().List(c.Request.Context(), f)
	if err != nil {
		return reviewHTTPError(err)
	}
	writeJSON(c.Writer, http.StatusOK, queueBody{Reviews: list})
	return nil
}

// splitList splits repeated and comma-separated query values.
func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for s := range strings.SplitSeq(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// filterQIDO removes from a QIDO-RS answer (a DICOM JSON array, PS3.18
// F.2) the instances rejected in review and the SEG series whose every
// reviewed SEG was rejected, as dcm4chee-arc hides rejected instances.
// Items are copied byte for byte; an answer that is not a JSON array is
// an error.
func (a *reviewAPI) filterQIDO(ctx context.Context, body []byte) ([]byte, error) {
	if a == nil {
		return body, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		return nil, fmt.Errorf("reading QIDO-RS answer: %w", err)
	}
	type ids struct{ sop, series, modality string }
	keys := make([]ids, len(items))
	var sops, series []string
	for i, raw := range items {
		ds, err := dicomweb.DecodeDataset(raw)
		if err != nil {
			return nil, fmt.Errorf("reading QIDO-RS answer: %w", err)
		}
		k := ids{sop: ds.String("00080018"), series: ds.String("0020000E"),
			modality: ds.String("00080060")}
		keys[i] = k
		switch {
		case k.sop != "":
			sops = append(sops, k.sop)
		case k.series != "" && k.modality == "SEG":
			series = append(series, k.series)
		}
	}
	hidden, err := a.wf.Hidden(ctx, sops)
	if err != nil {
		return nil, err
	}
	hiddenSeries, err := a.wf.HiddenSeries(ctx, series)
	if err != nil {
		return nil, err
	}
	kept := make([]json.RawMessage, 0, len(items))
	for i, raw := range items {
		k := keys[i]
		if hidden[k.sop] || (k.sop == "" && hiddenSeries[k.series]) {
			continue
		}
		kept = append(kept, raw)
	}
	if len(kept) == len(items) {
		return body, nil
	}
	return json.Marshal(kept)
}

// orthancArchive is the [review.Archive] of an Orthanc upstream.
type orthancArchive struct {
	c *dicomweb.Client
}

// SetStatus implements [review.Archive] with Orthanc user metadata.
func (o *orthancArchive) SetStatus(ctx context.Context, sop string, s review.State) error {
	return o.c.OrthancSetMetadata(ctx, sop, metadataReview, string(s))
}

// Attributes implements [review.Archive] from the WADO-RS metadata of the
// instance's series.
func (o *orthancArchive) Attributes(ctx context.Context, study, series, sop string) (
	review.PatientStudy, error) {
	dss, err := o.c.SeriesMetadata(ctx, study, series)
	if err != nil {
		return review.PatientStudy{}, err
	}
	for _, ds := range dss {
		if ds.String("00080018") != sop {
			continue
		}
		return review.PatientStudy{PatientName: ds.String("00100010"),
			PatientID: ds.String("00100020"), PatientBirthDate: ds.String("00100030"),
			PatientSex: ds.String("00100040"), StudyDate: ds.String("00080020"),
			StudyTime: ds.String("00080030"), ReferringPhysicianName: ds.String("00080090"),
			StudyID: ds.String("00200010"), AccessionNumber: ds.String("00080050")}, nil
	}
	return review.PatientStudy{}, fmt.Errorf("instance %s not in its series: %w", sop,
		dicomweb.ErrNotFound)
}

// Store implements [review.Archive] with one STOW-RS request.
func (o *orthancArchive) Store(ctx context.Context, study string, part10 []byte) error {
	var body bytes.Buffer
	sw := dicomweb.NewStowWriter(&body)
	w, err := sw.CreatePart()
	if err == nil {
		_, err = w.Write(part10)
	}
	if err == nil {
		err = sw.Close()
	}
	if err != nil {
		return err
	}
	resp, status, err := o.c.Store(ctx, study, sw.ContentType(), bytes.NewReader(body.Bytes()))
	if err != nil {
		return err
	}
	if status != http.StatusOK || len(resp.Failed) > 0 || len(resp.Other) > 0 {
		return fmt.Errorf("storing rejection note: upstream answered %d with %d failures",
			status, len(resp.Failed)+len(resp.Other))
	}
	return nil
}

// Interface guard.
var _ review.Archive = (*orthancArchive)(nil)
