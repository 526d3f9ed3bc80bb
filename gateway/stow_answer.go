package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/store"
)

// maxWarnings bounds the Warning headers of one answer.
const maxWarnings = 20

// sentParts returns the parts that went upstream in the STOW-RS request.
func (sr *stowRequest) sentParts() []*stowPart {
	var out []*stowPart
	for _, p := range sr.parts {
		if p.sent && !p.viaREST {
			out = append(out, p)
		}
	}
	return out
}

// applyOutcome marks each sent part stored or not from the upstream's
// answer, asking the upstream about parts its answer does not list (as
// Orthanc does with a part it cannot read: it answers 400 for the whole
// request). It returns the error that decides the whole answer when the
// upstream failed as a server: 502 or 504.
func (sr *stowRequest) applyOutcome(out upstreamOutcome) *Error {
	sent := sr.sentParts()
	if !out.sent {
		return nil
	}

	if out.err != nil {
		return transportFailure(sent, out.err)
	}

	// Items of the upstream's answer, by SOP Instance UID.
	stored := map[string]dicomweb.ReferencedSOP{}
	for _, r := range out.resp.Referenced {
		stored[r.SOPInstanceUID] = r
	}
	failed := map[string]dicomweb.FailedSOP{}
	for _, f := range append(out.resp.Failed, out.resp.Other...) {
		failed[f.SOPInstanceUID] = f
	}
	var unlisted []*stowPart
	for _, p := range sent {
		uid := p.header.sopInstance()
		if r, ok := stored[uid]; ok {
			p.stored, p.upstreamWarning = true, r.WarningReason
			continue
		}
		if f, ok := failed[uid]; ok {
			p.upstreamFailure = f.FailureReason
			p.upstreamComment = "upstream refused it: " +
				dicomweb.FailureReasonText(f.FailureReason)
			continue
		}
		unlisted = append(unlisted, p)
	}
	if out.status == http.StatusUnauthorized || out.status == http.StatusForbidden {
		sr.s.log.Error("upstream refuses the gateway's credentials", "request_id", sr.id,
			"status", out.status)
		for _, p := range sent {
			p.stored, p.upstreamFailure = false, dicomweb.FailureProcessing
			p.upstreamComment = "upstream refused the gateway's credentials"
		}
		return httpError(http.StatusBadGateway, "upstream refused the gateway's credentials",
			fmt.Errorf("upstream status %d", out.status))
	}

	// What the answer does not list is looked up, so the client learns what
	// the upstream holds whatever its status said.
	sr.verify(unlisted)
	sr.confirmSEGs(sent)
	anyStored := false
	for _, p := range sent {
		if !p.stored && p.upstreamFailure == 0 {
			p.upstreamFailure = dicomweb.FailureProcessing
			if p.upstreamComment == "" {
				p.upstreamComment = fmt.Sprintf("upstream answered %d and does not hold it",
					out.status)
			}
		}
		anyStored = anyStored || p.stored
	}
	if out.status >= 500 && !anyStored {
		return httpError(http.StatusBadGateway, "upstream failed to store the instances",
			fmt.Errorf("upstream status %d", out.status))
	}
	return nil
}

// confirmSEGs looks up each SEG the upstream listed as stored. Orthanc
// lists an instance that a filter of its own (a Lua
// ReceivedInstanceFilter) dropped as stored; only a lookup tells the
// truth, and a SEG is what the gateway vouches for.
func (sr *stowRequest) confirmSEGs(sent []*stowPart) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(sr.ctx),
		sr.s.cfg.UpstreamTimeout)
	defer cancel()
	for _, p := range sent {
		if p.report == nil || !p.stored {
			continue
		}
		has, err := sr.s.upstreamHas(ctx, p.header.StudyInstanceUID, p.header.sopInstance())
		if err != nil || has {
			// A lookup that fails leaves the upstream's word standing.
			continue
		}
		p.stored = false
		p.upstreamFailure = dicomweb.FailureProcessing
		p.upstreamComment = "upstream listed it as stored but does not hold it " +
			"(a filter in the archive may have refused it)"
		sr.s.log.Warn("upstream listed a SEG as stored that it does not hold",
			"request_id", sr.id, sr.s.uidAttr(p.header.sopInstance()))
	}
}

