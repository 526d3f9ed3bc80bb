package gateway

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/store"
)

// partState is what the gateway did with one part of a STOW-RS request.
type partState int

const (
	// partFailed: refused by the gateway, never sent upstream.
	partFailed partState = iota + 1
	// partForwarded: a non-SEG part sent upstream as it arrived.
	partForwarded
	// partHeld: a SEG held in memory until the request ends.
	partHeld
	// partAccepted: a held SEG the check accepted, sent upstream.
	partAccepted
	// partRejected: a held SEG the check rejected, never sent upstream.
	partRejected
)

// stowPart is one part of a STOW-RS request and what became of it.
type stowPart struct {
	// index is the 1-based position of the part in the request.
	index int
	// header holds the UIDs read from the part, as far as they could be.
	header partHeader
	state  partState
	// failure and comment explain a part the gateway refused (partFailed,
	// partRejected): a Failure Reason and words for the Warning header.
	failure int
	comment string
	// data is a held SEG's bytes; nil for other parts and once sent.
	data []byte
	// reserved is the room of data under max_held_bytes, given back by
	// [stowRequest.release] once data is dropped.
	reserved int64
	// geometry is the header of a forwarded image, up to Pixel Data, kept
	// until the request's SEGs are checked; nil when not kept.
	geometry []byte
	// report is the QC report of a checked SEG.
	report *store.StoredReport
	// sent reports whether the part went upstream (whole or in part).
	sent bool
	// viaREST reports that the part, an accepted SEG, is stored with
	// Orthanc's REST API instead of the STOW-RS request.
	viaREST bool
	// stored is set from the upstream's answer: the archive holds the
	// instance.
	stored bool
	// upstreamFailure and upstreamComment are the upstream's refusal, and
	// upstreamWarning its Warning Reason for a stored instance.
	upstreamFailure int
	upstreamComment string
	upstreamWarning int
}

// stowRequest is the state of one STOW-RS request while it is served.
type stowRequest struct {
	s     *Server
	ctx   context.Context
	route dicomwebRoute
	// project is the project of a /projects/{name}/dicom-web request, which
	// chooses the QC profile; "" for /dicom-web.
	project string
	base    *url.URL
	id      string
	parts   []*stowPart
	// up is the one upstream STOW-RS request, started with the first part
	// that goes upstream; nil while none has.
	up *upstreamStow
	// bodySize is the request's Content-Length, -1 when not known: it
	// sizes the buffer of a small upstream request.
	bodySize int64
	// geometryBudget is how many more bytes of forwarded parts' headers
	// may be kept for the geometry of SEGs in the same request.
	geometryBudget int64
}

// maxGeometryBytes bounds the image headers one request keeps for the
// geometry of its SEGs, in bytes: a CT header is a few KiB, so this covers
// thousands of images. Parts past it are looked up upstream like sources
// sent earlier.
const maxGeometryBytes = 64 << 20

// Errors that end the reading of a STOW-RS body early.
var (
	// errSEGTooLarge: a SEG part is over max_seg_part_bytes.
	errSEGTooLarge = errors.New("SEG part over the size limit")
	// errUpstreamGone: the upstream request ended while parts were still
	// being sent.
	errUpstreamGone = errors.New("upstream request ended early")
)

// serveSTOW intercepts a STOW-RS request (PS3.18 10.5): non-SEG parts are
// forwarded as they stream in, SEGs are held, checked with the profile of
// project (or the one their protocol or the default selects) and forwarded
// only when accepted, and one answer merges the upstream's outcome with the
// gateway's.
func (s *Server) serveSTOW(c *gin.Context, route dicomwebRoute, project string) error {
	r := c.Request

	// Step 1: the request must be a multipart/related body of
	// application/dicom parts the gateway can read; anything else is
	// refused before a byte goes upstream.
	body, boundary, err := s.stowBody(c.Writer, r)
	if err != nil {
		return err
	}
	defer body.Close()
	base, err := s.gatewayBase(r)
	if err != nil {
		return err
	}

	// Close waits for requests in this stage, so a shutdown lets the
	// reports of an upload in flight be written.
	s.stowWG.Add(1)
	defer s.stowWG.Done()
	sr := &stowRequest{s: s, ctx: r.Context(), route: route, project: project, base: base,
		id: stateFrom(r.Context()).id, bodySize: r.ContentLength,
		geometryBudget: maxGeometryBytes}
	defer sr.releaseAll()

	// Step 2: read the parts. A body that breaks off, is malformed or is
	// over a limit aborts the upstream request and is answered by abort,
	// which says what the upstream holds anyway.
	probe := newBodyProbe(body, boundary)
	br := bodyReader(probe)
	err = sr.readParts(br, boundary)
	putBodyReader(br)
	if err != nil {
		return sr.abort(c, probe.explain(err, len(sr.parts)))
	}
	if len(sr.parts) == 0 {
		return httpError(http.StatusBadRequest,
			"empty multipart body: a STOW-RS request needs at least one part", nil)
	}

	// Step 3: each held SEG is checked and, if accepted, appended to the
	// upstream request.
	sr.checkHeld()

	// Step 4: close the upstream request, read its answer, store the
	// reports and answer the client.
	out := sr.finishUpstream()
	return sr.answer(c, out)
}

