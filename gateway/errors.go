package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc/store"
)

// Sentinel errors of the package; check them with [errors.Is].
var (
	// ErrConfig means a configuration could not be loaded or is invalid;
	// the error lists every problem.
	ErrConfig = errors.New("invalid configuration")
	// ErrUnknownSetting means a setting name matches no [Config] field.
	ErrUnknownSetting = errors.New("unknown setting")
	// ErrNotDICOMweb means a request path is not one the gateway serves.
	ErrNotDICOMweb = errors.New("not a DICOMweb resource")
	// ErrClientClosed means the client went away before the answer.
	ErrClientClosed = errors.New("client closed request")
)

// StatusClientClosedRequest is the status recorded, never sent, when the
// client cancelled its request (nginx's 499).
const StatusClientClosedRequest = 499

// Error is an error with the HTTP status the client gets, a message that
// is safe to show the client, and the internal cause, which is only logged.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message is shown to the client. It never holds internal details
	// such as upstream answers, file paths or stack traces.
	Message string
	// Cause is the internal error, for logs; it may be nil.
	Cause error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Cause == nil {
		return fmt.Sprintf("%d %s", e.Status, e.Message)
	}
	return fmt.Sprintf("%d %s: %v", e.Status, e.Message, e.Cause)
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Cause }

// httpError returns an [*Error]; cause may be nil.
func httpError(status int, message string, cause error) *Error {
	return &Error{Status: status, Message: message, Cause: cause}
}

// asHTTPError maps any error to an [*Error]: one it already is, or a
// status chosen from the cause. ctx is the request's context, which tells
// a client that went away from an upstream that failed.
func asHTTPError(ctx context.Context, err error) *Error {
	if e, ok := errors.AsType[*Error](err); ok {
		return e
	}
	if e := authHTTPError(err); e != nil {
		return e
	}
	switch {
	case errors.Is(err, errBodyIdle):
		return httpError(http.StatusRequestTimeout, "request body stalled", err)
	case errors.Is(err, ErrClientClosed),
		errors.Is(err, context.Canceled) && ctx.Err() != nil:
		return httpError(StatusClientClosedRequest, "client closed request", err)
	case errors.Is(err, dicomweb.ErrUpstreamTimeout),
		errors.Is(err, context.DeadlineExceeded):
		return httpError(http.StatusGatewayTimeout, "upstream did not answer in time", err)
	case errors.Is(err, dicomweb.ErrUpstreamUnreachable), errors.Is(err, errUpstreamGone):
		return httpError(http.StatusBadGateway, "upstream unreachable", err)
	case errors.Is(err, ErrNotDICOMweb), errors.Is(err, store.ErrNotFound):
		return httpError(http.StatusNotFound, "not found", err)
	case errors.Is(err, store.ErrInvalidFilter):
		return httpError(http.StatusBadRequest, "invalid query", err)
	}
	return httpError(http.StatusInternalServerError, "internal error", err)
}
