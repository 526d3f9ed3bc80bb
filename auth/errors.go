package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors of the package. [Verifier.Verify] and [Principal.Require]
// return an [*Error] that wraps one of them; check them with [errors.Is].
// Every [*Error] whose code is [CodeInvalidToken] also matches
// [ErrInvalidToken], whatever its more precise sentinel.
var (
	// ErrNoToken means the request carries no Authorization header.
	ErrNoToken = errors.New("no bearer token")
	// ErrMalformedRequest means the request carries its credentials in a way
	// this package refuses: an Authorization header of another scheme, an
	// empty or repeated one, or a token in the access_token query parameter
	// (RFC 6750 section 2.3), which leaks into logs and browser history.
	ErrMalformedRequest = errors.New("malformed bearer credentials")
	// ErrTokenTooLarge means the token is longer than
	// [Config.MaxTokenBytes]; it was refused before parsing.
	ErrTokenTooLarge = errors.New("token too large")
	// ErrInvalidToken means the token is not one this gateway accepts: not a
	// JWT, a bad signature, an algorithm not allowed for the key, a wrong
	// issuer or audience, no subject, or any reason below.
	ErrInvalidToken = errors.New("invalid token")
	// ErrExpired means the token's exp lies in the past, beyond the leeway.
	ErrExpired = errors.New("token expired")
	// ErrNotYetValid means the token's nbf or iat lies in the future, beyond
	// the leeway.
	ErrNotYetValid = errors.New("token not yet valid")
	// ErrWrongIssuer means the token's iss is not [Config.Issuer].
	ErrWrongIssuer = errors.New("token issuer not accepted")
	// ErrWrongAudience means the token's aud does not hold [Config.Audience].
	ErrWrongAudience = errors.New("token audience not accepted")
	// ErrUnknownKey means the token names a key (kid) that is neither a
	// configured key nor in the JWKS, even after a refresh, or no key of
	// the token's algorithm is configured.
	ErrUnknownKey = errors.New("unknown signing key")
	// ErrForbidden means the principal lacks the role a route requires.
	ErrForbidden = errors.New("role required")
	// ErrUnknownRole means a role name is not one of the defined [Role]s.
	ErrUnknownRole = errors.New("unknown role")
	// ErrInvalidConfig means a [Config] is not usable; the error says which
	// setting and why.
	ErrInvalidConfig = errors.New("invalid auth configuration")
	// ErrNoKeys means a JWKS is configured but no key has been fetched yet.
	ErrNoKeys = errors.New("no signing keys loaded")
)

// Error codes of RFC 6750 section 3.1, carried by [Error.Code].
const (
	// CodeNone is the empty code: the request had no credentials at all,
	// and RFC 6750 section 3.1 asks for no error code then.
	CodeNone = ""
	// CodeInvalidRequest means the credentials were sent in a refused way.
	CodeInvalidRequest = "invalid_request"
	// CodeInvalidToken means the token is expired, malformed or not trusted.
	CodeInvalidToken = "invalid_token"
	// CodeInsufficientScope means the token is good but lacks a role.
	CodeInsufficientScope = "insufficient_scope"
)

// Realm is the realm named in WWW-Authenticate challenges.
const Realm = "qcgate"

// Error is an authentication or authorization failure. Code and
// Description are safe to show the client; Err holds the sentinel and the
// internal cause, which may name claims but never contains the token.
type Error struct {
	// Code is one of the Code constants.
	Code string
	// Description is a short English reason for the client, without
	// quotes or backslashes.
	Description string
	// Err is the cause; it wraps one of the package's sentinels.
	Err error
}

// Error returns the description followed by the internal cause.
func (e *Error) Error() string {
	if e.Err == nil {
		return e.Description
	}
	return e.Description + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is [ErrInvalidToken] and e carries the
// invalid_token code, so that every rejected token matches it.
func (e *Error) Is(target error) bool {
	return target == ErrInvalidToken && e.Code == CodeInvalidToken
}

// StatusCode is the HTTP status for e: 403 Forbidden for a missing role,
// 401 Unauthorized otherwise. RFC 6750 section 3.1 suggests 400 for
// invalid_request; qcgate answers 401 there too, so that every failure to
// authenticate looks the same to a client and carries a challenge.
func (e *Error) StatusCode() int {
	if e.Code == CodeInsufficientScope {
		return http.StatusForbidden
	}
	return http.StatusUnauthorized
}

// WWWAuthenticate is the value of the WWW-Authenticate header for e, as in
// RFC 6750 section 3: the Bearer scheme, the realm and, when the request
// carried credentials, the error code and its description.
func (e *Error) WWWAuthenticate() string {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + Realm + `"`)
	if e.Code == CodeNone {
		return b.String()
	}
	b.WriteString(`, error="` + e.Code + `"`)
	if d := quotable(e.Description); d != "" {
		b.WriteString(`, error_description="` + d + `"`)
	}
	return b.String()
}

// quotable keeps only the characters RFC 6750 section 3 allows in an
// error_description: printable ASCII except the double quote and the
// backslash.
func quotable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// newError returns an [*Error] whose cause wraps sentinel and, when not
// nil, the underlying cause.
func newError(code, description string, sentinel, cause error) *Error {
	err := sentinel
	if cause != nil {
		err = fmt.Errorf("%w: %w", sentinel, cause)
	}
	return &Error{Code: code, Description: description, Err: err}
}
