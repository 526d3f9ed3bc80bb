package auth

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults of [Config], applied by [Config.WithDefaults].
const (
	DefaultRolesClaim             = "roles"
	DefaultLeeway                 = 30 * time.Second
	DefaultMaxTokenBytes          = 8 << 10
	DefaultJWKSRefreshInterval    = time.Hour
	DefaultJWKSMinRefreshInterval = 30 * time.Second

	// MaxLeeway is the largest leeway [Config.Validate] accepts.
	MaxLeeway = 5 * time.Minute
	// MinSecretBytes is the shortest HS256 secret accepted: 256 bits, the
	// size of the hash output, as RFC 7518 section 3.2 requires.
	MinSecretBytes = 32
	// MinRSABits is the smallest RSA modulus accepted (RFC 7518 section 3.3).
	MinRSABits = 2048
)

// Config holds the settings of authentication, the auth section of the
// gateway's configuration (keys auth.*, environment QCGATE_AUTH_*, see
// [Config.ApplyEnv]). At least one key source must be set unless Disabled
// is; several may be set together.
type Config struct {
	// Disabled switches authentication off: every request is let through as
	// an anonymous admin. It must be set explicitly; the gateway logs a
	// warning when it is. Default false.
	Disabled bool `yaml:"disabled"`

	// HS256SecretFile is a file holding the shared HS256 secret, at least
	// 32 bytes; a final line break is not part of it. Tokens signed with it
	// must use HS256 and carry no kid. Empty: no shared secret.
	HS256SecretFile string `yaml:"hs256_secret_file"`
	// RSAPublicKeyFiles are PEM files of RSA public keys ("PUBLIC KEY" or
	// "RSA PUBLIC KEY" blocks, or certificates), at least 2048 bits, for
	// RS256 tokens. Empty: none.
	RSAPublicKeyFiles []string `yaml:"rsa_public_key_files"`
	// ECPublicKeyFiles are PEM files of P-256 public keys ("PUBLIC KEY"
	// blocks or certificates) for ES256 tokens. Empty: none.
	ECPublicKeyFiles []string `yaml:"ec_public_key_files"`
	// JWKSURL is the JWK Set of an OpenID Connect provider, for example
	// https://keycloak.example/realms/R/protocol/openid-connect/certs. Keys
	// are cached, refreshed every JWKSRefreshInterval, and fetched again
	// when a token names an unknown kid. It must be https, or http to a
	// loopback address, unless JWKSAllowHTTP is set. Empty: no JWKS.
	JWKSURL string `yaml:"jwks_url"`
	// JWKSAllowHTTP allows a JWKS URL of plain http to any host, for a
	// provider inside a private network. Anyone who can alter that traffic
	// can mint tokens. Default false.
	JWKSAllowHTTP bool `yaml:"jwks_allow_http"`
	// JWKSRefreshInterval is how often the JWK Set is fetched again. Zero
	// means one hour.
	JWKSRefreshInterval time.Duration `yaml:"jwks_refresh_interval"`
	// JWKSMinRefreshInterval is the shortest time between two fetches
	// caused by tokens naming an unknown kid, so that forged kids cannot
	// flood the provider. Zero means 30 seconds.
	JWKSMinRefreshInterval time.Duration `yaml:"jwks_min_refresh_interval"`

	// Issuer is the required iss claim, compared exactly. Required with
	// JWKSURL. Empty: the issuer is not checked.
	Issuer string `yaml:"issuer"`
	// Audience is a value the aud claim must hold. Required with JWKSURL
	// and whenever Issuer is set: a provider issues tokens for many
	// applications, and only the audience tells ours apart. Empty: the
	// audience is not checked.
	Audience string `yaml:"audience"`
	// RolesClaim is the dotted path of the claim holding the roles, for
	// example realm_access.roles for Keycloak realm roles. Empty means
	// "roles".
	RolesClaim string `yaml:"roles_claim"`
	// Leeway is the clock skew allowed on exp, nbf and iat. Zero means
	// 30 seconds; at most 5 minutes.
	Leeway time.Duration `yaml:"leeway"`
	// MaxTokenBytes is the longest token accepted, in bytes; longer ones
	// are refused before parsing. Zero means 8 KiB.
	MaxTokenBytes int `yaml:"max_token_bytes"`

	// MetricsPublic lets /metrics through without a token. The gateway reads
	// it; this package does not. Default false: /metrics needs a token with
	// the auditor role.
	MetricsPublic bool `yaml:"metrics_public"`
}

// WithDefaults returns a copy of c with the zero values replaced by their
// defaults.
func (c Config) WithDefaults() Config {
	if c.RolesClaim == "" {
		c.RolesClaim = DefaultRolesClaim
	}
	if c.Leeway == 0 {
		c.Leeway = DefaultLeeway
	}
	if c.MaxTokenBytes == 0 {
		c.MaxTokenBytes = DefaultMaxTokenBytes
	}
	if c.JWKSRefreshInterval == 0 {
		c.JWKSRefreshInterval = DefaultJWKSRefreshInterval
	}
	if c.JWKSMinRefreshInterval == 0 {
		c.JWKSMinRefreshInterval = DefaultJWKSMinRefreshInterval
	}
	return c
}

// hasKeys reports whether c names at least one key source.
func (c Config) hasKeys() bool {
	return c.HS256SecretFile != "" || len(c.RSAPublicKeyFiles) > 0 ||
		len(c.ECPublicKeyFiles) > 0 || c.JWKSURL != ""
}

