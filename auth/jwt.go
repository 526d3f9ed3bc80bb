package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms accepted per key source. HS256 is accepted only with the
// shared secret, RS256 only with RSA keys, ES256 only with P-256 keys; a
// JWKS may hold RSA and EC keys for the algorithms of jwksMethods. No
// source accepts "none".
var jwksMethods = []string{
	"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
}

// Verifier checks the bearer tokens of requests. It is safe for concurrent
// use.
type Verifier struct {
	cfg    Config
	secret []byte      // HS256 secret, nil when none
	rsa    []staticKey // RS256 keys
	ec     []staticKey // ES256 keys
	jwks   *jwks       // nil when no JWKS URL
	parser *jwt.Parser
}

// NewVerifier checks c, reads its key files and, when a JWKS URL is set,
// fetches the key set and keeps refreshing it until ctx ends. With no key
// configured and authentication not disabled it returns an error wrapping
// [ErrInvalidConfig]: there is no open default.
func NewVerifier(ctx context.Context, c Config) (*Verifier, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c = c.WithDefaults()
	v := &Verifier{cfg: c}
	if c.Disabled {
		return v, nil
	}

	var err error
	if c.HS256SecretFile != "" {
		if v.secret, err = ReadHS256Secret(c.HS256SecretFile); err != nil {
			return nil, err
		}
	}
	for _, f := range c.RSAPublicKeyFiles {
		k, err := readRSAKey(f)
		if err != nil {
			return nil, err
		}
		v.rsa = append(v.rsa, k)
	}
	for _, f := range c.ECPublicKeyFiles {
		k, err := readECKey(f)
		if err != nil {
			return nil, err
		}
		v.ec = append(v.ec, k)
	}
	if c.JWKSURL != "" {
		if v.jwks, err = newJWKS(ctx, c); err != nil {
			return nil, err
		}
	}

	v.parser = jwt.NewParser(v.parserOptions()...)
	return v, nil
}

// parserOptions builds the claim checks and the allowed algorithms.
func (v *Verifier) parserOptions() []jwt.ParserOption {
	var methods []string
	if v.secret != nil {
		methods = append(methods, "HS256")
	}
	if v.jwks != nil {
		methods = append(methods, jwksMethods...)
	} else {
		if len(v.rsa) > 0 {
			methods = append(methods, "RS256")
		}
		if len(v.ec) > 0 {
			methods = append(methods, "ES256")
		}
	}
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(methods),
		jwt.WithLeeway(v.cfg.Leeway),
		jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(),
	}
	if v.cfg.Issuer != "" {
		opts = append(opts, jwt.WithIssuer(v.cfg.Issuer))
	}
	if v.cfg.Audience != "" {
		opts = append(opts, jwt.WithAudience(v.cfg.Audience))
	}
	return opts
}

// Disabled reports whether authentication is switched off.
func (v *Verifier) Disabled() bool { return v.cfg.Disabled }

// Config returns the configuration in use, with defaults applied.
func (v *Verifier) Config() Config { return v.cfg }

// Ready reports whether tokens can be verified: always, except while a
// configured JWKS has not been fetched yet; the error then wraps
// [ErrNoKeys] and the last fetch error.
func (v *Verifier) Ready(ctx context.Context) error {
	if v.jwks == nil {
		return nil
	}
	return v.jwks.ready(ctx)
}

// AnonymousSubject is the subject of every request when authentication is
// disabled.
const AnonymousSubject = "anonymous"

// Verify authenticates a request by its Authorization header, of the form
// "Bearer <token>" (RFC 6750 section 2.1). No other place is read: a token
// in a cookie is ignored, and one in the access_token query parameter
// (RFC 6750 section 2.3) is refused, even beside a good header, because
// URLs are written to logs and browser histories and would be forwarded
// to the upstream. Browser viewers can send the header on every request,
// WADO-URI image loads included (see the package documentation).
//
// The error is an [*Error] ready for a 401 answer with its
// [Error.WWWAuthenticate] challenge. When authentication is disabled every
// request gets an anonymous principal holding the admin role.
func (v *Verifier) Verify(ctx context.Context, r *http.Request) (*Principal, error) {
	if v.cfg.Disabled {
		return &Principal{Subject: AnonymousSubject, Roles: []Role{RoleAdmin}}, nil
	}
	if tokenInURL(r.URL) {
		return nil, newError(CodeInvalidRequest,
			"send the token in the Authorization header, not in the URL",
			ErrMalformedRequest, errors.New("access_token query parameter present"))
	}
	token, err := bearer(r.Header)
	if err != nil {
		return nil, err
	}
	return v.VerifyToken(ctx, token)
}

// tokenInURL reports whether a URL carries an access_token parameter,
// decoded or as written: Go's query parser drops pairs it cannot read (for
// example after a semicolon), so the raw query is searched too.
func tokenInURL(u *url.URL) bool {
	if u == nil {
		return false
	}
	q, _ := url.ParseQuery(u.RawQuery)
	return q.Has("access_token") ||
		strings.Contains(strings.ToLower(u.RawQuery), "access_token")
}

// bearer extracts the token of the one Authorization header.
func bearer(h http.Header) (string, error) {
	values := h.Values("Authorization")
	switch {
	case len(values) == 0:
		return "", newError(CodeNone, "a bearer token is required", ErrNoToken, nil)
	case len(values) > 1:
		return "", newError(CodeInvalidRequest, "more than one Authorization header",
			ErrMalformedRequest, nil)
	}
	scheme, token, ok := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", newError(CodeInvalidRequest,
			"the Authorization header must use the Bearer scheme", ErrMalformedRequest, nil)
	}
	token = strings.TrimSpace(token)
	if token == "" || strings.ContainsAny(token, " \t") {
		return "", newError(CodeInvalidRequest, "the Authorization header holds no single token",
			ErrMalformedRequest, nil)
	}
	return token, nil
}