// transportFailure marks the sent parts of a request whose upstream
// request failed in transport: there is no answer to go by, and an upstream
// that cannot be asked, so nothing is claimed stored. It returns the 502 or
// 504 of the answer.
func transportFailure(sent []*stowPart, err error) *Error {
	he := asHTTPError(context.Background(), err)
	if he.Status < 500 {
		he = httpError(http.StatusBadGateway, "upstream unreachable", err)
	}
	for _, p := range sent {
		p.upstreamFailure = dicomweb.FailureProcessing
		p.upstreamComment = "upstream unreachable: not stored"
		if he.Status == http.StatusGatewayTimeout {
			p.upstreamComment = "upstream did not answer in time: " +
				"not known whether it stored the instance"
		}
	}
	return he
}

// answer merges the outcome of the upstream request with the gateway's
// refusals, stores the reports, starts the tagging of stored SEGs and
// writes the PS3.18 answer.
func (sr *stowRequest) answer(c *gin.Context, out upstreamOutcome) error {
	overall := sr.applyOutcome(out)
	if overall == nil {
		sr.storeViaREST()
	}
	sr.storeReports(overall)

	resp := sr.response()
	status := dicomweb.StatusFor(len(resp.Referenced), len(resp.Failed))
	if overall != nil {
		status = overall.Status
		stateFrom(sr.ctx).err = overall
	}
	sr.setWarnings(c.Writer.Header(), overall)
	sr.logSummary(len(resp.Referenced), len(resp.Failed))
	return sr.write(c, status, resp)
}

// response builds the Store Instances Response (PS3.18 10.5.3): stored
// parts with Retrieve URLs at the gateway, then every failed part.
func (sr *stowRequest) response() *dicomweb.StoreResponse {
	resp := &dicomweb.StoreResponse{}
	gw := sr.base.String() + dicomwebPrefix
	studies := map[string]bool{}
	for _, p := range sr.parts {
		h := &p.header
		switch {
		case p.sent && p.stored:
			resp.Referenced = append(resp.Referenced, dicomweb.ReferencedSOP{
				SOPClassUID:    h.sopClass(),
				SOPInstanceUID: h.sopInstance(),
				RetrieveURL: gw + "/studies/" + h.StudyInstanceUID + "/series/" +
					h.SeriesInstanceUID + "/instances/" + h.sopInstance(),
				WarningReason: p.upstreamWarning,
			})
			studies[h.StudyInstanceUID] = true
		case p.sent:
			resp.Failed = append(resp.Failed, dicomweb.FailedSOP{SOPClassUID: h.sopClass(),
				SOPInstanceUID: h.sopInstance(), FailureReason: p.upstreamFailure,
				Comment: p.upstreamComment})
		case p.state == partFailed || p.state == partRejected || p.state == partHeld ||
			p.state == partAccepted:
			reason, comment := p.failure, p.comment
			if reason == 0 {
				// A held or accepted SEG that never went upstream.
				reason, comment = dicomweb.FailureProcessing, "not sent upstream"
			}
			resp.Failed = append(resp.Failed, dicomweb.FailedSOP{SOPClassUID: h.sopClass(),
				SOPInstanceUID: h.sopInstance(), FailureReason: reason, Comment: comment})
		}
	}
	switch {
	case sr.route.Study != "":
		resp.RetrieveURL = gw + "/studies/" + sr.route.Study
	case len(studies) == 1:
		for s := range studies {
			resp.RetrieveURL = gw + "/studies/" + s
		}
	}
	return resp
}

