package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/auth"
)

// requestState is what the middleware and the handlers of one request
// share. It travels in the request's context, so that handlers outside gin
// (the reverse proxy's hooks) reach it too.
type requestState struct {
	// id is the request ID, sent back in X-Request-ID.
	id string
	// route is the route template, for logs and metrics; "unmatched" for
	// paths the gateway does not serve.
	route string
	// err is the error the request ended with, if any.
	err *Error
	// attrs are extra attributes of the access record, such as the
	// outcome of a STOW-RS request.
	attrs []slog.Attr
	// subject is the hash of the token's subject ([auth.SubjectHash]),
	// never the subject itself; "" when the request had no valid token or
	// authentication is off.
	subject string
}

// stateKey is the context key of a *requestState.
type stateKey struct{}

// stateFrom returns the state of the request whose context ctx is, or a
// throwaway one outside the middleware (in unit tests of a handler).
func stateFrom(ctx context.Context) *requestState {
	if st, ok := ctx.Value(stateKey{}).(*requestState); ok {
		return st
	}
	return &requestState{route: "unmatched"}
}

// addAttrs adds attributes to the access record of the request of ctx.
func addAttrs(ctx context.Context, attrs ...slog.Attr) {
	st := stateFrom(ctx)
	st.attrs = append(st.attrs, attrs...)
}

// requestIDPattern is what a client's X-Request-ID must look like to be
// kept; anything else is replaced so that logs hold no injected text.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

// newRequestID returns 16 random bytes in hex.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// accessLog is the outermost middleware: it sets the request ID, records
// one access record per request at Info (never a query string, header or
// token; the path only when UIDs may be logged), counts the request in the
// metrics, and recovers from panics.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	r := c.Request
	st := &requestState{id: r.Header.Get("X-Request-ID"), route: "unmatched"}
	if !requestIDPattern.MatchString(st.id) {
		st.id = newRequestID()
	}
	if tmpl := c.FullPath(); tmpl != "" {
		st.route = tmpl
	}
	c.Request = r.WithContext(context.WithValue(r.Context(), stateKey{}, st))
	c.Header("X-Request-ID", st.id)

	defer func() {
		rec := recover()
		if rec != nil && rec != http.ErrAbortHandler {
			// A panic is a bug of the gateway: log it with its stack and
			// answer 500 when nothing was sent yet.
			s.log.Error("panic serving request", "request_id", st.id, "route", st.route,
				"panic", fmt.Sprint(rec), "stack", string(debug.Stack()))
			st.err = httpError(http.StatusInternalServerError, "internal error",
				fmt.Errorf("panic: %v", rec))
			if !c.Writer.Written() {
				s.writeJSONError(c.Writer, st.id, st.err)
			}
		}
		s.logAccess(c, st, time.Since(start))
		if rec == http.ErrAbortHandler {
			// The reverse proxy aborts a response whose upstream body broke:
			// let net/http close the connection.
			panic(rec)
		}
	}()
	c.Next()
}

// logAccess writes the access record and the request metrics.
func (s *Server) logAccess(c *gin.Context, st *requestState, d time.Duration) {
	status := c.Writer.Status()
	if st.err != nil && (!c.Writer.Written() || st.err.Status == StatusClientClosedRequest) {
		status = st.err.Status
	}
	size := max(c.Writer.Size(), 0)
	s.metrics.observeRequest(st.route, c.Request.Method, status, d)

	attrs := []slog.Attr{
		slog.String("method", c.Request.Method),
		slog.String("route", st.route),
		slog.Int("status", status),
		slog.Int("bytes", size),
		slog.Duration("duration", d),
		slog.String("request_id", st.id),
	}
	if s.cfg.LogUIDs {
		attrs = append(attrs, slog.String("path", c.Request.URL.EscapedPath()))
	}
	if st.subject != "" {
		attrs = append(attrs, slog.String("subject_hash", st.subject))
	}
	attrs = append(attrs, st.attrs...)
	if st.err != nil && st.err.Cause != nil {
		attrs = append(attrs, slog.String("err", s.redact(st.err.Cause.Error())))
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)

	// Failures of the gateway itself, as opposed to the client's, also get
	// a record at a level that alerts.
	switch {
	case st.err == nil || st.err.Status < 500:
	case st.err.Status == http.StatusBadGateway || st.err.Status == http.StatusGatewayTimeout:
		s.log.Warn("upstream failed", "request_id", st.id, "route", st.route,
			"status", st.err.Status, "err", s.redact(fmt.Sprint(st.err.Cause)))
	default:
		s.log.Error("request failed", "request_id", st.id, "route", st.route,
			"status", st.err.Status, "err", s.redact(fmt.Sprint(st.err.Cause)))
	}
}

// uidInText matches something that looks like a DICOM UID in free text.
var uidInText = regexp.MustCompile(`\b[0-9]+(\.[0-9]+){3,}\b`)

// redact removes UIDs from a text bound for the log unless the
// configuration allows them.
func (s *Server) redact(text string) string {
	if s.cfg.LogUIDs {
		return text
	}
	return uidInText.ReplaceAllString(text, "[uid]")
}

// uidAttr returns the attribute "sop_instance_uid" holding uid when UIDs
// may be logged, else an empty attribute, which slog leaves out.
func (s *Server) uidAttr(uid string) slog.Attr {
	if !s.cfg.LogUIDs {
		return slog.Attr{}
	}
	return slog.String("sop_instance_uid", uid)
}

// handlerFunc is a handler that returns its error instead of writing it.
type handlerFunc func(c *gin.Context) error

// wrap turns a handlerFunc into a gin handler: the one place where an
// error becomes a status, a body and a field of the access record.
func (s *Server) wrap(h handlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.fail(c.Writer, c.Request, err)
		}
	}
}

// fail records err as the outcome of the request and answers it, unless
// the answer has started (then the connection is what tells the client)
// or the client is gone.
func (s *Server) fail(w gin.ResponseWriter, r *http.Request, err error) {
	st := stateFrom(r.Context())
	he := asHTTPError(r.Context(), err)
	st.err = he
	if w.Written() || he.Status == StatusClientClosedRequest {
		return
	}
	if me, ok := errors.AsType[methodError](he.Cause); ok {
		w.Header().Set("Allow", me.allow)
	}
	// RFC 6750 3.1: a 401 carries the Bearer challenge; a 403 for a
	// missing role carries it too, with insufficient_scope.
	if ae, ok := errors.AsType[*auth.Error](he.Cause); ok {
		w.Header().Set("WWW-Authenticate", ae.WWWAuthenticate())
	}
	if re, ok := errors.AsType[rateError](he.Cause); ok {
		w.Header().Set("Retry-After", strconv.Itoa(re.retryAfter))
	}
	s.writeJSONError(w, st.id, he)
}

// errorBody is the JSON body of an error answer.
type errorBody struct {
	Status    int    `json:"status"`
	Error     string `json:"error"`
	RequestID string `json:"request_id"`
}

// writeJSONError writes the client-safe form of he.
func (s *Server) writeJSONError(w http.ResponseWriter, id string, he *Error) {
	writeJSON(w, he.Status, errorBody{Status: he.Status, Error: he.Message, RequestID: id})
}