// VerifyToken verifies a token string: its size, algorithm, signature and
// key, exp, nbf and iat within the leeway, issuer and audience when
// configured, and a non-empty sub. The roles come from the configured
// claim; a token without it is valid and holds no role.
func (v *Verifier) VerifyToken(ctx context.Context, token string) (*Principal, error) {
	if v.cfg.Disabled {
		return &Principal{Subject: AnonymousSubject, Roles: []Role{RoleAdmin}}, nil
	}
	if len(token) > v.cfg.MaxTokenBytes {
		return nil, newError(CodeInvalidToken, "the token is too large", ErrTokenTooLarge,
			fmt.Errorf("%d bytes, at most %d", len(token), v.cfg.MaxTokenBytes))
	}

	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(token, claims, func(t *jwt.Token) (any, error) {
		return v.key(ctx, t)
	})
	if err != nil {
		return nil, classify(err)
	}

	sub, err := claims.GetSubject()
	if err != nil || sub == "" {
		return nil, newError(CodeInvalidToken, "the token has no subject", ErrInvalidToken, err)
	}
	roles, err := rolesFromClaim(claims, v.cfg.RolesClaim)
	if err != nil {
		return nil, newError(CodeInvalidToken, "the token's roles claim is malformed",
			ErrInvalidToken, err)
	}
	return &Principal{Subject: sub, Roles: roles}, nil
}

// key finds the key for a token, by its algorithm and kid. A token with a
// kid is verified only with the key of that id: a JWKS key, or a PEM key
// whose RFC 7638 thumbprint it is. A token without a kid is tried with
// every key of its algorithm. The HS256 secret has no id, so an HS256 token
// with a kid is refused.
func (v *Verifier) key(ctx context.Context, t *jwt.Token) (any, error) {
	kid, hasKID := t.Header["kid"]
	kidStr, isString := kid.(string)
	if hasKID && !isString {
		return nil, fmt.Errorf("%w: kid is a %T, not a string", ErrUnknownKey, kid)
	}

	if _, ok := t.Method.(*jwt.SigningMethodHMAC); ok {
		if v.secret == nil || t.Method.Alg() != "HS256" {
			return nil, fmt.Errorf("%w: no %s key configured", ErrUnknownKey, t.Method.Alg())
		}
		if hasKID {
			return nil, fmt.Errorf("%w: HS256 token names kid %q", ErrUnknownKey, kidStr)
		}
		return v.secret, nil
	}

	static := v.staticKeys(t.Method)
	if hasKID {
		for _, k := range static {
			if k.kid == kidStr {
				return k.key, nil
			}
		}
		if v.jwks == nil {
			return nil, fmt.Errorf("%w: kid %q", ErrUnknownKey, kidStr)
		}
		return v.jwks.key(ctx, t)
	}

	set := jwt.VerificationKeySet{}
	for _, k := range static {
		set.Keys = append(set.Keys, k.key)
	}
	if v.jwks != nil {
		keys, err := v.jwks.keys(ctx, t.Method)
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, keys...)
	}
	if len(set.Keys) == 0 {
		return nil, fmt.Errorf("%w: no %s key configured", ErrUnknownKey, t.Method.Alg())
	}
	return set, nil
}

// staticKeys returns the PEM keys usable with a signing method.
func (v *Verifier) staticKeys(m jwt.SigningMethod) []staticKey {
	switch m.Alg() {
	case "RS256":
		return v.rsa
	case "ES256":
		return v.ec
	default:
		return nil
	}
}

// classify maps a parsing error of the jwt package to an [*Error] with a
// description safe for the client.
func classify(err error) *Error {
	type rule struct {
		jwtErr      error
		sentinel    error
		description string
	}
	// Order matters: a token can fail several claim checks at once, and the
	// first matching rule names it.
	rules := []rule{
		{ErrUnknownKey, ErrUnknownKey, "the token's signing key is not known"},
		{jwt.ErrTokenMalformed, ErrInvalidToken, "the token is malformed"},
		{jwt.ErrTokenSignatureInvalid, ErrInvalidToken,
			"the token's signature or algorithm is not accepted"},
		{jwt.ErrTokenUnverifiable, ErrInvalidToken, "the token cannot be verified"},
		{jwt.ErrTokenExpired, ErrExpired, "the token has expired"},
		{jwt.ErrTokenNotValidYet, ErrNotYetValid, "the token is not valid yet"},
		{jwt.ErrTokenUsedBeforeIssued, ErrNotYetValid, "the token is issued in the future"},
		{jwt.ErrTokenInvalidIssuer, ErrWrongIssuer, "the token's issuer is not accepted"},
		{jwt.ErrTokenInvalidAudience, ErrWrongAudience, "the token's audience is not accepted"},
		{jwt.ErrTokenRequiredClaimMissing, ErrInvalidToken, "the token lacks a required claim"},
	}
	for _, r := range rules {
		if errors.Is(err, r.jwtErr) {
			return newError(CodeInvalidToken, r.description, r.sentinel, err)
		}
	}
	return newError(CodeInvalidToken, "the token is not accepted", ErrInvalidToken, err)
}
