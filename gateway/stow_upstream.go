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

// upstreamStow is the one streaming STOW-RS request to the upstream of a
// client's request. Parts are written into a pipe whose other end is the
// body of a request sent by a goroutine.
type upstreamStow struct {
	pw *io.PipeWriter
	// bw gathers small writes (part headers, short reads of the client's
	// body) into large ones: each write into the pipe becomes one chunk,
	// and one system call, of the upstream request.
	bw     *bufio.Writer
	sw     *dicomweb.StowWriter
	cancel context.CancelFunc
	// watchdog aborts the request when one write blocks longer than the
	// upstream timeout: an upstream that stops reading must not hold the
	// client forever.
	watchdog *time.Timer
	timeout  time.Duration
	done     chan struct{}

	// Set by the goroutine before done is closed.
	resp   *dicomweb.StoreResponse
	status int
	err    error

	mu       sync.Mutex
	abortErr error
}

// upstreamBuffer is the size of the writes into the upstream request body,
// in bytes.
const upstreamBuffer = 64 << 10

// errWriteStalled is the cause of an upstream request aborted because a
// write blocked longer than the upstream timeout.
var errWriteStalled = fmt.Errorf("%w: upstream stopped reading the request body",
	dicomweb.ErrUpstreamTimeout)

// upstream returns the upstream request, starting it on first use. It
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
	pr, pw := io.Pipe()
	bw := bufio.NewWriterSize(pw, upstreamBuffer)
	up := &upstreamStow{pw: pw, bw: bw, sw: dicomweb.NewStowWriter(bw), cancel: cancel,
		timeout: sr.s.cfg.UpstreamTimeout, done: make(chan struct{})}
	up.watchdog = time.AfterFunc(time.Hour, func() { up.abort(errWriteStalled) })
	up.watchdog.Stop()
	sr.up = up

	go func() {
		defer close(up.done)
		defer cancel()
		resp, status, err := sr.s.client.Store(ctx, sr.route.Study, up.sw.ContentType(), pr)
		up.resp, up.status, up.err = resp, status, err
		if cause := up.aborted(); cause != nil {
			up.err = cause
		}
		// Writers blocked on a request that ended must return.
		pr.CloseWithError(errUpstreamGone)
	}()
	return up, nil
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

// abort ends the upstream request with cause: the body is cut, so an
// upstream that reads whole requests before storing, as Orthanc does,
// stores nothing of it.
func (up *upstreamStow) abort(cause error) {
	up.mu.Lock()
	if up.abortErr == nil {
		up.abortErr = cause
	}
	up.mu.Unlock()
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
	if err == nil {
		err = up.bw.Flush()
	}
	if err == nil {
		err = up.pw.Close()
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
