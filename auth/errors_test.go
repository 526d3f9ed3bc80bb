package auth

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"testing"
)

// TestErrorWWWAuthenticate checks the challenges of RFC 6750 section 3.
func TestErrorWWWAuthenticate(t *testing.T) {
	tests := []struct {
		name       string
		err        *Error
		want       string
		wantStatus int
	}{
		{
			name:       "no credentials: no error code",
			err:        newError(CodeNone, "a bearer token is required", ErrNoToken, nil),
			want:       `Bearer realm="qcgate"`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "invalid token",
			err:  newError(CodeInvalidToken, "the token has expired", ErrExpired, nil),
			want: `Bearer realm="qcgate", error="invalid_token", ` +
				`error_description="the token has expired"`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "invalid request",
			err:        newError(CodeInvalidRequest, "bad", ErrMalformedRequest, nil),
			want:       `Bearer realm="qcgate", error="invalid_request", error_description="bad"`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name:       "quotes, backslashes and controls dropped",
			err:        newError(CodeInvalidToken, "a \"b\"\\c\nd é", ErrInvalidToken, nil),
			want:       `Bearer realm="qcgate", error="invalid_token", error_description="a bcd "`,
			wantStatus: http.StatusUnauthorized,
		},
		{
			name: "insufficient scope",
			err: newError(CodeInsufficientScope, "the admin role is required",
				ErrForbidden, nil),
			want: `Bearer realm="qcgate", error="insufficient_scope", ` +
				`error_description="the admin role is required"`,
			wantStatus: http.StatusForbidden,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err.WWWAuthenticate(); got != tt.want {
				t.Errorf("WWWAuthenticate() = %q, want %q", got, tt.want)
			}
			if got := tt.err.StatusCode(); got != tt.wantStatus {
				t.Errorf("StatusCode() = %d, want %d", got, tt.wantStatus)
			}
		})
	}
}

// TestErrorIs checks that the precise sentinel, the cause and, for
// invalid_token, ErrInvalidToken all match.
func TestErrorIs(t *testing.T) {
	cause := errors.New("cause")
	err := error(newError(CodeInvalidToken, "the token has expired", ErrExpired, cause))
	for _, target := range []error{ErrExpired, ErrInvalidToken, cause} {
		if !errors.Is(err, target) {
			t.Errorf("errors.Is(%v, %v) = false, want true", err, target)
		}
	}
	if errors.Is(err, ErrNoToken) {
		t.Errorf("errors.Is(%v, ErrNoToken) = true, want false", err)
	}
	noToken := error(newError(CodeNone, "a bearer token is required", ErrNoToken, nil))
	if errors.Is(noToken, ErrInvalidToken) {
		t.Errorf("errors.Is(no token, ErrInvalidToken) = true, want false")
	}
	if got, want := err.Error(), "the token has expired: token expired: cause"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// TestThumbprint checks the RFC 7638 thumbprint against the example of its
// section 3.1.
func TestThumbprint(t *testing.T) {
	n := "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6" +
		"tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-" +
		"65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNL" +
		"yrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJz" +
		"KnqDKgw"
	nb, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil {
		t.Fatalf("decoding n: %v", err)
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: 65537}
	got, err := thumbprint(key)
	if err != nil {
		t.Fatalf("thumbprint() = %v", err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("thumbprint(RFC 7638 key) = %q, want %q", got, want)
	}
}