// storeReports writes the report of every checked SEG with what became of
// it, and starts tagging the stored ones. A report is never marked stored
// unless the upstream confirmed the SEG.
func (sr *stowRequest) storeReports(overall *Error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(sr.ctx), 10*time.Second)
	defer cancel()
	var jobs []tagJob
	var stored []*store.StoredReport
	for _, p := range sr.parts {
		if p.report == nil {
			continue
		}
		p.report.Stored = p.sent && p.stored
		switch {
		case p.report.Stored:
			p.report.Outcome = "stored"
		case p.state == partRejected:
			p.report.Outcome = "rejected"
		case p.sent:
			p.report.Outcome = "not stored: " + p.upstreamComment
		default:
			p.report.Outcome = "not stored: not sent upstream"
		}
		if err := sr.s.store.Put(ctx, p.report); err != nil {
			sr.s.log.Error("storing report failed", "request_id", sr.id,
				sr.s.uidAttr(p.header.sopInstance()), "err", sr.s.redact(err.Error()))
			continue
		}
		if p.report.Stored {
			jobs = append(jobs, tagJob{sopInstanceUID: p.header.sopInstance(),
				decision: string(p.report.Report.Decision), reportID: p.report.ID,
				requestID: sr.id})
			stored = append(stored, p.report)
		}
	}
	sr.s.tagger.tag(jobs)
	// Each SEG the archive now holds enters the review workflow, when on.
	sr.s.reviews.onReportsStored(stored)
}

// setWarnings adds a Warning: 299 header (RFC 9111 5.5) for each part the
// gateway refused and each SEG accepted with warnings, with the report's
// URL, since viewers such as OHIF and Slicer do not show the body.
func (sr *stowRequest) setWarnings(h http.Header, overall *Error) {
	var texts []string
	if overall != nil {
		texts = append(texts, overall.Message)
	}
	for _, p := range sr.parts {
		text := ""
		switch {
		case p.state == partRejected:
			text = p.comment
		case p.state == partAccepted && p.report != nil &&
			p.report.Report.Decision == qc.DecisionAcceptedWithWarnings:
			text = "SEG " + p.header.sopInstance() + " accepted with warnings: " +
				findingSummary(p.report.Report)
		case p.state == partFailed:
			text = p.comment
		case p.sent && !p.stored && p.upstreamComment != "":
			text = "part " + itoa(p.index) + ": " + p.upstreamComment
		}
		if text == "" {
			continue
		}
		// The report's URL is never cut off, whatever the reason's length.
		if p.report != nil {
			text = clip(text, maxWarningReason) + "; report: " + sr.reportURL(p)
		}
		texts = append(texts, text)
	}
	for i, t := range texts {
		if i == maxWarnings {
			h.Add("Warning", warningValue(fmt.Sprintf("%d more warnings; see the answer body",
				len(texts)-maxWarnings)))
			break
		}
		h.Add("Warning", warningValue(t))
	}
}

// maxWarningReason bounds the reason part of a Warning header, in
// characters; the report URL follows it.
const maxWarningReason = 240

// clip shortens s to at most n runes, marking the cut with "...".
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-3]) + "..."
}

// reportURL returns the URL of the report of a SEG part.
func (sr *stowRequest) reportURL(p *stowPart) string {
	return sr.base.String() + reportPath + p.header.sopInstance()
}