// stowBody checks the headers of a STOW-RS request and returns its body,
// decompressed and bounded, and the multipart boundary.
func (s *Server) stowBody(w http.ResponseWriter, r *http.Request) (io.ReadCloser,
	string, error) {
	mt, err := dicomweb.ParseSTOWMediaType(r.Header.Get("Content-Type"))
	switch {
	case errors.Is(err, dicomweb.ErrNoContentType):
		return nil, "", httpError(http.StatusUnsupportedMediaType, "no Content-Type: "+
			`STOW-RS needs multipart/related; type="application/dicom"`, err)
	case errors.Is(err, dicomweb.ErrNoBoundary):
		return nil, "", httpError(http.StatusBadRequest,
			"multipart/related Content-Type without a usable boundary parameter", err)
	case errors.Is(err, dicomweb.ErrNotMultipart):
		return nil, "", httpError(http.StatusUnsupportedMediaType, "Content-Type "+
			mt.Type+` is not multipart/related; type="application/dicom"`, err)
	case err != nil && mt.RelatedType == "":
		return nil, "", httpError(http.StatusUnsupportedMediaType, "multipart/related "+
			`without a type parameter: PS3.18 requires type="application/dicom"`, err)
	case err != nil:
		return nil, "", httpError(http.StatusUnsupportedMediaType, "multipart/related of "+
			mt.RelatedType+`: the gateway inspects only type="application/dicom"`, err)
	}

	// A compressed body is decompressed to be inspected; an encoding the
	// gateway cannot read is refused, never forwarded unchecked.
	body := r.Body
	if s.cfg.MaxRequestBytes > 0 {
		body = http.MaxBytesReader(w, body, int64(s.cfg.MaxRequestBytes))
	}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return body, mt.Boundary, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, "", httpError(http.StatusBadRequest,
				"Content-Encoding gzip but the body is not gzip", err)
		}
		// The limit holds for the decompressed bytes too: a few KiB of
		// gzip can inflate to gigabytes.
		var plain io.Reader = zr
		if s.cfg.MaxRequestBytes > 0 {
			plain = &limitReader{r: zr, left: int64(s.cfg.MaxRequestBytes),
				limit: int64(s.cfg.MaxRequestBytes)}
		}
		return readCloser{plain, body}, mt.Boundary, nil
	default:
		return nil, "", httpError(http.StatusUnsupportedMediaType,
			"Content-Encoding "+enc+" is not supported: send identity or gzip", nil)
	}
}

// readParts reads every part of the body: it forwards non-SEG DICOM parts,
// holds SEGs and records refused parts. It returns an error only for what
// ends the request: a broken or over-limit body, a SEG over the limit, the
// client gone, or the upstream request ended early.
func (sr *stowRequest) readParts(body io.Reader, boundary string) error {
	pr := dicomweb.NewPartReader(body, boundary, dicomweb.PartLimits{})
	for {
		part, err := pr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		p := &stowPart{index: len(sr.parts) + 1}
		sr.parts = append(sr.parts, p)
		if err := sr.readPart(p, part); err != nil {
			return err
		}
	}
}

