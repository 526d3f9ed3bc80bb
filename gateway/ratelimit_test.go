package gateway

import (
	"errors"
	"net/http"
	"testing"
	"time"
)

func TestRateLimiter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	l := newRateLimiter(2, 3, func() time.Time { return now })

	// The burst of 3 passes at once, the 4th waits half a second: 429 with
	// Retry-After rounded up to 1 s.
	for i := range 3 {
		if err := l.allow("sub:alice"); err != nil {
			t.Fatalf("request %d = %v, want allowed", i+1, err)
		}
	}
	err := l.allow("sub:alice")
	var he *Error
	var re rateError
	if !errors.As(err, &he) || he.Status != http.StatusTooManyRequests ||
		!errors.As(err, &re) || re.retryAfter != 1 {
		t.Fatalf("4th request = %v, want 429 with retry after 1 s", err)
	}
	// Another client has its own bucket.
	if err := l.allow("ip:192.0.2.7"); err != nil {
		t.Errorf("other client = %v, want allowed", err)
	}
	// A refused request takes no token: after 0.5 s one is back.
	now = now.Add(500 * time.Millisecond)
	if err := l.allow("sub:alice"); err != nil {
		t.Errorf("after 0.5 s = %v, want allowed", err)
	}
	if err := l.allow("sub:alice"); err == nil {
		t.Errorf("second request after 0.5 s allowed, want 429")
	}
	if err := (*rateLimiter)(nil).allow("x"); err != nil {
		t.Errorf("nil limiter = %v, want allowed", err)
	}
}

func TestRateLimitAnswer(t *testing.T) {
	f := newAuthFixture(t)
	up := newFakeOrthanc(t)
	g := newAuthGateway(t, up, f, func(c *Config) { c.RateLimit, c.RateBurst = 0.2, 2 })
	alice := bearer(f.token(t, "alice", "annotator"))
	bob := bearer(f.token(t, "bob", "viewer"))

	// A rejected SEG is a 409, never a 429, and uses one token.
	body := multipartBody(dicomPart(t, missingSEGFile))
	if res, b := g.stow(t, "/dicom-web/studies", stowContentType, body, alice); res.StatusCode != http.StatusConflict {
		t.Fatalf("STOW of a rejected SEG = %d, want 409; %.200s", res.StatusCode, b)
	}
	if res, _ := g.do(t, "GET", "/dicom-web/studies", alice, nil); res.StatusCode != 200 {
		t.Fatalf("2nd request = %d, want 200", res.StatusCode)
	}
	n := len(up.requests())
	res, b := g.do(t, "GET", "/dicom-web/studies", alice, nil)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != "5" {
		t.Errorf("3rd request = %d, Retry-After %q, want 429 and 5; %s", res.StatusCode,
			res.Header.Get("Retry-After"), b)
	}
	if len(up.requests()) != n {
		t.Errorf("a limited request reached the upstream")
	}
	// bob is another client; the probes are never limited.
	if res, _ := g.do(t, "GET", "/dicom-web/studies", bob, nil); res.StatusCode != 200 {
		t.Errorf("bob's request = %d, want 200", res.StatusCode)
	}
	for range 3 {
		if res, _ := g.do(t, "GET", "/healthz", nil, nil); res.StatusCode != 200 {
			t.Errorf("GET /healthz = %d, want 200", res.StatusCode)
		}
	}
	// Anonymous clients are limited by address, after their 401s.
	codes := []int{}
	for range 3 {
		res, _ := g.do(t, "GET", "/dicom-web/studies", nil, nil)
		codes = append(codes, res.StatusCode)
	}
	if codes[0] != 401 || codes[1] != 401 || codes[2] != 429 {
		t.Errorf("anonymous requests = %v, want [401 401 429]", codes)
	}
}
