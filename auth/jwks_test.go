package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// jwksServer is a provider's JWK Set endpoint whose keys a test can change.
type jwksServer struct {
	*httptest.Server
	fetches atomic.Int32

	mu     sync.Mutex
	keys   []map[string]string
	status int
}

// newJWKSServer starts a JWK Set endpoint serving keys.
func newJWKSServer(t *testing.T, keys ...map[string]string) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys, status: http.StatusOK}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fetches.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.status != http.StatusOK {
			w.WriteHeader(s.status)
			return
		}
		body, err := json.Marshal(map[string]any{"keys": s.keys})
		if err != nil {
			t.Errorf("encoding JWK Set: %v", err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		// A client that stops reading a large answer makes Write fail.
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s
}

// set replaces the served keys and status.
func (s *jwksServer) set(status int, keys ...map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status = status
	s.keys = keys
}

// rsaJWK writes an RSA public key as a JWK (RFC 7518 section 6.3).
func rsaJWK(kid string, k *rsa.PublicKey) map[string]string {
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]string{
		"kty": "RSA", "kid": kid, "use": "sig", "alg": "RS256",
		"n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes()),
	}
}

// ecJWK writes a P-256 public key as a JWK (RFC 7518 section 6.2).
func ecJWK(t *testing.T, kid string, k *ecdsa.PublicKey) map[string]string {
	t.Helper()
	point, err := k.Bytes()
	if err != nil {
		t.Fatalf("encoding EC key: %v", err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]string{
		"kty": "EC", "kid": kid, "use": "sig", "crv": "P-256",
		"x": b64(point[1:33]), "y": b64(point[33:]),
	}
}

// jwksConfig is a configuration for a JWKS endpoint at url.
func jwksConfig(url string, minRefresh time.Duration) Config {
	return Config{
		JWKSURL:                url,
		Issuer:                 testIssuer,
		Audience:               testAudience,
		JWKSMinRefreshInterval: minRefresh,
	}
}

// TestJWKSRotation follows a provider rotating its key: a token of the new
// kid makes the verifier fetch the set again, and the retired kid is then
// refused.
func TestJWKSRotation(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, rsaJWK("old", &k.rsa.PublicKey))
	v := newVerifier(t, jwksConfig(srv.URL, time.Millisecond))
	ctx := context.Background()
	claims := claimsAt(time.Now(), "carol", "reviewer")
	oldTok := sign(t, jwt.SigningMethodRS256, k.rsa, "old", claims)
	newTok := sign(t, jwt.SigningMethodRS256, k.rsaOther, "new", claims)

	if n := srv.fetches.Load(); n != 1 {
		t.Fatalf("fetches after NewVerifier = %d, want 1", n)
	}
	if err := v.Ready(ctx); err != nil {
		t.Fatalf("Ready() = %v, want nil", err)
	}
	got, err := v.VerifyToken(ctx, oldTok)
	if err != nil {
		t.Fatalf("VerifyToken(old kid) = %v", err)
	}
	want := &Principal{Subject: "carol", Roles: []Role{RoleReviewer}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("VerifyToken(old kid) mismatch (-want +got):\n%s", diff)
	}
	if _, err := v.VerifyToken(ctx, newTok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("VerifyToken(new kid before rotation) = %v, want %v", err, ErrUnknownKey)
	}

	srv.set(http.StatusOK, rsaJWK("new", &k.rsaOther.PublicKey))
	time.Sleep(5 * time.Millisecond) // let the refresh limiter fill again
	before := srv.fetches.Load()
	if _, err := v.VerifyToken(ctx, newTok); err != nil {
		t.Fatalf("VerifyToken(new kid after rotation) = %v", err)
	}
	if n := srv.fetches.Load() - before; n != 1 {
		t.Errorf("fetches for the new kid = %d, want 1", n)
	}
	time.Sleep(5 * time.Millisecond)
	if _, err := v.VerifyToken(ctx, oldTok); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("VerifyToken(retired kid) = %v, want %v", err, ErrUnknownKey)
	}
}

// TestJWKSUnknownKIDRateLimit checks that tokens with made-up kids cause at
// most one fetch per minimum refresh interval.
func TestJWKSUnknownKIDRateLimit(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, rsaJWK("a", &k.rsa.PublicKey))
	v := newVerifier(t, jwksConfig(srv.URL, time.Hour))
	ctx := context.Background()
	claims := claimsAt(time.Now(), "mallory", "admin")

	start := time.Now()
	for _, kid := range []string{"x1", "x2", "x3", "x4"} {
		tok := sign(t, jwt.SigningMethodRS256, k.rsaOther, kid, claims)
		if _, err := v.VerifyToken(ctx, tok); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("VerifyToken(kid %s) = %v, want %v", kid, err, ErrUnknownKey)
		}
	}
	if n := srv.fetches.Load(); n != 2 {
		t.Errorf("fetches = %d, want 2 (start and one unknown kid)", n)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("four refused tokens took %s; the limiter should refuse at once", d)
	}
}

