package gateway

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/golang-jwt/jwt/v5"

	"github.com/qcgate/qcgate/auth"
)

// Issuer and audience of the tokens of the auth tests.
const (
	testIssuer   = "https://idp.test/realms/qc"
	testAudience = "qcgate"
)

// authFixture holds the keys of a gateway with authentication on: an
// HS256 secret and an RSA key pair, both files in a temporary folder.
type authFixture struct {
	secret    []byte
	rsaKey    *rsa.PrivateKey
	rsaPEM    []byte
	otherRSA  *rsa.PrivateKey
	secretLoc string
	rsaLoc    string
}

// newAuthFixture writes a random 40-byte HS256 secret and a 2048-bit RSA
// public key PEM into a temporary folder.
func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	dir := t.TempDir()
	f := &authFixture{secret: make([]byte, 40)}
	rand.Read(f.secret)
	var err error
	if f.rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatalf("generating RSA key: %v", err)
	}
	if f.otherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatalf("generating RSA key: %v", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&f.rsaKey.PublicKey)
	if err != nil {
		t.Fatalf("encoding RSA public key: %v", err)
	}
	f.rsaPEM = pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	f.secretLoc = filepath.Join(dir, "hs256")
	f.rsaLoc = filepath.Join(dir, "rsa.pem")
	if err := os.WriteFile(f.secretLoc, f.secret, 0o600); err != nil {
		t.Fatalf("writing secret: %v", err)
	}
	if err := os.WriteFile(f.rsaLoc, f.rsaPEM, 0o600); err != nil {
		t.Fatalf("writing RSA key: %v", err)
	}
	return f
}

// config returns the auth section of a gateway trusting the fixture's
// keys, with issuer and audience checked.
func (f *authFixture) config() auth.Config {
	return auth.Config{HS256SecretFile: f.secretLoc, RSAPublicKeyFiles: []string{f.rsaLoc},
		Issuer: testIssuer, Audience: testAudience}
}

// claims returns valid claims for sub with roles, changed by mutate.
func claims(sub string, roles []string, mutate func(jwt.MapClaims)) jwt.MapClaims {
	now := time.Now()
	c := jwt.MapClaims{"sub": sub, "roles": roles, "iss": testIssuer, "aud": testAudience,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	if mutate != nil {
		mutate(c)
	}
	return c
}

// sign signs c with method and key; kid, when not empty, goes in the
// header.
func sign(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing token: %v", err)
	}
	return s
}

// token returns a good HS256 token of the fixture for sub with roles.
func (f *authFixture) token(t *testing.T, sub string, roles ...string) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, f.secret, claims(sub, roles, nil), "")
}

// encodeSegment is base64url without padding, as JWS segments are.
func encodeSegment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// newAuthGateway starts a gateway with the fixture's keys in front of up.
func newAuthGateway(t *testing.T, up *fakeOrthanc, f *authFixture,
	mutate func(*Config)) *testGateway {
	t.Helper()
	return newTestGateway(t, up.dicomWebURL(), func(c *Config) {
		c.Auth = f.config()
		if mutate != nil {
			mutate(c)
		}
	})
}

