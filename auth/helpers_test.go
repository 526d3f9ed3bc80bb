package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	testIssuer   = "https://idp.example/realms/qc"
	testAudience = "qcgate"
)

// testKeys are the keys of one test run. RSA keys take a while to generate,
// so they are made once and shared.
type testKeys struct {
	secret   []byte
	rsa      *rsa.PrivateKey
	rsaOther *rsa.PrivateKey
	ec       *ecdsa.PrivateKey
}

var (
	keysOnce   sync.Once
	sharedKeys testKeys
)

// keys returns the shared test keys, making them on first use.
func keys(t *testing.T) testKeys {
	t.Helper()
	keysOnce.Do(func() {
		sharedKeys.secret = []byte("0123456789abcdef0123456789abcdef-test-secret")
		var err error
		if sharedKeys.rsa, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if sharedKeys.rsaOther, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if sharedKeys.ec, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
	return sharedKeys
}

// writeFile writes data to a new file in the test's temporary folder and
// returns its path.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatalf("writing %s: %v", p, err)
	}
	return p
}

// publicPEM encodes the public half of a key as a PKIX "PUBLIC KEY" block.
func publicPEM(t *testing.T, pub any) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatalf("marshalling public key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// sign signs claims with method and key, setting kid in the header when it
// is not empty.
func sign(t *testing.T, m jwt.SigningMethod, key any, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("signing token: %v", err)
	}
	return s
}

// claimsAt returns good claims for a token issued at now, valid for an hour,
// for the test issuer and audience, with the given roles.
func claimsAt(now time.Time, sub string, roles ...string) jwt.MapClaims {
	return jwt.MapClaims{
		"sub":   sub,
		"iss":   testIssuer,
		"aud":   testAudience,
		"iat":   now.Unix(),
		"nbf":   now.Unix(),
		"exp":   now.Add(time.Hour).Unix(),
		"roles": roles,
	}
}

// with returns a copy of c with the given claims set, and removed where the
// value is nil.
func with(c jwt.MapClaims, kv ...any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(out, kv[i].(string))
			continue
		}
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// unsignedToken builds a token by hand from a header and claims, with the
// given signature segment.
func unsignedToken(t *testing.T, header map[string]any, claims jwt.MapClaims, sig string) string {
	t.Helper()
	h, err := json.Marshal(header)
	if err != nil {
		t.Fatalf("marshalling header: %v", err)
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshalling claims: %v", err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + sig
}

// replacePayload swaps the claims of a signed token, keeping its header and
// signature.
func replacePayload(t *testing.T, token string, claims jwt.MapClaims) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token has %d parts", len(parts))
	}
	c, err := json.Marshal(claims)
	if err != nil {
		t.Fatalf("marshalling claims: %v", err)
	}
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(c) + "." + parts[2]
}

// newVerifier builds a verifier or stops the test.
func newVerifier(t *testing.T, c Config) *Verifier {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := NewVerifier(ctx, c)
	if err != nil {
		t.Fatalf("NewVerifier(%+v) = %v", c, err)
	}
	return v
}

// request builds a GET request with the given Authorization header, when
// not empty.
func request(authorization string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://qcgate.test/dicom-web/studies", nil)
	if authorization != "" {
		r.Header.Set("Authorization", authorization)
	}
	return r
}