// TestJWKSKeyKinds checks the algorithm rules on JWKS keys: an EC key
// verifies ES256, an RSA key does not verify ES256 under its kid, an HMAC
// key published in the set is never used, and a token without kid is
// tried against the keys of its kind.
func TestJWKSKeyKinds(t *testing.T) {
	k := keys(t)
	oct := map[string]string{
		"kty": "oct", "kid": "hmac", "use": "sig",
		"k": base64.RawURLEncoding.EncodeToString(k.secret),
	}
	srv := newJWKSServer(t, rsaJWK("r", &k.rsa.PublicKey), ecJWK(t, "e", &k.ec.PublicKey), oct)
	v := newVerifier(t, jwksConfig(srv.URL, time.Hour))
	claims := claimsAt(time.Now(), "dave", "viewer")

	tests := []struct {
		name    string
		token   string
		wantErr error
	}{
		{"ES256 with its kid", sign(t, jwt.SigningMethodES256, k.ec, "e", claims), nil},
		{"RS256 without kid", sign(t, jwt.SigningMethodRS256, k.rsa, "", claims), nil},
		{"ES256 without kid", sign(t, jwt.SigningMethodES256, k.ec, "", claims), nil},
		{"ES256 naming the RSA kid", sign(t, jwt.SigningMethodES256, k.ec, "r", claims),
			ErrInvalidToken},
		{"HS256 naming the HMAC kid", sign(t, jwt.SigningMethodHS256, k.secret, "hmac", claims),
			ErrInvalidToken},
		{"HS256 without kid", sign(t, jwt.SigningMethodHS256, k.secret, "", claims),
			ErrInvalidToken},
		{"RS256 by another key without kid",
			sign(t, jwt.SigningMethodRS256, k.rsaOther, "", claims), ErrInvalidToken},
		{"wrong issuer", sign(t, jwt.SigningMethodRS256, k.rsa, "r",
			with(claims, "iss", "https://other.example")), ErrWrongIssuer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.VerifyToken(context.Background(), tt.token)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyToken() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// TestJWKSNotReady checks that a provider down at start does not stop the
// verifier: Ready reports it, tokens are refused, and the first token after
// the provider is back makes a fetch that succeeds.
func TestJWKSNotReady(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t)
	srv.set(http.StatusServiceUnavailable)
	v := newVerifier(t, jwksConfig(srv.URL, time.Millisecond))
	ctx := context.Background()

	if err := v.Ready(ctx); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("Ready() = %v, want %v", err, ErrNoKeys)
	}
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "r", claimsAt(time.Now(), "erin"))
	if _, err := v.VerifyToken(ctx, tok); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("VerifyToken() while down = %v, want %v", err, ErrUnknownKey)
	}

	srv.set(http.StatusOK, rsaJWK("r", &k.rsa.PublicKey))
	time.Sleep(5 * time.Millisecond)
	if _, err := v.VerifyToken(ctx, tok); err != nil {
		t.Fatalf("VerifyToken() after recovery = %v", err)
	}
	if err := v.Ready(ctx); err != nil {
		t.Errorf("Ready() after recovery = %v, want nil", err)
	}
}

// TestJWKSBackgroundRefresh checks that the set is fetched again on the
// refresh interval without any token asking for it.
func TestJWKSBackgroundRefresh(t *testing.T) {
	k := keys(t)
	srv := newJWKSServer(t, rsaJWK("r", &k.rsa.PublicKey))
	c := jwksConfig(srv.URL, time.Hour)
	c.JWKSRefreshInterval = 20 * time.Millisecond
	newVerifier(t, c)
	deadline := time.Now().Add(2 * time.Second)
	for srv.fetches.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := srv.fetches.Load(); n < 3 {
		t.Errorf("fetches after 2 s with a 20 ms interval = %d, want at least 3", n)
	}
}

// TestJWKSLargeAnswer checks that a JWK Set answer beyond 1 MiB is cut and
// so not accepted.
func TestJWKSLargeAnswer(t *testing.T) {
	k := keys(t)
	big := rsaJWK("r", &k.rsa.PublicKey)
	big["x-padding"] = string(make([]byte, jwksMaxBytes))
	srv := newJWKSServer(t, big)
	v := newVerifier(t, jwksConfig(srv.URL, time.Hour))
	if err := v.Ready(context.Background()); !errors.Is(err, ErrNoKeys) {
		t.Errorf("Ready() = %v, want %v", err, ErrNoKeys)
	}
}