// bearer returns an Authorization header with tok.
func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func TestAuthAttacks(t *testing.T) {
	f := newAuthFixture(t)
	good := f.token(t, "alice", "annotator")
	goodParts := strings.Split(good, ".")
	tampered := goodParts[0] + "." + encodeSegment(claims("alice", []string{"admin"}, nil)) +
		"." + goodParts[2]
	none := encodeSegment(map[string]string{"alg": "none", "typ": "JWT"}) + "." +
		encodeSegment(claims("alice", []string{"admin"}, nil)) + "."
	big := claims("alice", []string{"viewer"}, func(c jwt.MapClaims) {
		c["pad"] = strings.Repeat("x", 9000)
	})
	stowBody := multipartBody(dicomPart(t, liverSEGFile))

	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		wantStatus int
		// wantCode is the error code of the challenge; "" means the bare
		// challenge of a request without credentials.
		wantCode string
	}{
		{"no token", "GET", "/dicom-web/studies", nil, 401, ""},
		{"no token on a report", "GET", "/qc/v1/reports", nil, 401, ""},
		{"no token on metrics", "GET", "/metrics", nil, 401, ""},
		{"no token on an unknown path", "GET", "/tools/execute-script", nil, 401, ""},
		{"no token on STOW", "POST", "/dicom-web/studies", nil, 401, ""},
		{"other scheme", "GET", "/dicom-web/studies",
			http.Header{"Authorization": {"Basic YWxpY2U6cHc="}}, 401, "invalid_request"},
		{"expired", "GET", "/dicom-web/studies", bearer(sign(t, jwt.SigningMethodHS256,
			f.secret, claims("alice", []string{"viewer"}, func(c jwt.MapClaims) {
				c["exp"] = time.Now().Add(-time.Minute).Unix()
				c["iat"] = time.Now().Add(-time.Hour).Unix()
				c["nbf"] = time.Now().Add(-time.Hour).Unix()
			}), "")), 401, "invalid_token"},
		{"not yet valid", "GET", "/dicom-web/studies", bearer(sign(t, jwt.SigningMethodHS256,
			f.secret, claims("alice", []string{"viewer"}, func(c jwt.MapClaims) {
				c["nbf"] = time.Now().Add(2 * time.Minute).Unix()
			}), "")), 401, "invalid_token"},
		{"wrong issuer", "GET", "/dicom-web/studies", bearer(sign(t, jwt.SigningMethodHS256,
			f.secret, claims("alice", []string{"viewer"}, func(c jwt.MapClaims) {
				c["iss"] = "https://evil.test"
			}), "")), 401, "invalid_token"},
		{"wrong audience", "GET", "/dicom-web/studies", bearer(sign(t, jwt.SigningMethodHS256,
			f.secret, claims("alice", []string{"viewer"}, func(c jwt.MapClaims) {
				c["aud"] = "account"
			}), "")), 401, "invalid_token"},
		{"alg none", "GET", "/dicom-web/studies", bearer(none), 401, "invalid_token"},
		{"HS256 with the RSA public key as secret", "GET", "/dicom-web/studies",
			bearer(sign(t, jwt.SigningMethodHS256, f.rsaPEM,
				claims("alice", []string{"admin"}, nil), "")), 401, "invalid_token"},
		{"unknown kid", "GET", "/dicom-web/studies", bearer(sign(t, jwt.SigningMethodRS256,
			f.otherRSA, claims("alice", []string{"admin"}, nil), "rogue-key")),
			401, "invalid_token"},
		{"RS256 by another key", "GET", "/dicom-web/studies", bearer(sign(t,
			jwt.SigningMethodRS256, f.otherRSA, claims("alice", []string{"admin"}, nil), "")),
			401, "invalid_token"},
		{"tampered payload", "GET", "/dicom-web/studies", bearer(tampered), 401,
			"invalid_token"},
		{"oversized token", "GET", "/dicom-web/studies", bearer(sign(t,
			jwt.SigningMethodHS256, f.secret, big, "")), 401, "invalid_token"},
		{"token in the query", "GET", "/wado?requestType=WADO&access_token=" + good,
			nil, 401, "invalid_request"},
		{"token in the query beside a good header", "GET",
			"/wado?requestType=WADO&access_token=" + good, bearer(good), 401,
			"invalid_request"},
		{"viewer token on STOW", "POST", "/dicom-web/studies",
			bearer(f.token(t, "bob", "viewer")), 403, "insufficient_scope"},
		{"viewer token on STOW to a study", "POST",
			"/dicom-web/studies/1.2.840.113619.2.55.3",
			bearer(f.token(t, "bob", "viewer")), 403, "insufficient_scope"},
		{"reviewer token on STOW", "POST", "/dicom-web/studies",
			bearer(f.token(t, "rita", "reviewer")), 403, "insufficient_scope"},
		{"no role on QIDO", "GET", "/dicom-web/studies", bearer(f.token(t, "nobody")), 403,
			"insufficient_scope"},
		{"no role on WADO-URI", "GET", "/wado?requestType=WADO",
			bearer(f.token(t, "nobody")), 403, "insufficient_scope"},
		{"viewer on metrics", "GET", "/metrics", bearer(f.token(t, "bob", "viewer")), 403,
			"insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newAuthGateway(t, up, f, nil)
			h := http.Header{"Content-Type": {stowContentType}}
			for k, v := range tt.header {
				h[k] = v
			}
			var body []byte
			if tt.method == http.MethodPost {
				body = stowBody
			}
			res, b := g.do(t, tt.method, tt.path, h, strings.NewReader(string(body)))
			if res.StatusCode != tt.wantStatus {
				t.Errorf("%s %s = %d, want %d; %s", tt.method, tt.path, res.StatusCode,
					tt.wantStatus, b)
			}
			checkChallenge(t, res.Header.Get("WWW-Authenticate"), tt.wantCode)
			if n := len(up.requests()); n != 0 {
				t.Errorf("upstream saw %d requests, want none: %+v", n, up.requests())
			}
			// The token never reaches the access record.
			if tok := strings.TrimPrefix(tt.header.Get("Authorization"), "Bearer "); tok != "" &&
				strings.Contains(g.log.String(), tok) {
				t.Errorf("the log holds the token")
			}
			var eb errorBody
			if err := json.Unmarshal(b, &eb); err != nil || eb.Status != tt.wantStatus {
				t.Errorf("body = %s, want the gateway's JSON error with status %d", b,
					tt.wantStatus)
			}
		})
	}
}

