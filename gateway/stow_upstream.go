package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/qcgate/qcgate/dicomweb"
)

// upstreamStow is the one STOW-RS request to the upstream of a client's
// request. Its body is gathered in memory up to startThreshold: a small
// request goes out whole, with a Content-Length, when the client's body
// ends. A larger one starts streaming there: the rest is written into a
// pipe whose other end is the body of a request sent by a goroutine.
type upstreamStow struct {
	sr *stowRequest
	sw *dicomweb.StowWriter
	// buf holds the body until the request starts; it is not written to
	// after that.
	buf     bytes.Buffer
	started bool

	pw *io.PipeWriter
	// bw gathers small writes (part headers, short reads of the client's
	// body) into large ones: each write into the pipe becomes one chunk,
	// and one system call, of the upstream request.
	bw     *bufio.Writer
	ctx    context.Context
	cancel context.CancelFunc
	// watchdog aborts the request when one write blocks longer than the
	// upstream timeout: an upstream that stops reading must not hold the
	// client forever.
	watchdog *time.Timer
	timeout  time.Duration
	done     chan struct{}
	doneOnce sync.Once

	// Set before done is closed.
	resp   *dicomweb.StoreResponse
	status int
	err    error

	mu       sync.Mutex
	abortErr error
}

// Sizes of the upstream request body, in bytes.
const (
	// startThreshold is how much of the body is gathered before the
	// request starts streaming; smaller bodies are sent whole.
	startThreshold = 1 << 20
	// upstreamBuffer is the size of the writes into a streaming body.
	upstreamBuffer = 64 << 10
	// maxPresize bounds the room made at once for the gathered body from
	// the client's Content-Length, which the client may overstate.
	maxPresize = 256 << 10
	// presizeSlack is room for the upstream body's multipart framing,
	// which may be longer than the client's.
	presizeSlack = 1 << 10
)

// errWriteStalled is the cause of an upstream request aborted because a
// write blocked longer than the upstream timeout.
var errWriteStalled = fmt.Errorf("%w: upstream stopped reading the request body",
	dicomweb.ErrUpstreamTimeout)

// upstream returns the upstream request, creating it on first use. It
// fails once the request has ended early.
func (sr *stowRequest) upstream() (*upstreamStow, error) {
	if sr.up != nil {
		select {
		case <-sr.up.done:
			return nil, errUpstreamGone
		default:
			return sr.up, nil
		}
	}

	// The upstream request does not end when the client goes away after
	// sending everything: what it stores must match the reports. abort
	// cancels it when the client's body breaks.
	ctx, cancel := context.WithCancel(context.WithoutCancel(sr.ctx))
	up := &upstreamStow{sr: sr, ctx: ctx, cancel: cancel, timeout: sr.s.cfg.UpstreamTimeout,
		done: make(chan struct{})}
	// Room for the whole body at once: a small request gathers it without
	// growing the buffer step by step.
	if n := sr.bodySize; n > 0 {
		up.buf.Grow(int(min(n+presizeSlack, maxPresize)))
	}
	up.sw = dicomweb.NewStowWriter(up)
	up.watchdog = time.AfterFunc(time.Hour, func() { up.abort(errWriteStalled) })
	up.watchdog.Stop()
	sr.up = up
	return up, nil
}

// Write implements io.Writer for the STOW-RS writer: into the buffer until
// it passes startThreshold, then into the streaming request.
func (up *upstreamStow) Write(p []byte) (int, error) {
	if up.started {
		return up.bw.Write(p)
	}
	if err := up.aborted(); err != nil {
		return 0, err
	}
	up.buf.Write(p)
	if up.buf.Len() >= startThreshold {
		up.start()
	}
	return len(p), nil
}

// start sends the request with the gathered body followed by the pipe.
func (up *upstreamStow) start() {
	pr, pw := io.Pipe()
	up.mu.Lock()
	up.pw, up.bw, up.started = pw, bufio.NewWriterSize(pw, upstreamBuffer), true
	up.mu.Unlock()
	body := io.MultiReader(bytes.NewReader(up.buf.Bytes()), pr)
	go func() {
		up.send(body)
		// Writers blocked on a request that ended must return.
		pr.CloseWithError(errUpstreamGone)
	}()
}

// send sends the request and records its outcome.
func (up *upstreamStow) send(body io.Reader) {
	defer up.finish()
	up.resp, up.status, up.err = up.sr.s.client.Store(up.ctx, up.sr.route.Study,
		up.sw.ContentType(), body)
	if cause := up.aborted(); cause != nil {
		up.err = cause
	}
}

// finish marks the request done.
func (up *upstreamStow) finish() {
	up.doneOnce.Do(func() {
		up.cancel()
		close(up.done)
	})
}

// createPart starts a part of the upstream body and returns its writer,
// guarded by the watchdog.
func (up *upstreamStow) createPart() (io.Writer, error) {
	up.arm()
	w, err := up.sw.CreatePart()
	up.disarm()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errUpstreamGone, err)
	}
	return watchedWriter{w: w, up: up}, nil
}

func (up *upstreamStow) arm()    { up.watchdog.Reset(up.timeout) }
func (up *upstreamStow) disarm() { up.watchdog.Stop() }

// watchedWriter arms the watchdog around each write.
type watchedWriter struct {
	w  io.Writer
	up *upstreamStow
}

func (ww watchedWriter) Write(p []byte) (int, error) {
	ww.up.arm()
	defer ww.up.disarm()
	return ww.w.Write(p)
}

