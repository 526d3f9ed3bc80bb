package gateway

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxLimiterClients bounds the clients whose token buckets are kept; past
// it, buckets idle for longer than limiterIdle are dropped (an idle bucket
// is full again, so dropping it changes nothing for its client).
const (
	maxLimiterClients = 10000
	limiterIdle       = 10 * time.Minute
)

// rateLimiter keeps a token bucket per client key. A nil *rateLimiter
// allows everything.
type rateLimiter struct {
	limit rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*clientBucket
}

// clientBucket is one client's token bucket and when it was last used.
type clientBucket struct {
	lim  *rate.Limiter
	last time.Time
}

// newRateLimiter returns a limiter of perSecond requests with burst, or
// nil when perSecond is 0 (no limit).
func newRateLimiter(perSecond float64, burst int, now func() time.Time) *rateLimiter {
	if perSecond <= 0 {
		return nil
	}
	return &rateLimiter{limit: rate.Limit(perSecond), burst: burst, now: now,
		clients: map[string]*clientBucket{}}
}

// rateError carries the Retry-After header of a 429 answer, in seconds.
type rateError struct{ retryAfter int }

func (e rateError) Error() string {
	return fmt.Sprintf("rate limit exceeded; retry after %d s", e.retryAfter)
}

// allow takes a token from the bucket of key. When none is left it returns
// a 429 [*Error] whose cause tells when one will be.
func (l *rateLimiter) allow(key string) error {
	if l == nil {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	b, ok := l.clients[key]
	if !ok {
		if len(l.clients) >= maxLimiterClients {
			l.prune(now)
		}
		b = &clientBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.clients[key] = b
	}
	b.last = now
	res := b.lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay > 0 {
		// The token is not taken: a refused request does not push the
		// client's next chance further away.
		res.CancelAt(now)
	}
	l.mu.Unlock()

	if delay == 0 {
		return nil
	}
	secs := int(math.Ceil(delay.Seconds()))
	return httpError(http.StatusTooManyRequests, "too many requests: retry after "+
		strconv.Itoa(secs)+" s", rateError{retryAfter: secs})
}

// prune drops the buckets idle for longer than limiterIdle. l.mu is held.
func (l *rateLimiter) prune(now time.Time) {
	for k, b := range l.clients {
		if now.Sub(b.last) > limiterIdle {
			delete(l.clients, k)
		}
	}
}