// warningValue builds a Warning header value (RFC 9111 5.5): code 299,
// agent qcgate, and text as a quoted string of printable ASCII, quotes and
// backslashes escaped, other characters replaced by "?".
func warningValue(text string) string {
	var b strings.Builder
	b.WriteString(`299 qcgate "`)
	for _, r := range clip(text, 2*maxWarningReason) {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r > 0x7e:
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// write encodes resp as DICOM JSON, or as XML when the client accepts
// only XML (PS3.18 10.5.3), and writes it with status.
func (sr *stowRequest) write(c *gin.Context, status int, resp *dicomweb.StoreResponse) error {
	xml := wantsXML(c.Request.Header.Values("Accept"))
	var body []byte
	var err error
	ctype := "application/dicom+json"
	if xml {
		body, err = resp.MarshalDICOMXML()
		ctype = "application/dicom+xml"
	} else {
		body, err = resp.MarshalDICOMJSON()
	}
	if err != nil {
		return fmt.Errorf("encoding STOW-RS answer: %w", err)
	}
	c.Writer.Header().Set("Content-Type", ctype)
	c.Writer.WriteHeader(status)
	c.Writer.Write(body)
	return nil
}

// wantsXML reports whether an Accept header asks for DICOM XML and not
// for JSON.
func wantsXML(accept []string) bool {
	all := strings.ToLower(strings.Join(accept, ","))
	return strings.Contains(all, "xml") && !strings.Contains(all, "json") &&
		!strings.Contains(all, "*/*")
}

// logSummary adds the request's outcome to its access record.
func (sr *stowRequest) logSummary(stored, failed int) {
	held, rejected := 0, 0
	for _, p := range sr.parts {
		if p.report != nil {
			held++
		}
		if p.state == partRejected {
			rejected++
		}
	}
	addAttrs(sr.ctx, slog.Int("stow_parts", len(sr.parts)), slog.Int("stow_stored", stored),
		slog.Int("stow_failed", failed), slog.Int("seg_checked", held),
		slog.Int("seg_rejected", rejected))
}

// abort ends a request whose body could not be read to its end: the
// upstream request is cut, what the upstream holds anyway is looked up,
// and the answer says what was wrong and what is stored.
func (sr *stowRequest) abort(c *gin.Context, cause error) error {
	status, msg := abortStatus(sr.ctx, cause)
	if sr.up != nil {
		select {
		case <-sr.up.done:
		default:
			sr.up.abort(fmt.Errorf("client request aborted: %w", cause))
		}
		<-sr.up.done
	}

	// An upstream that failed or answered before the whole body was sent
	// decides the answer: 502 or 504. The parts after the one being sent
	// were not read, so no 2xx can tell the truth.
	if errors.Is(cause, errUpstreamGone) && sr.up != nil {
		out := sr.up.outcome()
		if out.err == nil && out.status == 0 {
			out.err = cause
		}
		he := sr.applyOutcome(out)
		if he == nil {
			he = httpError(http.StatusBadGateway, "upstream ended the request before the "+
				"whole body was sent: later parts were not stored",
				fmt.Errorf("upstream status %d: %w", out.status, cause))
		}
		sr.setWarnings(c.Writer.Header(), he)
		stateFrom(sr.ctx).err = he
		resp := sr.response()
		sr.logSummary(len(resp.Referenced), len(resp.Failed))
		return sr.write(c, he.Status, resp)
	}
	if status == StatusClientClosedRequest {
		return httpError(status, msg, cause)
	}

	// Parts cut off are not stored; the upstream is asked about the others.
	sent := sr.sentParts()
	sr.verify(sent)
	for _, p := range sent {
		if !p.stored {
			p.upstreamFailure = dicomweb.FailureProcessing
			p.upstreamComment = "not stored: the request was aborted"
		}
	}
	he := httpError(status, msg, cause)
	stateFrom(sr.ctx).err = he
	sr.setWarnings(c.Writer.Header(), he)
	resp := sr.response()
	sr.logSummary(len(resp.Referenced), len(resp.Failed))
	return sr.write(c, status, resp)
}

// abortStatus returns the status and message of a body that could not be
// read: 408 when it stalled, 499 when the client went away, 413 over a
// limit, else 400.
func abortStatus(ctx context.Context, cause error) (int, string) {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(cause, errBodyIdle):
		// net/http cancels the context of a request whose read failed, so
		// this comes before the client-gone case.
		return http.StatusRequestTimeout, "request body stalled: no byte received for " +
			"body_idle_timeout; nothing after the stall was stored"
	case ctx.Err() != nil:
		return StatusClientClosedRequest, "client closed request"
	case errors.Is(cause, errSEGTooLarge):
		return http.StatusRequestEntityTooLarge,
			"a SEG part is larger than the gateway's limit (max_seg_part_bytes)"
	case errors.As(cause, &mbe):
		return http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than "+
			"the gateway's limit of %d bytes (max_request_bytes, also counted after "+
			"decompression)", mbe.Limit)
	case errors.Is(cause, errEmptyBody):
		return http.StatusBadRequest,
			"empty request body: a STOW-RS request needs at least one part"
	case errors.Is(cause, errBoundaryNotFound):
		return http.StatusBadRequest, "no part found: the body holds no delimiter line of " +
			"the boundary its Content-Type names"
	case errors.Is(cause, errFirstPartCut):
		return http.StatusBadRequest, "no part found: the body ends inside the header " +
			"of its first part"
	case errors.Is(cause, dicomweb.ErrTooManyParts):
		return http.StatusRequestEntityTooLarge, "too many parts in the multipart body"
	case errors.Is(cause, dicomweb.ErrTruncated):
		return http.StatusBadRequest, "request body ends before the closing boundary: " +
			"nothing after the cut was stored"
	case errors.Is(cause, dicomweb.ErrHeaderTooLarge):
		return http.StatusBadRequest, "a part's header block is too large"
	case errors.Is(cause, dicomweb.ErrMalformedMultipart):
		return http.StatusBadRequest, "malformed multipart body"
	}
	return http.StatusBadRequest, "request body could not be read"
}

