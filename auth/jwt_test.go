package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// TestVerifyAttacks runs good tokens and attacks against verifiers of each
// key kind. Each case asserts the principal, or the sentinel, the RFC 6750
// code and the HTTP status of the refusal.
func TestVerifyAttacks(t *testing.T) {
	k := keys(t)
	now := time.Now()
	rsaPEM := publicPEM(t, &k.rsa.PublicKey)
	secretFile := writeFile(t, "secret", append(append([]byte{}, k.secret...), '\n'))
	rsaFile := writeFile(t, "rsa.pem", rsaPEM)
	ecFile := writeFile(t, "ec.pem", publicPEM(t, &k.ec.PublicKey))
	rsaKID, err := thumbprint(&k.rsa.PublicKey)
	if err != nil {
		t.Fatalf("thumbprint: %v", err)
	}

	verifiers := map[string]*Verifier{
		// all: every static key kind, with issuer and audience.
		"all": newVerifier(t, Config{
			HS256SecretFile:   secretFile,
			RSAPublicKeyFiles: []string{rsaFile},
			ECPublicKeyFiles:  []string{ecFile},
			Issuer:            testIssuer,
			Audience:          testAudience,
		}),
		// rsa: RSA keys only, no issuer or audience check.
		"rsa": newVerifier(t, Config{RSAPublicKeyFiles: []string{rsaFile}}),
		// nested: Keycloak's realm role claim.
		"nested": newVerifier(t, Config{
			HS256SecretFile: secretFile,
			RolesClaim:      "realm_access.roles",
		}),
	}

	good := claimsAt(now, "alice", "annotator", "viewer", "no-such-role")
	hs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodHS256, k.secret, "", c) }
	rs := func(c jwt.MapClaims) string { return sign(t, jwt.SigningMethodRS256, k.rsa, "", c) }
	goodHS := hs(good)
	tooBig := hs(with(good, "pad", strings.Repeat("x", DefaultMaxTokenBytes)))
	wantAlice := &Principal{Subject: "alice", Roles: []Role{RoleAnnotator, RoleViewer}}

	tests := []struct {
		name     string
		verifier string
		header   []string // Authorization header values
		url      string   // request URL; empty means a plain QIDO URL
		cookie   string   // access_token cookie, when not empty
		want     *Principal
		wantErr  error
		wantCode string
	}{
		{name: "HS256 good", verifier: "all", header: []string{"Bearer " + goodHS},
			want: wantAlice},
		{name: "scheme in lower case", verifier: "all", header: []string{"bearer " + goodHS},
			want: wantAlice},
		{name: "RS256 good without kid", verifier: "all", header: []string{"Bearer " + rs(good)},
			want: wantAlice},
		{name: "RS256 good with thumbprint kid", verifier: "all",
			header: []string{"Bearer " + sign(t, jwt.SigningMethodRS256, k.rsa, rsaKID, good)},
			want:   wantAlice},
		{name: "ES256 good", verifier: "all",
			header: []string{"Bearer " + sign(t, jwt.SigningMethodES256, k.ec, "", good)},
			want:   wantAlice},
		{name: "expired within the leeway", verifier: "all",
			header: []string{"Bearer " + hs(with(good, "exp", now.Add(-10*time.Second).Unix()))},
			want:   wantAlice},
		{name: "roles claim at a nested path", verifier: "nested",
			header: []string{"Bearer " + hs(with(good, "roles", nil,
				"realm_access", map[string]any{"roles": []string{"reviewer", "offline_access"}}))},
			want: &Principal{Subject: "alice", Roles: []Role{RoleReviewer}}},
		{name: "roles as a space separated string", verifier: "all",
			header: []string{"Bearer " + hs(with(good, "roles", "admin viewer"))},
			want:   &Principal{Subject: "alice", Roles: []Role{RoleAdmin, RoleViewer}}},
		{name: "no roles claim", verifier: "all",
			header: []string{"Bearer " + hs(with(good, "roles", nil))},
			want:   &Principal{Subject: "alice"}},

		{name: "no token", verifier: "all",
			wantErr: ErrNoToken, wantCode: CodeNone},
		{name: "token only in a cookie", verifier: "all", cookie: goodHS,
			wantErr: ErrNoToken, wantCode: CodeNone},
		{name: "token only in the query", verifier: "all",
			url:     "http://qcgate.test/wado?requestType=WADO&access_token=" + goodHS,
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "token in the query beside a good header", verifier: "all",
			header:  []string{"Bearer " + goodHS},
			url:     "http://qcgate.test/dicom-web/studies?access_token=" + goodHS,
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "token in the query after a semicolon", verifier: "all",
			header:  []string{"Bearer " + goodHS},
			url:     "http://qcgate.test/wado?requestType=WADO;access_token=" + goodHS,
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "token in the query under an encoded name", verifier: "all",
			url:     "http://qcgate.test/wado?access%5Ftoken=" + goodHS,
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "basic scheme", verifier: "all", header: []string{"Basic YWxpY2U6c2VjcmV0"},
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "bearer without token", verifier: "all", header: []string{"Bearer"},
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "bearer with two tokens", verifier: "all", header: []string{"Bearer a b"},
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "two authorization headers", verifier: "all",
			header:  []string{"Bearer " + goodHS, "Bearer " + goodHS},
			wantErr: ErrMalformedRequest, wantCode: CodeInvalidRequest},
		{name: "not a JWT", verifier: "all", header: []string{"Bearer abc.def"},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "expired", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "exp", now.Add(-time.Minute).Unix()))},
			wantErr: ErrExpired, wantCode: CodeInvalidToken},
		{name: "no exp", verifier: "all", header: []string{"Bearer " + hs(with(good, "exp", nil))},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "not yet valid", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "nbf", now.Add(2*time.Minute).Unix()))},
			wantErr: ErrNotYetValid, wantCode: CodeInvalidToken},
		{name: "issued in the future", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "iat", now.Add(2*time.Minute).Unix()))},
			wantErr: ErrNotYetValid, wantCode: CodeInvalidToken},
		{name: "wrong issuer", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "iss", "https://evil.example"))},
			wantErr: ErrWrongIssuer, wantCode: CodeInvalidToken},
		{name: "wrong audience", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "aud", []string{"account", "other"}))},
			wantErr: ErrWrongAudience, wantCode: CodeInvalidToken},
		{name: "no audience", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "aud", nil))},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "no subject", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "sub", nil))},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "roles claim not a list", verifier: "all",
			header:  []string{"Bearer " + hs(with(good, "roles", 7))},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "alg none", verifier: "all",
			header: []string{"Bearer " + unsignedToken(t,
				map[string]any{"alg": "none", "typ": "JWT"}, good, "")},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "alg none in other case", verifier: "all",
			header: []string{"Bearer " + unsignedToken(t,
				map[string]any{"alg": "None", "typ": "JWT"}, good, "")},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "HS256 signed with the RSA public key as secret", verifier: "rsa",
			header:  []string{"Bearer " + sign(t, jwt.SigningMethodHS256, rsaPEM, "", good)},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "HS256 signed with the RSA public key, secret also configured", verifier: "all",
			header:  []string{"Bearer " + sign(t, jwt.SigningMethodHS256, rsaPEM, "", good)},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "HS256 signed with the RSA public key, with its kid", verifier: "all",
			header:  []string{"Bearer " + sign(t, jwt.SigningMethodHS256, rsaPEM, rsaKID, good)},
			wantErr: ErrUnknownKey, wantCode: CodeInvalidToken},
		{name: "HS512 with the secret", verifier: "all",
			header:  []string{"Bearer " + sign(t, jwt.SigningMethodHS512, k.secret, "", good)},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "ES256 without EC keys", verifier: "rsa",
			header:  []string{"Bearer " + sign(t, jwt.SigningMethodES256, k.ec, "", good)},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "RS256 by another key", verifier: "all",
			header:  []string{"Bearer " + sign(t, jwt.SigningMethodRS256, k.rsaOther, "", good)},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "unknown kid", verifier: "all",
			header: []string{"Bearer " +
				sign(t, jwt.SigningMethodRS256, k.rsa, "no-such-kid", good)},
			wantErr: ErrUnknownKey, wantCode: CodeInvalidToken},
		{name: "kid not a string", verifier: "all",
			header: []string{"Bearer " + func() string {
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, good)
				tok.Header["kid"] = 42
				s, err := tok.SignedString(k.rsa)
				if err != nil {
					t.Fatalf("signing: %v", err)
				}
				return s
			}()},
			wantErr: ErrUnknownKey, wantCode: CodeInvalidToken},
		{name: "HS256 with a kid", verifier: "all",
			header:  []string{"Bearer " + sign(t, jwt.SigningMethodHS256, k.secret, "k1", good)},
			wantErr: ErrUnknownKey, wantCode: CodeInvalidToken},
		{name: "tampered payload", verifier: "all",
			header: []string{"Bearer " +
				replacePayload(t, goodHS, with(good, "roles", []string{"admin"}))},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "tampered payload of RS256", verifier: "all",
			header: []string{"Bearer " +
				replacePayload(t, rs(good), with(good, "sub", "mallory"))},
			wantErr: ErrInvalidToken, wantCode: CodeInvalidToken},
		{name: "oversized signed token", verifier: "all", header: []string{"Bearer " + tooBig},
			wantErr: ErrTokenTooLarge, wantCode: CodeInvalidToken},
		{name: "oversized garbage refused before parsing", verifier: "all",
			header:  []string{"Bearer " + strings.Repeat("a", DefaultMaxTokenBytes+1)},
			wantErr: ErrTokenTooLarge, wantCode: CodeInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request("")
			if tt.url != "" {
				r = httptest.NewRequest(http.MethodGet, tt.url, nil)
			}
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: "access_token", Value: tt.cookie})
			}

			got, err := verifiers[tt.verifier].Verify(context.Background(), r)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify() error = %v, want nil", err)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Verify() principal mismatch (-want +got):\n%s", diff)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify() = %v, %v; want error %v", got, err, tt.wantErr)
			}
			if got != nil {
				t.Errorf("Verify() principal = %+v, want nil", got)
			}
			ae, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("Verify() error %T is not *Error", err)
			}
			if ae.Code != tt.wantCode {
				t.Errorf("Verify() code = %q, want %q", ae.Code, tt.wantCode)
			}
			if ae.StatusCode() != http.StatusUnauthorized {
				t.Errorf("StatusCode() = %d, want 401", ae.StatusCode())
			}
			for _, h := range tt.header {
				_, tok, _ := strings.Cut(h, " ")
				if len(tok) > 20 && (strings.Contains(err.Error(), tok) ||
					strings.Contains(ae.WWWAuthenticate(), tok)) {
					t.Errorf("error or challenge carries the token: %q", err)
				}
			}
		})
	}
}