// checkChallenge checks a WWW-Authenticate value: the Bearer scheme and
// realm, and the error code wantCode (none when empty).
func checkChallenge(t *testing.T, got, wantCode string) {
	t.Helper()
	if !strings.HasPrefix(got, `Bearer realm="qcgate"`) {
		t.Errorf("WWW-Authenticate = %q, want a Bearer challenge of realm qcgate", got)
		return
	}
	switch {
	case wantCode == "" && got != `Bearer realm="qcgate"`:
		t.Errorf("WWW-Authenticate = %q, want the bare challenge", got)
	case wantCode != "" && !strings.Contains(got, `error="`+wantCode+`"`):
		t.Errorf("WWW-Authenticate = %q, want error %q", got, wantCode)
	case wantCode != "" && !strings.Contains(got, `error_description="`):
		t.Errorf("WWW-Authenticate = %q, want an error description", got)
	}
}

func TestAuthAllowed(t *testing.T) {
	f := newAuthFixture(t)
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		wantStatus int
		// wantUpstream is whether the request reaches the upstream.
		wantUpstream bool
	}{
		{"healthz without a token", "GET", "/healthz", nil, 200, false},
		{"healthz with a bad token", "GET", "/healthz", bearer("not.a.token"), 200, false},
		{"readyz without a token", "GET", "/readyz", nil, 200, true},
		{"viewer on QIDO", "GET", "/dicom-web/studies", bearer(f.token(t, "bob", "viewer")),
			200, true},
		{"viewer on reports", "GET", "/qc/v1/reports", bearer(f.token(t, "bob", "viewer")),
			200, false},
		{"annotator on QIDO", "GET", "/dicom-web/studies",
			bearer(f.token(t, "alice", "annotator")), 200, true},
		{"auditor on metrics", "GET", "/metrics", bearer(f.token(t, "audrey", "auditor")),
			200, false},
		{"RS256 of the configured key", "GET", "/dicom-web/studies",
			bearer(sign(t, jwt.SigningMethodRS256, f.rsaKey,
				claims("carol", []string{"viewer"}, nil), "")), 200, true},
		{"viewer on a path that is not DICOMweb", "GET", "/tools/execute-script",
			bearer(f.token(t, "bob", "viewer")), 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newAuthGateway(t, up, f, nil)
			res, b := g.do(t, tt.method, tt.path, tt.header, nil)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("%s %s = %d, want %d; %s", tt.method, tt.path, res.StatusCode,
					tt.wantStatus, b)
			}
			if got := len(up.requests()) > 0; got != tt.wantUpstream {
				t.Errorf("upstream reached = %v, want %v", got, tt.wantUpstream)
			}
			if res.Header.Get("WWW-Authenticate") != "" && res.StatusCode < 400 {
				t.Errorf("WWW-Authenticate on a %d answer", res.StatusCode)
			}
		})
	}
}

func TestAuthMetricsPublic(t *testing.T) {
	f := newAuthFixture(t)
	up := newFakeOrthanc(t)
	g := newAuthGateway(t, up, f, func(c *Config) { c.Auth.MetricsPublic = true })
	if res, b := g.do(t, "GET", "/metrics", nil, nil); res.StatusCode != 200 {
		t.Errorf("GET /metrics without a token, metrics_public = %d, want 200; %s",
			res.StatusCode, b)
	}
	if res, _ := g.do(t, "GET", "/qc/v1/reports", nil, nil); res.StatusCode != 401 {
		t.Errorf("GET /qc/v1/reports without a token, metrics_public = %d, want 401",
			res.StatusCode)
	}
}

