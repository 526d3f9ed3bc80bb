package integration

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

	"github.com/golang-jwt/jwt/v5"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/integration/harness"
)

// segment encodes v as a JWS segment: JSON in base64url without padding.
func segment(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signed signs claims with method and key, with kid in the header when
// not empty.
func signed(t *testing.T, method jwt.SigningMethod, key any, c jwt.MapClaims,
	kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	return s
}

// TestAuthAttacks is the attack table against a real Orthanc: each
// request is answered 401 or 403 with a Bearer challenge, and the tap in
// front of Orthanc sees no request at all.
func TestAuthAttacks(t *testing.T) {
	// The gateway trusts its HS256 secret and one RSA public key.
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("RSA key: %v", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatalf("RSA key: %v", err)
	}
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	rsaFile := filepath.Join(t.TempDir(), "idp.pem")
	if err := os.WriteFile(rsaFile, rsaPEM, 0o600); err != nil {
		t.Fatalf("writing key: %v", err)
	}
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	tap := harness.NewTap(t, o.URL)
	const iss, aud = "https://idp.test/realms/qc", "qcgate"
	g := harness.StartGateway(t, o, harness.GatewayOptions{Upstream: tap.URL + "/dicom-web",
		Settings: map[string]string{"auth_rsa_public_key_files": rsaFile,
			"auth_issuer": iss, "auth_audience": aud, "review_enabled": "true"}})
	secret, err := os.ReadFile(g.Tokens.SecretFile)
	if err != nil {
		t.Fatalf("reading the gateway's secret: %v", err)
	}

	now := time.Now()
	claims := func(roles []string, mutate func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{"sub": "mallory", "roles": roles, "iat": now.Unix(),
			"nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "iss": iss, "aud": aud}
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	hs := func(c jwt.MapClaims) string { return signed(t, jwt.SigningMethodHS256, secret, c, "") }
	mint := func(sub, role string) string {
		tok, err := auth.Mint(secret, sub, []string{role}, time.Hour, iss, aud)
		if err != nil {
			t.Fatalf("minting: %v", err)
		}
		return tok
	}
	viewer, annotator := mint("bob", "viewer"), mint("alice", "annotator")
	parts := strings.Split(annotator, ".")
	tampered := parts[0] + "." + segment(claims([]string{"admin"}, nil)) + "." + parts[2]
	none := segment(map[string]string{"alg": "none", "typ": "JWT"}) + "." +
		segment(claims([]string{"admin"}, nil)) + "."
	stow := harness.Multipart(harness.FileParts(t, append(liverSources, liverSEG)...)...)

	tests := []struct {
		name       string
		method     string
		path       string
		token      string
		wantStatus int
		wantCode   string
	}{
		{"no token", "GET", "/dicom-web/studies", "", 401, ""},
		{"no token on STOW", "POST", "/dicom-web/studies", "", 401, ""},
		{"expired", "GET", "/dicom-web/studies", hs(claims([]string{"viewer"},
			func(c jwt.MapClaims) {
				c["exp"], c["iat"], c["nbf"] = now.Add(-time.Minute).Unix(),
					now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Unix()
			})), 401, "invalid_token"},
		{"not yet valid", "GET", "/dicom-web/studies", hs(claims([]string{"viewer"},
			func(c jwt.MapClaims) { c["nbf"] = now.Add(2 * time.Minute).Unix() })), 401,
			"invalid_token"},
		{"wrong issuer", "GET", "/dicom-web/studies", hs(claims([]string{"viewer"},
			func(c jwt.MapClaims) { c["iss"] = "https://evil.test" })), 401, "invalid_token"},
		{"wrong audience", "GET", "/dicom-web/studies", hs(claims([]string{"viewer"},
			func(c jwt.MapClaims) { c["aud"] = "account" })), 401, "invalid_token"},
		{"no issuer nor audience", "GET", "/dicom-web/studies",
			g.Tokens.Token(t, "bob", "viewer"), 401, "invalid_token"},
		{"alg none", "GET", "/dicom-web/studies", none, 401, "invalid_token"},
		{"HS256 signed with the RSA public key", "GET", "/dicom-web/studies",
			signed(t, jwt.SigningMethodHS256, rsaPEM, claims([]string{"admin"}, nil), ""),
			401, "invalid_token"},
		{"unknown kid", "GET", "/dicom-web/studies", signed(t, jwt.SigningMethodRS256,
			rsaKey, claims([]string{"admin"}, nil), "rotated-away"), 401, "invalid_token"},
		{"tampered payload", "GET", "/dicom-web/studies", tampered, 401, "invalid_token"},
		{"oversized", "GET", "/dicom-web/studies", hs(claims([]string{"viewer"},
			func(c jwt.MapClaims) { c["pad"] = strings.Repeat("A", 9000) })), 401,
			"invalid_token"},
		{"token in the query", "GET", "/wado?requestType=WADO&access_token=" + viewer,
			"", 401, "invalid_request"},
		{"token in the query beside the header", "GET",
			"/wado?requestType=WADO&access_token=" + viewer, viewer, 401, "invalid_request"},
		{"viewer token on STOW", "POST", "/dicom-web/studies", viewer, 403,
			"insufficient_scope"},
		{"annotator token on a review action", "POST", "/qc/v1/reviews/" + liverSOP,
			annotator, 403, "insufficient_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tap.Reset()
			c := g.Anonymous()
			h := http.Header{"Content-Type": {stow.ContentType}}
			if tt.token != "" {
				h.Set("Authorization", "Bearer "+tt.token)
			}
			var resp *harness.Response
			if tt.method == http.MethodPost {
				resp = c.Do(t, tt.method, tt.path, strings.NewReader(string(stow.Data)), h)
			} else {
				resp = c.Do(t, tt.method, tt.path, nil, h)
			}
			if resp.Status != tt.wantStatus {
				t.Errorf("%s %s = %d, want %d; %s", tt.method, tt.path, resp.Status,
					tt.wantStatus, resp.Snippet())
			}
			challenge := resp.Header.Get("WWW-Authenticate")
			switch {
			case !strings.HasPrefix(challenge, `Bearer realm="qcgate"`):
				t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", challenge)
			case tt.wantCode == "" && challenge != `Bearer realm="qcgate"`:
				t.Errorf("WWW-Authenticate = %q, want no error code", challenge)
			case tt.wantCode != "" && !strings.Contains(challenge, `error="`+tt.wantCode+`"`):
				t.Errorf("WWW-Authenticate = %q, want error %s", challenge, tt.wantCode)
			}
			if reqs := tap.Requests(); len(reqs) != 0 {
				t.Errorf("Orthanc saw %d requests, want none; first %s %s", len(reqs),
					reqs[0].Method, reqs[0].RequestURI)
			}
		})
	}
	if e := (&env{orthanc: o}); e.heldByOrthanc(t, liverSOP) {
		t.Errorf("Orthanc holds the SEG after refused uploads")
	}
}

// TestAuthGoodTokens shows the other side: good tokens pass, the uploader
// is recorded, Orthanc never sees a bearer token, and the access log holds
// only the subject's hash.
func TestAuthGoodTokens(t *testing.T) {
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	tap := harness.NewTap(t, o.URL)
	g := harness.StartGateway(t, o, harness.GatewayOptions{Upstream: tap.URL + "/dicom-web"})
	alice := g.Tokens.Token(t, "alice", "annotator")
	up := &harness.Client{BaseURL: g.URL, Header: http.Header{
		"Authorization": {"Bearer " + alice}}}

	resp := up.STOW(t, "/dicom-web/studies",
		harness.Multipart(harness.FileParts(t, append(liverSources, liverSEG)...)...))
	if resp.Status != http.StatusOK {
		t.Fatalf("STOW as annotator = %d, want 200; %s", resp.Status, resp.Snippet())
	}
	viewer := g.ClientAs("viewer")
	rep := viewer.Get(t, "/qc/v1/reports/"+liverSOP, nil)
	var body struct {
		Uploader string `json:"uploader"`
		Decision string `json:"decision"`
	}
	if err := json.Unmarshal(rep.Body, &body); err != nil || rep.Status != 200 {
		t.Fatalf("GET report = %d, %v", rep.Status, err)
	}
	if body.Uploader != "alice" || body.Decision != "accepted" {
		t.Errorf("report uploader %q, decision %q, want alice, accepted", body.Uploader,
			body.Decision)
	}
	if got := viewer.QIDO(t, "/dicom-web/instances?SOPInstanceUID="+liverSOP); len(got) != 1 {
		t.Errorf("QIDO as viewer found %d instances, want 1", len(got))
	}
	for _, r := range tap.Requests() {
		if strings.HasPrefix(r.Header.Get("Authorization"), "Bearer") {
			t.Errorf("Orthanc got the bearer token on %s %s", r.Method, r.RequestURI)
		}
	}
	log, err := os.ReadFile(g.LogPath)
	if err != nil {
		t.Fatalf("reading log: %v", err)
	}
	// SHA-256 of "alice", first 16 hex digits (sha256sum of the word).
	if !strings.Contains(string(log), "subject_hash=2bd806c97f0e00af") {
		t.Errorf("the access log lacks alice's subject hash")
	}
	if strings.Contains(string(log), alice) {
		t.Errorf("the log holds the token")
	}
}