// TestVerifyECCurve checks that an ES256 token signed with a P-384 key
// does not verify against a P-256 key of the same verifier.
func TestVerifyECCurve(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, Config{ECPublicKeyFiles: []string{
		writeFile(t, "ec.pem", publicPEM(t, &k.ec.PublicKey)),
	}})
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	tok := sign(t, jwt.SigningMethodES384, p384, "", claimsAt(time.Now(), "bob"))
	if _, err := v.VerifyToken(context.Background(), tok); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("VerifyToken(ES384 token) = %v, want %v", err, ErrInvalidToken)
	}
}

// TestVerifyDisabled checks that a disabled verifier lets every request
// through as the anonymous admin, whatever its header.
func TestVerifyDisabled(t *testing.T) {
	v := newVerifier(t, Config{Disabled: true})
	if !v.Disabled() {
		t.Fatalf("Disabled() = false, want true")
	}
	for _, h := range []string{"", "Bearer garbage"} {
		got, err := v.Verify(context.Background(), request(h))
		if err != nil {
			t.Fatalf("Verify(%q) error = %v", h, err)
		}
		want := &Principal{Subject: AnonymousSubject, Roles: []Role{RoleAdmin}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Verify(%q) mismatch (-want +got):\n%s", h, diff)
		}
	}
}