func TestAuthUploaderAndSubjectHash(t *testing.T) {
	f := newAuthFixture(t)
	up := newFakeOrthanc(t)
	g := newAuthGateway(t, up, f, nil)
	tok := f.token(t, "alice", "annotator")
	body := multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
		dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile))
	res, b := g.stow(t, "/dicom-web/studies", stowContentType, body, bearer(tok))
	if res.StatusCode != http.StatusOK {
		t.Fatalf("STOW = %d, want 200; %.300s", res.StatusCode, b)
	}

	res, b = g.do(t, "GET", "/qc/v1/reports/"+liverSEGSOP, bearer(f.token(t, "bob", "viewer")),
		nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET report = %d, want 200", res.StatusCode)
	}
	var rep struct {
		Uploader string `json:"uploader"`
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("report JSON: %v", err)
	}
	if rep.Uploader != "alice" {
		t.Errorf("report uploader = %q, want alice", rep.Uploader)
	}

	// The access record of the STOW carries alice's hash, computed here
	// independently; no record holds the subject or the token.
	const aliceHash = "2bd806c97f0e00af"
	found := false
	for _, rec := range g.log.records(t, "request") {
		if rec["method"] == "POST" && rec["subject_hash"] == aliceHash {
			found = true
		}
	}
	if !found {
		t.Errorf("no POST access record with subject_hash %s:\n%s", aliceHash, g.log.String())
	}
	for _, secret := range []string{tok, `"alice"`} {
		if strings.Contains(g.log.String(), secret) {
			t.Errorf("the log holds %s", secret)
		}
	}
	// Orthanc never sees the client's token.
	for _, r := range up.requests() {
		if strings.Contains(r.Header.Get("Authorization"), "Bearer") {
			t.Errorf("upstream request %s %s carried the bearer token", r.Method, r.Path)
		}
	}
}

func TestAuthDisabledUploaderEmpty(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	body := multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverSEGFile))
	if res, b := g.stow(t, "/dicom-web/studies", stowContentType, body, nil); res.StatusCode >= 300 {
		t.Fatalf("STOW = %d; %.300s", res.StatusCode, b)
	}
	_, b := g.do(t, "GET", "/qc/v1/reports/"+liverSEGSOP, nil, nil)
	if strings.Contains(string(b), `"uploader":"anonymous"`) {
		t.Errorf("report = %s, want no uploader with authentication off", b)
	}
	if !strings.Contains(g.log.String(), `"msg":"authentication disabled"`) {
		t.Errorf("no Warn record of disabled authentication:\n%s", g.log.String())
	}
}

func TestRequireRole(t *testing.T) {
	// A route added by another file declares its role with the two
	// middlewares; an annotator is not a reviewer.
	f := newAuthFixture(t)
	up := newFakeOrthanc(t)
	g := newAuthGateway(t, up, f, nil)
	e := gin.New()
	e.Use(g.srv.accessLog)
	e.POST("/qc/v1/reviews/:uid", g.srv.authenticate, g.srv.requireRole(auth.RoleReviewer),
		func(c *gin.Context) { c.Status(http.StatusNoContent) })
	g.ts.Config.Handler = e

	tests := []struct {
		name       string
		roles      []string
		wantStatus int
		wantCode   string
	}{
		{"annotator", []string{"annotator"}, 403, "insufficient_scope"},
		{"viewer", []string{"viewer"}, 403, "insufficient_scope"},
		{"reviewer", []string{"reviewer"}, 204, ""},
		{"senior_qa", []string{"senior_qa"}, 204, ""},
		{"admin", []string{"admin"}, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, _ := g.do(t, "POST", "/qc/v1/reviews/1.2.3", bearer(f.token(t, "x",
				tt.roles...)), nil)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("POST review as %v = %d, want %d", tt.roles, res.StatusCode,
					tt.wantStatus)
			}
			if tt.wantCode != "" {
				checkChallenge(t, res.Header.Get("WWW-Authenticate"), tt.wantCode)
			}
		})
	}
}
