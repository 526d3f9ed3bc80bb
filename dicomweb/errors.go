package dicomweb

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Errors returned by its functions wrap one
// of these where the cause fits one; check them with [errors.Is].
var (
	// ErrNoContentType means a request or response has no Content-Type.
	ErrNoContentType = errors.New("no content type")
	// ErrNotMultipart means the media type is not multipart/related.
	ErrNotMultipart = errors.New("media type is not multipart/related")
	// ErrNoBoundary means a multipart media type has no boundary parameter.
	ErrNoBoundary = errors.New("multipart media type has no boundary")
	// ErrUnsupportedMediaType means a media type is syntactically valid but
	// not one this package can read, for example a multipart/related body
	// whose type parameter names something other than application/dicom.
	ErrUnsupportedMediaType = errors.New("unsupported media type")
	// ErrTruncated means a multipart body ended before its closing
	// boundary, either between parts or in the middle of one.
	ErrTruncated = errors.New("multipart body truncated")
	// ErrTooManyParts means a multipart body has more parts than
	// [PartLimits.MaxParts].
	ErrTooManyParts = errors.New("too many multipart parts")
	// ErrHeaderTooLarge means the header block of a part is larger than
	// [PartLimits.MaxHeaderBytes].
	ErrHeaderTooLarge = errors.New("multipart part header too large")
	// ErrMalformedMultipart means a multipart body breaks RFC 2046 syntax
	// in a way other than truncation, for example a malformed part header.
	ErrMalformedMultipart = errors.New("malformed multipart body")
	// ErrMalformedJSON means a body is not DICOM JSON (PS3.18 F.2).
	ErrMalformedJSON = errors.New("malformed DICOM JSON")
	// ErrMalformedXML means a body is not the Native DICOM Model (PS3.19 A.1).
	ErrMalformedXML = errors.New("malformed DICOM XML")
	// ErrInvalidUID means a string given as a UID does not have the form of
	// one (PS3.5 9.1).
	ErrInvalidUID = errors.New("invalid UID")
	// ErrNotFound means the upstream does not have a resource: it answered
	// 404, or a search found nothing.
	ErrNotFound = errors.New("not found upstream")
	// ErrUpstreamUnreachable means no connection to the upstream could be
	// made or it broke before an answer came: a gateway answers 502.
	ErrUpstreamUnreachable = errors.New("upstream unreachable")
	// ErrUpstreamTimeout means the upstream did not answer in time: a
	// gateway answers 504.
	ErrUpstreamTimeout = errors.New("upstream timeout")
)

// maxStatusBody is how much of an unexpected answer's body a [StatusError]
// keeps, in bytes.
const maxStatusBody = 1024

// StatusError is an upstream answer with an unexpected HTTP status.
type StatusError struct {
	// Status is the HTTP status code the upstream gave.
	Status int
	// Body is the start of the answer's body (at most 1 KiB), for
	// diagnostics. It may hold upstream internals: don't show it to clients.
	Body string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Body == "" {
		return fmt.Sprintf("upstream status %d", e.Status)
	}
	return fmt.Sprintf("upstream status %d: %s", e.Status, e.Body)
}

// Is makes a 404 StatusError match [ErrNotFound].
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && e.Status == 404
}