// abort ends the upstream request with cause. A request that has not
// started is never sent; one that streams has its body cut, so an
// upstream that reads whole requests before storing, as Orthanc does,
// stores nothing of it.
func (up *upstreamStow) abort(cause error) {
	up.mu.Lock()
	if up.abortErr == nil {
		up.abortErr = cause
	}
	started := up.started
	up.mu.Unlock()
	if !started {
		up.err = cause
		up.finish()
		return
	}
	up.pw.CloseWithError(cause)
	up.cancel()
}

// aborted returns the cause of abort, or nil.
func (up *upstreamStow) aborted() error {
	up.mu.Lock()
	defer up.mu.Unlock()
	return up.abortErr
}

// upstreamOutcome is what the upstream request gave.
type upstreamOutcome struct {
	// sent reports whether there was an upstream request.
	sent bool
	// err is a transport failure: no usable answer.
	err error
	// status and resp are the upstream's answer.
	status int
	resp   *dicomweb.StoreResponse
}

// finishUpstream closes the upstream body and waits for the answer.
func (sr *stowRequest) finishUpstream() upstreamOutcome {
	up := sr.up
	if up == nil {
		return upstreamOutcome{}
	}
	up.arm()
	err := up.sw.Close()
	switch {
	case err != nil:
	case !up.started:
		// The whole body is here: one request with a Content-Length.
		up.disarm()
		up.send(bytes.NewReader(up.buf.Bytes()))
	default:
		if err = up.bw.Flush(); err == nil {
			err = up.pw.Close()
		}
	}
	up.disarm()
	<-up.done
	out := up.outcome()
	if out.err == nil && out.status == 0 && err != nil {
		out.err = fmt.Errorf("%w: %w", errUpstreamGone, err)
	}
	return out
}

// outcome returns what the finished upstream request gave. An HTTP status
// error is an answer without a readable body, not a transport failure.
func (up *upstreamStow) outcome() upstreamOutcome {
	out := upstreamOutcome{sent: true, err: up.err, status: up.status, resp: up.resp}
	var se *dicomweb.StatusError
	if errors.As(out.err, &se) {
		out.err, out.status, out.resp = nil, se.Status, nil
	}
	if out.resp == nil {
		out.resp = &dicomweb.StoreResponse{}
	}
	return out
}

// maxVerify bounds how many instances the gateway looks up to learn what
// an upstream stored when its answer does not say.
const maxVerify = 256

// upstreamHas reports whether the upstream holds the instance, by a
// QIDO-RS search for its SOP Instance UID (PS3.18 10.6).
func (s *Server) upstreamHas(ctx context.Context, study, sop string) (bool, error) {
	resource := "instances"
	if study != "" && isUID(study) {
		resource = "studies/" + study + "/instances"
	}
	q := url.Values{"SOPInstanceUID": {sop}, "includefield": {"00080018"}}
	found, err := s.client.Search(ctx, resource, q.Encode())
	if errors.Is(err, dicomweb.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("looking up an instance: %w", err)
	}
	return len(found) > 0, nil
}

// verify asks the upstream about each sent part its answer did not list,
// at most maxVerify of them within the upstream timeout, and marks the
// ones it holds as stored. Parts it could not ask about stay not stored
// and get a comment saying the state is unknown.
func (sr *stowRequest) verify(parts []*stowPart) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(sr.ctx),
		sr.s.cfg.UpstreamTimeout)
	defer cancel()
	for i, p := range parts {
		if i >= maxVerify || ctx.Err() != nil {
			p.upstreamComment = "not known whether the upstream stored it"
			continue
		}
		has, err := sr.s.upstreamHas(ctx, p.header.StudyInstanceUID, p.header.sopInstance())
		switch {
		case err != nil:
			p.upstreamComment = "not known whether the upstream stored it"
		case has:
			p.stored = true
		}
	}
}

// orthancInstance is the part of Orthanc's answer to POST /instances the
// gateway reads.
type orthancInstance struct {
	ID string `json:"ID"`
	// Status is Success, AlreadyStored or FilteredOut (a Lua filter
	// refused the instance: it is not stored).
	Status string `json:"Status"`
}

// storeViaREST stores the accepted SEGs marked viaREST with Orthanc's REST
// API, one request each, and marks each stored or failed.
func (sr *stowRequest) storeViaREST() {
	ctx := context.WithoutCancel(sr.ctx)
	for _, p := range sr.parts {
		if !p.viaREST || p.data == nil {
			continue
		}
		p.sent = true
		status, err := sr.s.orthancStore(ctx, p.data)
		p.data = nil
		sr.release(p)
		switch {
		case err != nil:
			p.upstreamFailure = dicomweb.FailureProcessing
			p.upstreamComment = "storing through Orthanc's REST API failed: " +
				sr.s.redact(err.Error())
		case status == "Success" || status == "AlreadyStored":
			p.stored = true
		default:
			// FilteredOut: Orthanc's filter does not know the gateway's user.
			p.upstreamFailure = dicomweb.FailureProcessing
			p.upstreamComment = "Orthanc did not store it (status " + status + ")"
			sr.s.log.Error("orthanc refused a SEG stored through its REST API",
				"request_id", sr.id, "status", status)
		}
	}
}

// orthancStore sends a DICOM file to Orthanc's POST {root}/instances and
// returns the Status of its answer.
func (s *Server) orthancStore(ctx context.Context, data []byte) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.UpstreamTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		s.orthancRoot()+"/instances", bytes.NewReader(data))
	if err != nil {
		return "", fmt.Errorf("storing in orthanc: %w", err)
	}
	req.Header.Set("Content-Type", "application/dicom")
	req.Header.Set("Accept", "application/json")
	res, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("storing in orthanc: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("storing in orthanc: status %d", res.StatusCode)
	}
	var ans orthancInstance
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&ans); err != nil {
		return "", fmt.Errorf("storing in orthanc: reading the answer: %w", err)
	}
	return ans.Status, nil
}