// TestNewVerifierKeyFiles checks that unusable key files stop the verifier
// from being built.
func TestNewVerifierKeyFiles(t *testing.T) {
	k := keys(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.ec)
	if err != nil {
		t.Fatalf("marshalling private key: %v", err)
	}
	privPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatalf("generating key: %v", err)
	}
	tests := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{name: "no key at all", cfg: Config{}, wantErr: "no key configured"},
		{name: "short secret",
			cfg:     Config{HS256SecretFile: writeFile(t, "s", []byte("short\n"))},
			wantErr: "has 5 bytes, at least 32"},
		{name: "missing secret file", cfg: Config{HS256SecretFile: "/nonexistent/secret"},
			wantErr: "reading HS256 secret"},
		{name: "EC key given as RSA",
			cfg: Config{RSAPublicKeyFiles: []string{
				writeFile(t, "e", publicPEM(t, &k.ec.PublicKey))}},
			wantErr: "not an RSA public key"},
		{name: "P-384 key for ES256",
			cfg: Config{ECPublicKeyFiles: []string{
				writeFile(t, "p", publicPEM(t, &p384.PublicKey))}},
			wantErr: "ES256 needs P-256"},
		{name: "private key",
			cfg:     Config{ECPublicKeyFiles: []string{writeFile(t, "k", privPEM)}},
			wantErr: `"PRIVATE KEY" PEM block`},
		{name: "1024-bit RSA key",
			cfg: Config{RSAPublicKeyFiles: []string{
				writeFile(t, "r", publicPEM(t, &small.PublicKey))}},
			wantErr: "has 1024 bits, at least 2048"},
		{name: "not PEM",
			cfg:     Config{RSAPublicKeyFiles: []string{writeFile(t, "n", []byte("hello"))}},
			wantErr: "no PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerifier(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewVerifier() = %v, %v; want error containing %q", v, err, tt.wantErr)
			}
		})
	}
}

// TestKeyFileFormats checks that an RSA key is read from each PEM form a
// provider hands out: PKIX, PKCS #1 and a certificate.
func TestKeyFileFormats(t *testing.T) {
	k := keys(t)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "idp.example"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.rsa.PublicKey, k.rsa)
	if err != nil {
		t.Fatalf("creating certificate: %v", err)
	}
	forms := map[string][]byte{
		"PKIX": publicPEM(t, &k.rsa.PublicKey),
		"PKCS #1": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY",
			Bytes: x509.MarshalPKCS1PublicKey(&k.rsa.PublicKey)}),
		"certificate": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER}),
	}
	tok := sign(t, jwt.SigningMethodRS256, k.rsa, "", claimsAt(time.Now(), "frank"))
	for name, data := range forms {
		t.Run(name, func(t *testing.T) {
			v := newVerifier(t, Config{RSAPublicKeyFiles: []string{writeFile(t, "k.pem", data)}})
			got, err := v.VerifyToken(context.Background(), tok)
			if err != nil {
				t.Fatalf("VerifyToken() = %v", err)
			}
			if got.Subject != "frank" {
				t.Errorf("VerifyToken() subject = %q, want frank", got.Subject)
			}
		})
	}
}