// Validate reports every problem of c at once, each wrapping
// [ErrInvalidConfig]. It reads no file and changes nothing; files are read
// by [NewVerifier].
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...))
	}

	if !c.Disabled && !c.hasKeys() {
		bad("no key configured: set auth.hs256_secret_file, auth.rsa_public_key_files, " +
			"auth.ec_public_key_files or auth.jwks_url, or auth.disabled: true")
	}
	for _, f := range slices.Concat(c.RSAPublicKeyFiles, c.ECPublicKeyFiles) {
		if strings.TrimSpace(f) == "" {
			bad("public key files: an entry is empty")
		}
	}
	if c.JWKSURL != "" {
		if err := checkJWKSURL(c.JWKSURL, c.JWKSAllowHTTP); err != nil {
			bad("auth.jwks_url: %w", err)
		}
		if c.Issuer == "" {
			bad("auth.issuer: required with auth.jwks_url")
		}
	}
	if c.Audience == "" && (c.JWKSURL != "" || c.Issuer != "") {
		bad("auth.audience: required with auth.jwks_url or auth.issuer")
	}
	if c.RolesClaim != "" && slices.Contains(strings.Split(c.RolesClaim, "."), "") {
		bad("auth.roles_claim: %q has an empty path element", c.RolesClaim)
	}
	if c.Leeway < 0 || c.Leeway > MaxLeeway {
		bad("auth.leeway: %s is outside 0 to %s", c.Leeway, MaxLeeway)
	}
	if c.MaxTokenBytes < 0 {
		bad("auth.max_token_bytes: %d is negative", c.MaxTokenBytes)
	}
	if c.JWKSRefreshInterval < 0 {
		bad("auth.jwks_refresh_interval: %s is negative", c.JWKSRefreshInterval)
	}
	if c.JWKSMinRefreshInterval < 0 {
		bad("auth.jwks_min_refresh_interval: %s is negative", c.JWKSMinRefreshInterval)
	}
	return errors.Join(errs...)
}

// checkJWKSURL requires an absolute https URL, or http to a loopback
// address, or any http URL when allowHTTP is set.
func checkJWKSURL(raw string, allowHTTP bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("parsing: %w", err)
	}
	if u.Host == "" {
		return errors.New("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowHTTP || isLoopback(u.Hostname()) {
			return nil
		}
		return errors.New("http to a host that is not loopback: use https " +
			"or set auth.jwks_allow_http")
	default:
		return fmt.Errorf("scheme %q is not https", u.Scheme)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Environment variables read by [Config.ApplyEnv].
const (
	EnvDisabled               = "QCGATE_AUTH_DISABLED"
	EnvHS256SecretFile        = "QCGATE_AUTH_HS256_SECRET_FILE"
	EnvRSAPublicKeyFiles      = "QCGATE_AUTH_RSA_PUBLIC_KEY_FILES"
	EnvECPublicKeyFiles       = "QCGATE_AUTH_EC_PUBLIC_KEY_FILES"
	EnvJWKSURL                = "QCGATE_AUTH_JWKS_URL"
	EnvJWKSAllowHTTP          = "QCGATE_AUTH_JWKS_ALLOW_HTTP"
	EnvJWKSRefreshInterval    = "QCGATE_AUTH_JWKS_REFRESH_INTERVAL"
	EnvJWKSMinRefreshInterval = "QCGATE_AUTH_JWKS_MIN_REFRESH_INTERVAL"
	EnvIssuer                 = "QCGATE_AUTH_ISSUER"
	EnvAudience               = "QCGATE_AUTH_AUDIENCE"
	EnvRolesClaim             = "QCGATE_AUTH_ROLES_CLAIM"
	EnvLeeway                 = "QCGATE_AUTH_LEEWAY"
	EnvMaxTokenBytes          = "QCGATE_AUTH_MAX_TOKEN_BYTES"
	EnvMetricsPublic          = "QCGATE_AUTH_METRICS_PUBLIC"
)

// ApplyEnv overrides the fields of c whose QCGATE_AUTH_* variable is set,
// looked up with lookup (os.LookupEnv in the gateway). Lists are separated
// by commas, booleans are parsed by [strconv.ParseBool], durations by
// [time.ParseDuration]. It reports every unreadable value at once.
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	var errs []error
	str := func(name string, dst *string) {
		if v, ok := lookup(name); ok {
			*dst = v
		}
	}
	list := func(name string, dst *[]string) {
		if v, ok := lookup(name); ok {
			*dst = splitList(v)
		}
	}
	boolean := func(name string, dst *bool) {
		if v, ok := lookup(name); ok {
			b, err := strconv.ParseBool(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, name, err))
			}
			*dst = b
		}
	}
	duration := func(name string, dst *time.Duration) {
		if v, ok := lookup(name); ok {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, name, err))
			}
			*dst = d
		}
	}

	boolean(EnvDisabled, &c.Disabled)
	str(EnvHS256SecretFile, &c.HS256SecretFile)
	list(EnvRSAPublicKeyFiles, &c.RSAPublicKeyFiles)
	list(EnvECPublicKeyFiles, &c.ECPublicKeyFiles)
	str(EnvJWKSURL, &c.JWKSURL)
	boolean(EnvJWKSAllowHTTP, &c.JWKSAllowHTTP)
	duration(EnvJWKSRefreshInterval, &c.JWKSRefreshInterval)
	duration(EnvJWKSMinRefreshInterval, &c.JWKSMinRefreshInterval)
	str(EnvIssuer, &c.Issuer)
	str(EnvAudience, &c.Audience)
	str(EnvRolesClaim, &c.RolesClaim)
	duration(EnvLeeway, &c.Leeway)
	if v, ok := lookup(EnvMaxTokenBytes); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrInvalidConfig, EnvMaxTokenBytes, err))
		}
		c.MaxTokenBytes = n
	}
	boolean(EnvMetricsPublic, &c.MetricsPublic)
	return errors.Join(errs...)
}

// splitList splits a comma-separated list, dropping blanks around items
// and empty items.
func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
