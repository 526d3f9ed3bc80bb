package gateway

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"
)

// Orthanc user metadata names the gateway writes. Orthanc accepts only
// names declared in its configuration, for example
// "UserMetadata": {"QCDecision": 1024, "QCReport": 1025}.
const (
	metadataDecision = "QCDecision"
	metadataReport   = "QCReport"
)

// tagTimeout bounds the tagging of one SEG.
const tagTimeout = 30 * time.Second

// metadataSetter writes Orthanc user metadata; [*dicomweb.Client] is one.
type metadataSetter interface {
	OrthancSetMetadata(ctx context.Context, sopInstanceUID, name, value string) error
}

// tagger writes the QC outcome of stored SEGs into Orthanc as user
// metadata, after the STOW-RS answer, so the client does not wait for it.
// A failure loses nothing: the instance is stored and the report kept; it
// is logged at Warn and shown by /readyz.
type tagger struct {
	client  metadataSetter
	log     *slog.Logger
	metrics *metrics
	enabled bool
	// redact removes UIDs from log text unless they may be logged, and
	// uid makes the attribute of a SOP Instance UID (empty when not).
	redact func(string) string
	uid    func(string) slog.Attr
	wg     sync.WaitGroup

	mu        sync.Mutex
	lastErr   string
	lastErrAt time.Time
}

// newTagger returns a tagger for s; a disabled one does nothing.
func newTagger(client metadataSetter, s *Server, enabled bool) *tagger {
	return &tagger{client: client, log: s.log, metrics: s.metrics, enabled: enabled,
		redact: s.redact, uid: s.uidAttr}
}

// tagJob is one SEG to tag.
type tagJob struct {
	sopInstanceUID string
	decision       string
	reportID       int64
	requestID      string
}

// tag starts tagging jobs in the background.
func (t *tagger) tag(jobs []tagJob) {
	if !t.enabled || len(jobs) == 0 {
		return
	}
	t.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), tagTimeout)
		defer cancel()
		for _, j := range jobs {
			err := t.client.OrthancSetMetadata(ctx, j.sopInstanceUID, metadataDecision,
				j.decision)
			if err == nil {
				err = t.client.OrthancSetMetadata(ctx, j.sopInstanceUID, metadataReport,
					strconv.FormatInt(j.reportID, 10))
			}
			if err != nil {
				t.metrics.tagging.WithLabelValues("error").Inc()
				msg := t.redact(err.Error())
				t.fail(msg)
				t.log.Warn("tagging in orthanc failed", "request_id", j.requestID,
					t.uid(j.sopInstanceUID), "report_id", j.reportID, "err", msg)
				continue
			}
			t.metrics.tagging.WithLabelValues("ok").Inc()
		}
	})
}

// fail records the last failure for /readyz.
func (t *tagger) fail(msg string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.lastErr = msg
	t.lastErrAt = time.Now()
}

// lastFailure returns the last failure and its time, or "" and zero.
func (t *tagger) lastFailure() (string, time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.lastErr, t.lastErrAt
}

// wait waits for the tagging in progress.
func (t *tagger) wait() { t.wg.Wait() }
