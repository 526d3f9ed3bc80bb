package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

const (
	// jwksTimeout bounds one fetch of the JWK Set.
	jwksTimeout = 10 * time.Second
	// jwksMaxBytes bounds the size of a JWK Set answer.
	jwksMaxBytes = 1 << 20
	// jwksRateLimitWait is how long a request waits for the unknown-kid
	// refresh limiter before its token is refused.
	jwksRateLimitWait = time.Second
)

// jwks is a cached JWK Set fetched from an OpenID Connect provider.
type jwks struct {
	kf keyfunc.Keyfunc

	mu      sync.Mutex
	lastErr error // last failed fetch, nil after a good one
}

// newJWKS fetches the JWK Set at c.JWKSURL once and starts refreshing it in
// the background until ctx ends. A first fetch that fails is not an error:
// tokens are refused until a fetch succeeds, and [Verifier.Ready] says why.
func newJWKS(ctx context.Context, c Config) (*jwks, error) {
	j := &jwks{}
	client := &http.Client{Timeout: jwksTimeout, Transport: limitTransport{}}

	store, err := jwkset.NewStorageFromHTTP(c.JWKSURL, jwkset.HTTPClientStorageOptions{
		Client:                    client,
		Ctx:                       ctx,
		HTTPTimeout:               jwksTimeout,
		NoErrorReturnFirstHTTPReq: true,
		RefreshErrorHandler:       j.setErr,
		RefreshInterval:           c.JWKSRefreshInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: auth.jwks_url: %w", ErrInvalidConfig, err)
	}
	storage, err := jwkset.NewHTTPClient(jwkset.HTTPClientOptions{
		HTTPURLs:          map[string]jwkset.Storage{c.JWKSURL: store},
		RateLimitWaitMax:  jwksRateLimitWait,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(c.JWKSMinRefreshInterval), 1),
	})
	if err != nil {
		return nil, fmt.Errorf("setting up JWKS storage: %w", err)
	}
	j.kf, err = keyfunc.New(keyfunc.Options{
		Ctx:          ctx,
		Storage:      storage,
		UseWhitelist: []jwkset.USE{jwkset.UseSig, ""},
	})
	if err != nil {
		return nil, fmt.Errorf("setting up JWKS keyfunc: %w", err)
	}
	return j, nil
}

// setErr records the outcome of a background fetch.
func (j *jwks) setErr(_ context.Context, err error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lastErr = err
}

// key returns the JWKS key for a token that names a kid, fetching the set
// again (rate-limited) when the kid is unknown. The key must suit the
// token's algorithm.
func (j *jwks) key(ctx context.Context, t *jwt.Token) (any, error) {
	k, err := j.kf.KeyfuncCtx(ctx)(t)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnknownKey, err)
	}
	if !suits(t.Method, k) {
		return nil, fmt.Errorf("%w: JWKS key of type %T cannot verify %s",
			ErrUnknownKey, k, t.Method.Alg())
	}
	return k, nil
}

// keys returns the JWKS keys that suit the token's algorithm, for a token
// without a kid.
func (j *jwks) keys(ctx context.Context, m jwt.SigningMethod) ([]jwt.VerificationKey, error) {
	set, err := j.kf.VerificationKeySet(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading JWKS keys: %w", err)
	}
	var out []jwt.VerificationKey
	for _, k := range set.Keys {
		if suits(m, k) {
			out = append(out, k)
		}
	}
	return out, nil
}

// ready reports whether at least one key has been fetched.
func (j *jwks) ready(ctx context.Context) error {
	all, err := j.kf.Storage().KeyReadAll(ctx)
	if err != nil {
		return fmt.Errorf("reading JWKS keys: %w", err)
	}
	if len(all) > 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lastErr != nil {
		return fmt.Errorf("%w: %w", ErrNoKeys, j.lastErr)
	}
	return ErrNoKeys
}

// suits reports whether key is of the type the signing method verifies
// with. Symmetric keys never suit: a JWKS is public, and an HMAC key in it
// would let anyone sign.
func suits(m jwt.SigningMethod, key any) bool {
	switch m.(type) {
	case *jwt.SigningMethodRSA, *jwt.SigningMethodRSAPSS:
		_, ok := key.(*rsa.PublicKey)
		return ok
	case *jwt.SigningMethodECDSA:
		_, ok := key.(*ecdsa.PublicKey)
		return ok
	default:
		return false
	}
}

// limitTransport cuts every response body at jwksMaxBytes, so a provider
// answering without end cannot exhaust the gateway's memory.
type limitTransport struct {
	next http.RoundTripper
}

// RoundTrip sends the request with the next transport and limits the body.
func (t limitTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	next := t.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = limitedBody{Reader: io.LimitReader(resp.Body, jwksMaxBytes), Closer: resp.Body}
	return resp, nil
}

type limitedBody struct {
	io.Reader
	io.Closer
}

var _ http.RoundTripper = limitTransport{}
