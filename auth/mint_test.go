package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
)

// TestMint checks that a minted token verifies with the same secret and
// carries the requested claims, and that bad input is refused.
func TestMint(t *testing.T) {
	k := keys(t)
	v := newVerifier(t, Config{
		HS256SecretFile: writeFile(t, "secret", k.secret),
		Issuer:          testIssuer,
		Audience:        testAudience,
	})

	tok, err := Mint(k.secret, "ann", []string{"annotator", "reviewer"}, time.Hour,
		testIssuer, testAudience)
	if err != nil {
		t.Fatalf("Mint() = %v", err)
	}
	got, err := v.VerifyToken(context.Background(), tok)
	if err != nil {
		t.Fatalf("VerifyToken(minted) = %v", err)
	}
	want := &Principal{Subject: "ann", Roles: []Role{RoleAnnotator, RoleReviewer}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("VerifyToken(minted) mismatch (-want +got):\n%s", diff)
	}

	// Read the claims back without the verifier, to check what it ignores.
	claims := jwt.MapClaims{}
	parsed, _, err := jwt.NewParser().ParseUnverified(tok, claims)
	if err != nil {
		t.Fatalf("ParseUnverified() = %v", err)
	}
	if alg := parsed.Header["alg"]; alg != "HS256" {
		t.Errorf("alg = %v, want HS256", alg)
	}
	if _, ok := parsed.Header["kid"]; ok {
		t.Errorf("header has a kid, want none")
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if d := exp.Sub(iat.Time); d != time.Hour {
		t.Errorf("exp - iat = %s, want 1h", d)
	}
	if d := time.Since(iat.Time); d < -time.Second || d > time.Minute {
		t.Errorf("iat is %s from now, want about now", d)
	}

	otherSecret := []byte(strings.Repeat("z", 32))
	other, err := Mint(otherSecret, "ann", nil, time.Hour, testIssuer, testAudience)
	if err != nil {
		t.Fatalf("Mint(other secret) = %v", err)
	}
	if _, err := v.VerifyToken(context.Background(), other); err == nil {
		t.Errorf("VerifyToken(token of another secret) = nil, want an error")
	}
}

// TestMintErrors checks that Mint names every problem of its input.
func TestMintErrors(t *testing.T) {
	secret := []byte(strings.Repeat("s", 32))
	tests := []struct {
		name   string
		secret []byte
		sub    string
		roles  []string
		ttl    time.Duration
		want   []string
	}{
		{"short secret", secret[:31], "a", nil, time.Hour, []string{"31 bytes"}},
		{"no subject", secret, "", nil, time.Hour, []string{"subject is empty"}},
		{"zero ttl", secret, "a", nil, 0, []string{"lifetime 0s"}},
		{"ttl too long", secret, "a", nil, 31 * 24 * time.Hour, []string{"lifetime 744h0m0s"}},
		{"unknown role", secret, "a", []string{"viewer", "root"}, time.Hour,
			[]string{`unknown role: "root"`}},
		{"everything", nil, "", []string{"x"}, -time.Second,
			[]string{"0 bytes", "subject is empty", "lifetime -1s", `"x"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := Mint(tt.secret, tt.sub, tt.roles, tt.ttl, "", "")
			if err == nil {
				t.Fatalf("Mint() = %q, nil; want an error", tok)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Mint() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}
