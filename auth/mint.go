package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// MaxMintTTL is the longest lifetime [Mint] gives a token.
const MaxMintTTL = 30 * 24 * time.Hour

// Mint signs an HS256 token for the demo, tests and small sites: sub, the
// roles under the "roles" claim, iat and nbf now, exp after ttl, and iss
// and aud when not empty. It has no kid. The secret must have at least
// [MinSecretBytes] bytes, the roles must be known, and ttl must be positive
// and at most [MaxMintTTL].
func Mint(secret []byte, sub string, roles []string, ttl time.Duration,
	issuer, audience string) (string, error) {
	var errs []error
	if len(secret) < MinSecretBytes {
		errs = append(errs, fmt.Errorf("secret has %d bytes, at least %d are required",
			len(secret), MinSecretBytes))
	}
	if sub == "" {
		errs = append(errs, errors.New("subject is empty"))
	}
	if ttl <= 0 || ttl > MaxMintTTL {
		errs = append(errs, fmt.Errorf("lifetime %s is outside (0, %s]", ttl, MaxMintTTL))
	}
	names := make([]string, 0, len(roles))
	for _, name := range roles {
		r, err := ParseRole(name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		names = append(names, string(r))
	}
	if err := errors.Join(errs...); err != nil {
		return "", fmt.Errorf("minting token: %w", err)
	}

	now := time.Now()
	claims := jwt.MapClaims{
		"sub":             sub,
		DefaultRolesClaim: names,
		"iat":             now.Unix(),
		"nbf":             now.Unix(),
		"exp":             now.Add(ttl).Unix(),
	}
	if issuer != "" {
		claims["iss"] = issuer
	}
	if audience != "" {
		claims["aud"] = audience
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return s, nil
}