// rejectionReason returns the Failure Reason of a rejected SEG: that of its
// first error finding that has one (A9xx for a Segmentation IOD violation,
// C122 for an unsupported transfer syntax), else the QC policy code.
func rejectionReason(r *qc.Report) int {
	for _, f := range r.Findings {
		if f.Severity == qc.SeverityError && f.FailureReason != 0 {
			return f.FailureReason
		}
	}
	return dicomweb.FailureQCRejected
}

// findingSummary returns "rule: message" of the first error finding, else
// of the first warning, for a Warning header.
func findingSummary(r *qc.Report) string {
	for _, sev := range []qc.Severity{qc.SeverityError, qc.SeverityWarning} {
		for _, f := range r.Findings {
			if f.Severity == sev {
				s := f.Rule + ": " + f.Message
				if n := countSeverity(r, sev); n > 1 {
					s += fmt.Sprintf(" (and %d more)", n-1)
				}
				return s
			}
		}
	}
	return "decision " + string(r.Decision)
}

// countSeverity counts the findings of one severity.
func countSeverity(r *qc.Report, sev qc.Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == sev {
			n++
		}
	}
	return n
}

// ruleUnreadable is the rule of the finding a SEG gets when it cannot be
// parsed at all (PS3.10 7.1, PS3.3 A.51).
const ruleUnreadable = "structure.readable"

// unreadableReport returns the rejected report of a SEG that
// qc.ParseSegmentation could not read.
func unreadableReport(e *qc.Engine, h *partHeader, err error) *qc.Report {
	reason := dicomweb.FailureDataSetDoesNotMatchSOPClass
	if errors.Is(err, qc.ErrNotDICOM) {
		reason = dicomweb.FailureCannotUnderstand
	}
	return &qc.Report{
		SOPInstanceUID:    h.sopInstance(),
		SOPClassUID:       h.sopClass(),
		StudyInstanceUID:  h.StudyInstanceUID,
		SeriesInstanceUID: h.SeriesInstanceUID,
		SourceSeriesUIDs:  []string{},
		Decision:          qc.DecisionRejected,
		Profile:           e.Profile().Info(),
		Segments:          []qc.SegmentReport{},
		Findings: []qc.Finding{{Rule: ruleUnreadable, Severity: qc.SeverityError,
			Message:   "the SEG cannot be read: " + err.Error(),
			Reference: "PS3.10 7.1, PS3.3 A.51", FailureReason: reason}},
		CheckedAt: time.Now().UTC(),
	}
}