// readPart classifies one part from its media type and DICOM header and
// forwards, holds or refuses it.
func (sr *stowRequest) readPart(p *stowPart, part *dicomweb.Part) error {
	// Only application/dicom parts are read (PS3.18 10.5.1.2.1). A nested
	// multipart or a JSON or octet-stream part cannot be inspected, so it
	// is refused: a SEG never passes unchecked.
	if part.Type != "" && part.Type != "application/dicom" {
		sr.refuse(p, dicomweb.FailureCannotUnderstand, "part "+itoa(p.index)+
			" has media type "+part.Type+", not application/dicom")
		return discard(part.Body)
	}

	// prefix is pooled: forward and hold copy what they keep of it.
	hb := headerBuffer()
	defer putHeaderBuffer(hb)
	h, prefix, err := readPartHeaderTo(part.Body, hb)
	var he *headerError
	switch {
	case errors.As(err, &he):
		p.header = he.header
		sr.refuse(p, dicomweb.FailureCannotUnderstand, "part "+itoa(p.index)+
			" is not a readable DICOM file: "+he.err.Error())
		return discard(part.Body)
	case err != nil:
		return err
	}
	p.header = *h

	// An instance of another study than the request URL's is refused per
	// part (PS3.18 10.5.3); it does not fail the others.
	if sr.route.Study != "" && h.StudyInstanceUID != sr.route.Study {
		sr.refuse(p, dicomweb.FailureStudyInstanceUIDMismatch, "part "+itoa(p.index)+
			" belongs to another study than the request URL's")
		return discard(part.Body)
	}
	if h.sopInstance() == "" {
		sr.refuse(p, dicomweb.FailureCannotUnderstand, "part "+itoa(p.index)+
			" has no SOP Instance UID")
		return discard(part.Body)
	}

	if h.isSegmentation(qc.IsSegmentationClass) {
		return sr.hold(p, prefix, part.Body)
	}
	return sr.forward(p, prefix, part.Body)
}

// refuse records a part the gateway does not send upstream.
func (sr *stowRequest) refuse(p *stowPart, reason int, comment string) {
	p.state, p.failure, p.comment = partFailed, reason, comment
	sr.s.metrics.parts.WithLabelValues("failed").Inc()
}

// forward sends a non-SEG part upstream as it streams in. The header of
// an image, up to Pixel Data, is kept so that a SEG of the same request
// can be checked against its geometry; it is parsed only if one is.
func (sr *stowRequest) forward(p *stowPart, prefix []byte, rest io.Reader) error {
	up, err := sr.upstream()
	if err != nil {
		return err
	}
	w, err := up.createPart()
	if err != nil {
		return err
	}
	p.state, p.sent = partForwarded, true
	sr.s.metrics.parts.WithLabelValues("forwarded").Inc()
	if n := p.header.PixelDataOffset; n > 0 && n <= sr.geometryBudget {
		p.geometry = bytes.Clone(prefix[:n])
		sr.geometryBudget -= n
	}

	if _, err := w.Write(prefix); err != nil {
		return fmt.Errorf("%w: %w", errUpstreamGone, err)
	}
	src := &readTracker{r: rest}
	_, err = copyPooled(w, src)
	switch {
	case src.err != nil:
		return src.err
	case err != nil:
		return fmt.Errorf("%w: %w", errUpstreamGone, err)
	}
	return nil
}

// readTracker remembers the error of its reader, to tell a client body
// that broke from an upstream that went away in one io.Copy.
type readTracker struct {
	r   io.Reader
	err error
}

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// discard reads the rest of a refused part, so the next one can be read.
func discard(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	return err
}

// checkHeld checks each held SEG against its sources and sends the
// accepted ones upstream. A SEG whose sources could not be fetched because
// the upstream failed is not checked: it fails with a processing failure.
func (sr *stowRequest) checkHeld() {
	// Parse every held SEG first: their references say which forwarded
	// images' geometry is needed. A SEG that cannot be parsed gets a
	// rejected report made here, so every rejection has a report.
	segs := map[*stowPart]*qc.Segmentation{}
	referenced := map[string]bool{}
	for _, p := range sr.parts {
		if p.state != partHeld {
			continue
		}
		seg, err := qc.ParseSegmentation(p.data)
		if err != nil {
			sr.decide(p, unreadableReport(sr.s.engine, &p.header, err))
			continue
		}
		segs[p] = seg
		for _, ref := range seg.ReferencedSeries {
			referenced[ref.SeriesInstanceUID] = true
		}
	}
	inRequest := sr.requestSources(referenced)

	for _, p := range sr.parts {
		seg, ok := segs[p]
		if !ok {
			continue
		}
		sources, err := sr.s.resolveSources(sr.ctx, seg, inRequest)
		if err != nil && isUpstreamFailure(err) {
			sr.refuse(p, dicomweb.FailureProcessing, fmt.Sprintf("SEG in part %d not "+
				"checked: its sources could not be fetched from the upstream (%s)", p.index,
				sr.s.redact(err.Error())))
			p.data = nil
			sr.release(p)
			continue
		}
		var others qc.PeerList
		for q, other := range segs {
			if q != p {
				others = append(others, qc.Peer{Segmentation: other,
					Annotator: sr.uploader()})
			}
		}
		sr.decide(p, sr.s.checkSEG(context.WithoutCancel(sr.ctx), seg, sources,
			sr.project, others, inRequest))
	}

	// Accepted SEGs follow the non-SEG parts in the same upstream request,
	// unless they go by Orthanc's REST API once that request is done.
	for _, p := range sr.parts {
		if p.state != partAccepted {
			continue
		}
		if sr.s.cfg.SEGStore == SEGStoreOrthancREST {
			p.viaREST = true
			continue
		}
		if err := sr.sendHeld(p); err != nil {
			// The upstream request is gone; finishUpstream reports it.
			break
		}
	}
}

// setUploader records the token's subject in rep; it stays empty when
// authentication is off.
func (sr *stowRequest) setUploader(rep *qc.Report) {
	rep.Uploader = sr.uploader()
}

// uploader is the token's subject, or "" when authentication is off.
func (sr *stowRequest) uploader() string {
	if p := auth.FromContext(sr.ctx); p != nil && !sr.s.verifier.Disabled() {
		return p.Subject
	}
	return ""
}

// requestSources reads the geometry of the forwarded images of the
// referenced series from their kept headers.
func (sr *stowRequest) requestSources(referenced map[string]bool) *qc.SourceSet {
	set := qc.NewSourceSet()
	for _, p := range sr.parts {
		if p.geometry == nil || !referenced[p.header.SeriesInstanceUID] {
			p.geometry = nil
			continue
		}
		// An image whose geometry cannot be read is left out; the engine
		// reports the references it cannot place.
		if inst, err := qc.ReadSourceInstance(bytes.NewReader(p.geometry)); err == nil {
			set.Add(inst)
		}
		p.geometry = nil
	}
	return set
}

// decide records the QC decision on a held SEG.
func (sr *stowRequest) decide(p *stowPart, rep *qc.Report) {
	sr.setUploader(rep)
	switch rep.Decision {
	case qc.DecisionRejected:
		p.state, p.failure = partRejected, rejectionReason(rep)
		p.comment = "SEG " + p.header.sopInstance() + " rejected: " + findingSummary(rep)
		p.data = nil
		sr.release(p)
		sr.s.metrics.parts.WithLabelValues("seg_rejected").Inc()
	default:
		p.state = partAccepted
		sr.s.metrics.parts.WithLabelValues("seg_accepted").Inc()
	}
	p.report = &store.StoredReport{Report: rep, RequestID: sr.id}
	sr.s.metrics.observeReport(rep)
	sr.s.log.LogAttrs(sr.ctx, slog.LevelDebug, "seg checked",
		slog.String("request_id", sr.id), sr.s.uidAttr(p.header.sopInstance()),
		slog.String("decision", string(rep.Decision)))
}

// sendHeld appends a held SEG to the upstream request.
func (sr *stowRequest) sendHeld(p *stowPart) error {
	up, err := sr.upstream()
	if err != nil {
		return err
	}
	w, err := up.createPart()
	if err != nil {
		return err
	}
	p.sent = true
	_, err = w.Write(p.data)
	p.data = nil
	sr.release(p)
	return err
}

// isUpstreamFailure reports whether err is the upstream failing, rather
// than it not having something.
func isUpstreamFailure(err error) bool {
	var se *dicomweb.StatusError
	return errors.Is(err, dicomweb.ErrUpstreamUnreachable) ||
		errors.Is(err, dicomweb.ErrUpstreamTimeout) ||
		(errors.As(err, &se) && se.Status >= 500) || errors.Is(err, context.DeadlineExceeded)
}

// itoa formats a part index.
func itoa(i int) string { return fmt.Sprint(i) }
