package gateway

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/qcgate/qcgate/auth"
)

// Upstream kinds, the values of [Config.UpstreamKind].
const (
	// UpstreamOrthanc is an Orthanc server with its DICOMweb plugin: the
	// gateway may tag accepted SEGs through Orthanc's REST API.
	UpstreamOrthanc = "orthanc"
	// UpstreamDICOMweb is any other DICOMweb origin server.
	UpstreamDICOMweb = "dicomweb"
)

// Ways accepted SEGs are stored, the values of [Config.SEGStore].
const (
	// SEGStoreSTOW appends accepted SEGs to the upstream STOW-RS request.
	SEGStoreSTOW = "stow"
	// SEGStoreOrthancREST stores accepted SEGs with Orthanc's REST API
	// (POST /instances) as the gateway's user, which the Orthanc SEG filter
	// of docker/ requires: Orthanc does not tell who sent a STOW-RS
	// request to its filters.
	SEGStoreOrthancREST = "orthanc_rest"
)

// envPrefix starts the name of every environment variable the gateway
// reads: the setting's YAML key in upper case, so listen is QCGATE_LISTEN.
const envPrefix = "QCGATE_"

// Config holds every setting of "qcgate serve". Its YAML keys are the
// names of the settings; the same names in upper case with the QCGATE_
// prefix are environment variables, and with dashes for underscores they
// are flags. [DefaultConfig] gives the defaults.
type Config struct {
	// Listen is the host:port the gateway listens on. Default
	// 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// Upstream is the DICOMweb root URL of the archive, for example
	// http://127.0.0.1:8042/dicom-web. Required.
	Upstream string `yaml:"upstream"`
	// UpstreamKind is "orthanc" (default) or "dicomweb".
	UpstreamKind string `yaml:"upstream_kind"`
	// UpstreamWADOURI is the WADO-URI endpoint (PS3.18 9) that /wado is
	// passed to. Empty (default) means the upstream's origin plus "/wado",
	// where Orthanc serves it.
	UpstreamWADOURI string `yaml:"upstream_wado_uri"`
	// OrthancRoot is the root of Orthanc's REST API, used only to tag SEGs.
	// Empty (default) means the upstream URL without its last path segment.
	OrthancRoot string `yaml:"orthanc_root"`
	// UpstreamUser is the HTTP Basic user the gateway sends upstream;
	// empty (default) sends no credentials.
	UpstreamUser string `yaml:"upstream_user"`
	// UpstreamPassword is the upstream password. It comes only from the
	// environment (QCGATE_UPSTREAM_PASSWORD) or from UpstreamPasswordFile,
	// never from the YAML file, and is redacted when printed or logged.
	UpstreamPassword Secret `yaml:"-"`
	// UpstreamPasswordFile is a file holding the upstream password (one
	// line; a final newline is dropped). Empty (default) means none.
	UpstreamPasswordFile string `yaml:"upstream_password_file"`
	// UpstreamTimeout bounds the wait for the upstream's answer headers
	// after a request was sent, and whole metadata lookups. Default 30s.
	UpstreamTimeout time.Duration `yaml:"upstream_timeout"`
	// SEGStore is how accepted SEGs reach the archive: "stow" (default),
	// in the upstream STOW-RS request with the other parts, or
	// "orthanc_rest", with Orthanc's REST API, which the Orthanc SEG filter
	// (docker/orthanc-seg-filter.lua) needs. orthanc_rest needs
	// upstream_kind orthanc.
	SEGStore string `yaml:"seg_store"`
	// OrthancTagging writes each accepted SEG's decision and report ID as
	// Orthanc user metadata. Default: on when UpstreamKind is orthanc.
	OrthancTagging *bool `yaml:"orthanc_tagging"`
	// Store is where reports are kept: an SQLite file path (default
	// ./qcgate.db) or "sqlite:PATH".
	Store string `yaml:"store"`
	// Profile is a QC profile file; empty (default) means the built-in
	// profile. Without default_profile it is the default.
	Profile string `yaml:"profile"`
	// ProfilesDir is a folder whose *.yaml and *.yml files are QC profiles,
	// chosen per SEG by project (/projects/{name}/dicom-web), then by the
	// SEG's Clinical Trial Protocol ID (0012,0020), else the default.
	// Empty (default) means none.
	ProfilesDir string `yaml:"profiles_dir"`
	// DefaultProfile names the profile of SEGs no project or protocol
	// selects. Empty (default) means the profile file's, else the built-in
	// profile.
	DefaultProfile string `yaml:"default_profile"`
	// MaxSEGPartBytes bounds one SEG part of a STOW-RS request, which the
	// gateway holds in memory to check it; larger ones get 413. Bytes, with
	// an optional unit (KiB, MiB, GiB, KB, MB, GB). Default 512MiB.
	MaxSEGPartBytes ByteSize `yaml:"max_seg_part_bytes"`
	// MaxHeldBytes bounds the SEG parts held in memory at once by all
	// STOW-RS requests together, in bytes with an optional unit; a part
	// that finds no room within HeldWait fails with Failure Reason A700
	// (out of resources, PS3.18 10.5.3), and the request goes on with its
	// other parts. Default 1GiB; it must be at least max_seg_part_bytes.
	MaxHeldBytes ByteSize `yaml:"max_held_bytes"`
	// HeldWait is how long a SEG part waits for room under MaxHeldBytes
	// before it fails. Default 30s; 0 means it fails at once.
	HeldWait time.Duration `yaml:"held_wait"`
	// MaxRequestBytes bounds a whole STOW-RS request body, in bytes with an
	// optional unit, counted both as sent and after decoding its
	// Content-Encoding, so a small gzip body cannot inflate past it; 0
	// (default) means no limit. Non-SEG parts stream through, so a large
	// request does not need memory: max_seg_part_bytes and max_held_bytes
	// bound what is held whatever this is.
	MaxRequestBytes ByteSize `yaml:"max_request_bytes"`
	// BodyIdleTimeout ends a request whose body stops arriving: no byte
	// for this long gives 408. It bounds the wait for each read, not the
	// whole upload, so a long upload that keeps moving is never cut.
	// Default 60s; 0 turns it off.
	BodyIdleTimeout time.Duration `yaml:"body_idle_timeout"`
	// PublicURL is the gateway's external base URL, for example
	// https://pacs.example.org, which Retrieve URLs and BulkDataURIs in
	// answers start with. Empty (default) means the scheme and Host of each
	// request.
	PublicURL string `yaml:"public_url"`

	// QC status and web pages (qcstatus.go, web.go).

	// QCStatusDescription prefixes the Series Description of SEG series
	// in QIDO-RS and metadata answers with their QC status. Nil (default)
	// means true.
	QCStatusDescription *bool `yaml:"qc_status_description"`
	// QCStatusPrivate adds the QCGATE private block (decision, review
	// state, report URL) to SEG series and instances in DICOM JSON
	// answers. Nil (default) means true.
	QCStatusPrivate *bool `yaml:"qc_status_private"`
	// QCStatusFormat is the Series Description prefix, in which {status}
	// stands for the status words ("ok", "2 warnings", "in review").
	// Empty (default) means "[QC {status}] ".
	QCStatusFormat string `yaml:"qc_status_format"`
	// OHIFDir is the dist/ folder of the OHIF viewer (npm package
	// @ohif/app) to serve at the gateway's root. Empty (default) serves
	// no viewer.
	OHIFDir string `yaml:"ohif_dir"`
	// OHIFOIDCIssuer and OHIFOIDCClientID are the OpenID Connect provider
	// and client the viewer signs in with; both empty (default) means the
	// viewer does not sign in itself.
	OHIFOIDCIssuer   string `yaml:"ohif_oidc_issuer"`
	OHIFOIDCClientID string `yaml:"ohif_oidc_client_id"`
	// LogLevel is debug, info (default), warn or error.
	LogLevel string `yaml:"log_level"`
	// LogUIDs lets access records and logs carry DICOM UIDs. Default false:
	// UIDs can identify a patient's study, so they are left out.
	LogUIDs bool `yaml:"log_uids"`
	// MetadataCacheSize is how many series' WADO-RS metadata the gateway
	// keeps for SEG checks. Default 256; 0 turns the cache off.
	MetadataCacheSize int `yaml:"metadata_cache_size"`
	// MetadataCacheTTL is how long cached series metadata is used. Default
	// 5m.
	MetadataCacheTTL time.Duration `yaml:"metadata_cache_ttl"`
	// ReadHeaderTimeout bounds the reading of a client's request headers.
	// Default 10s.
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	// ShutdownTimeout is how long a shutdown waits for in-flight requests,
	// such as a STOW-RS upload, to finish. Default 60s.
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	// MaxHeaderBytes bounds the request line and headers of a client's
	// request, in bytes with an optional unit; larger ones get 431.
	// Default 64KiB.
	MaxHeaderBytes ByteSize `yaml:"max_header_bytes"`
	// RateLimit is the sustained number of requests per second one client
	// may send: the token subject when the request carries a valid token,
	// else the client's IP address. Requests over it get 429 with a
	// Retry-After header; a QC verdict never does. Default 200 (a viewer
	// loading a series frame by frame stays under it); 0 turns the limit
	// off. /healthz and /readyz are not limited.
	RateLimit float64 `yaml:"rate_limit"`
	// RateBurst is how many requests a client may send at once above
	// RateLimit. Default 1000.
	RateBurst int `yaml:"rate_burst"`
	// Auth holds authentication: keys, issuer, audience, roles claim (see
	// [auth.Config]). Its keys are under "auth:" in YAML; as environment
	// variables and flags they are prefixed, for example
	// QCGATE_AUTH_HS256_SECRET_FILE and --auth-hs256-secret-file. With no
	// key configured the gateway does not start, unless auth.disabled is
	// true.
	Auth auth.Config `yaml:"auth"`
	// Review holds the review workflow (see [ReviewConfig]); its keys are
	// under "review:" in YAML, QCGATE_REVIEW_* and --review-* otherwise.
	Review ReviewConfig `yaml:"review"`
}

// DefaultConfig returns the defaults of every setting.
func DefaultConfig() *Config {
	return &Config{
		Listen:            "127.0.0.1:8080",
		UpstreamKind:      UpstreamOrthanc,
		SEGStore:          SEGStoreSTOW,
		UpstreamTimeout:   30 * time.Second,
		Store:             "./qcgate.db",
		MaxSEGPartBytes:   512 * MiB,
		MaxHeldBytes:      GiB,
		HeldWait:          30 * time.Second,
		BodyIdleTimeout:   60 * time.Second,
		LogLevel:          "info",
		MetadataCacheSize: 256,
		MetadataCacheTTL:  5 * time.Minute,
		ReadHeaderTimeout: 10 * time.Second,
		ShutdownTimeout:   60 * time.Second,
		MaxHeaderBytes:    64 * KiB,
		RateLimit:         200,
		RateBurst:         1000,
	}
}

// LoadOptions says where [LoadConfig] reads settings from, in increasing
// precedence.
type LoadOptions struct {
	// File is a YAML config file; empty means none.
	File string
	// Env holds "NAME=value" pairs, as [os.Environ] returns them; only
	// QCGATE_ names of settings are read. Other QCGATE_ names belong to
	// other commands and scripts and are ignored, except one that is a
	// near miss of a setting's, which is an error. Nil means no
	// environment.
	Env []string
	// Flags maps setting names (the YAML keys) to values given on the
	// command line; they win over everything else.
	Flags map[string]string
}

// LoadConfig builds a configuration from the defaults, then the file, then
// QCGATE_ environment variables, then flags, reads the password file if
// one is named, and validates the result. Its error lists every problem.
func LoadConfig(opts LoadOptions) (*Config, error) {
	c := DefaultConfig()
	var errs []error
	if opts.File != "" {
		if err := c.decodeFile(opts.File); err != nil {
			return nil, err
		}
	}

	// Environment variables, then flags, each a string set by name.
	errs = append(errs, c.applyEnv(opts.Env)...)
	flagKeys := make([]string, 0, len(opts.Flags))
	for k := range opts.Flags {
		flagKeys = append(flagKeys, k)
	}
	slices.Sort(flagKeys)
	for _, k := range flagKeys {
		if err := c.Set(k, opts.Flags[k]); err != nil {
			errs = append(errs, fmt.Errorf("flag --%s: %w", flagName(k), err))
		}
	}

	// The password file is read once every source has had its say.
	if c.UpstreamPasswordFile != "" && c.UpstreamPassword == "" {
		b, err := os.ReadFile(c.UpstreamPasswordFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("upstream_password_file: %w", err))
		} else {
			c.UpstreamPassword = Secret(strings.TrimRight(string(b), "\r\n"))
		}
	} else if c.UpstreamPasswordFile != "" {
		errs = append(errs, errors.New("upstream_password and upstream_password_file: "+
			"both set: give only one"))
	}
	if err := c.Review.readAuditSeedFile(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return c, nil
}

// applyEnv sets c from QCGATE_ environment variables.
func (c *Config) applyEnv(env []string) []error {
	var errs []error
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, envPrefix) {
			continue
		}
		key := strings.ToLower(strings.TrimPrefix(name, envPrefix))
		if key == "upstream_password" {
			c.UpstreamPassword = Secret(value)
			continue
		}
		if isReviewSecret(key) {
			c.Review.AuditSeed = Secret(value)
			continue
		}
		err := c.Set(key, value)
		if errors.Is(err, ErrUnknownSetting) && (strings.HasPrefix(key, authPrefix) ||
			strings.HasPrefix(key, reviewPrefix)) {
			// QCGATE_AUTH_ belongs to the gateway alone: a name it does not
			// know is a mistake, never another component's variable.
			errs = append(errs, fmt.Errorf("environment %s: %w", name, err))
			continue
		}
		if errors.Is(err, ErrUnknownSetting) {
			// Other parts of qcgate and its scripts have QCGATE_ variables
			// of their own; only a near miss of a setting is an error.
			if near := nearestSetting(key); near != "" {
				errs = append(errs, fmt.Errorf("environment %s: %w: did you mean %s?", name,
					ErrUnknownSetting, EnvName(near)))
			}
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %w", name, err))
		}
	}
	return errs
}

// decodeFile reads a YAML file into c, refusing unknown keys.
func (c *Config) decodeFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: reading %s: %w", ErrConfig, path, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%w: %s: %w", ErrConfig, path, err)
	}
	return nil
}

// authPrefix starts the setting names of the auth section, as
// environment variables and flags know them: auth.hs256_secret_file of the
// YAML file is the setting auth_hs256_secret_file.
const authPrefix = "auth_"

// Settings returns the names of every setting, in the order of [Config]'s
// fields, as YAML keys; the keys of the auth section follow with the
// "auth_" prefix. The password is not among them: it has no key.
func Settings() []string {
	t := reflect.TypeFor[Config]()
	var keys []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" && k != "auth" && k != "review" {
			keys = append(keys, k)
		}
	}
	return append(append(keys, authSettings()...), reviewSettings()...)
}

// authSettings returns the names of the auth section's settings.
func authSettings() []string {
	t := reflect.TypeFor[auth.Config]()
	var keys []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			keys = append(keys, authPrefix+k)
		}
	}
	return keys
}

// Set sets the setting named key (its YAML key) from its text form, as an
// environment variable or flag gives it. Booleans take strconv.ParseBool's
// forms, durations time.ParseDuration's, sizes [ParseByteSize]'s.
func (c *Config) Set(key, value string) error {
	if strings.HasPrefix(key, authPrefix) {
		return c.setAuth(key, value)
	}
	if strings.HasPrefix(key, reviewPrefix) {
		return c.setReview(key, value)
	}
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != key || k == "auth" || k == "review" {
			continue
		}
		if err := setField(v.Field(i), value); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnknownSetting, key)
}

// setAuth sets a setting of the auth section through [auth.Config.ApplyEnv],
// which parses it as it parses the environment.
func (c *Config) setAuth(key, value string) error {
	if !slices.Contains(authSettings(), key) {
		return fmt.Errorf("%w: %q", ErrUnknownSetting, key)
	}
	name := EnvName(key)
	err := c.Auth.ApplyEnv(func(n string) (string, bool) {
		return value, n == name
	})
	if err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// setField parses value into f according to f's type.
func setField(f reflect.Value, value string) error {
	switch p := f.Addr().Interface().(type) {
	case *string:
		*p = value
	case *bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", value)
		}
		*p = b
	case **bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("%q is not a boolean", value)
		}
		*p = &b
	case *int:
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("%q is not an integer", value)
		}
		*p = n
	case *float64:
		n, err := strconv.ParseFloat(value, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", value)
		}
		*p = n
	case *time.Duration:
		d, err := time.ParseDuration(value)
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 30s or 5m", value)
		}
		*p = d
	case *ByteSize:
		n, err := ParseByteSize(value)
		if err != nil {
			return err
		}
		*p = n
	default:
		// Programmer error: a Config field of a type not handled here.
		panic(fmt.Sprintf("gateway: setting of unhandled type %s", f.Type()))
	}
	return nil
}

// yamlKey returns the YAML key of a Config field, or "" when it has none.
func yamlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if k == "-" {
		return ""
	}
	return k
}

// nearestSetting returns the setting whose name is at most two edits away
// from key, or "".
func nearestSetting(key string) string {
	best, bestDist := "", 3
	for _, k := range append(Settings(), "upstream_password", reviewPrefix+"audit_seed") {
		if d := editDistance(key, k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// flagName returns the command-line flag name of a setting.
func flagName(key string) string { return strings.ReplaceAll(key, "_", "-") }

// FlagName returns the command-line flag of the setting named key, for
// example "max-seg-part-bytes" for max_seg_part_bytes.
func FlagName(key string) string { return flagName(key) }

// EnvName returns the environment variable of the setting named key, for
// example QCGATE_LISTEN for listen.
func EnvName(key string) string { return envPrefix + strings.ToUpper(key) }

// Validate checks every setting and reports all problems at once, each as
// "setting: what is wrong: what is required". It changes nothing.
func (c *Config) Validate() error { return c.validate(true) }

// validate is [Config.Validate], with the auth section checked only when
// withAuth is set: a caller that gives its own verifier has its own.
func (c *Config) validate(withAuth bool) error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}

	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen %q: %w: must be host:port", c.Listen, err)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		bad("listen %q: port must be a number from 0 to 65535", c.Listen)
	}
	if c.Upstream == "" {
		bad("upstream: missing: the upstream DICOMweb root URL is required")
	} else if err := checkBaseURL(c.Upstream); err != nil {
		bad("upstream %q: %w", c.Upstream, err)
	}
	if c.UpstreamKind != UpstreamOrthanc && c.UpstreamKind != UpstreamDICOMweb {
		bad("upstream_kind %q: must be %s or %s", c.UpstreamKind, UpstreamOrthanc,
			UpstreamDICOMweb)
	}
	for key, u := range map[string]string{"upstream_wado_uri": c.UpstreamWADOURI,
		"orthanc_root": c.OrthancRoot, "public_url": c.PublicURL} {
		if u == "" {
			continue
		}
		if err := checkBaseURL(u); err != nil {
			bad("%s %q: %w", key, u, err)
		}
	}
	switch {
	case c.SEGStore != SEGStoreSTOW && c.SEGStore != SEGStoreOrthancREST:
		bad("seg_store %q: must be %s or %s", c.SEGStore, SEGStoreSTOW, SEGStoreOrthancREST)
	case c.SEGStore == SEGStoreOrthancREST && c.UpstreamKind != UpstreamOrthanc:
		bad("seg_store %s with upstream_kind %q: needs upstream_kind orthanc",
			c.SEGStore, c.UpstreamKind)
	}
	if c.UpstreamPassword != "" && c.UpstreamUser == "" {
		bad("upstream_user: missing: required when an upstream password is set")
	}
	if c.OrthancTagging != nil && *c.OrthancTagging && c.UpstreamKind != UpstreamOrthanc {
		bad("orthanc_tagging: on with upstream_kind %q: needs upstream_kind orthanc",
			c.UpstreamKind)
	}
	if c.UpstreamTimeout <= 0 {
		bad("upstream_timeout %s: must be positive", c.UpstreamTimeout)
	}
	if c.Store == "" {
		bad("store: missing: an SQLite file path is required")
	}
	if c.MaxSEGPartBytes <= 0 {
		bad("max_seg_part_bytes %d: must be positive", c.MaxSEGPartBytes)
	}
	if c.MaxHeldBytes < c.MaxSEGPartBytes {
		bad("max_held_bytes %d: must be at least max_seg_part_bytes (%d), or no SEG of "+
			"that size could ever be held", c.MaxHeldBytes, c.MaxSEGPartBytes)
	}
	if c.HeldWait < 0 {
		bad("held_wait %s: must not be negative", c.HeldWait)
	}
	if c.BodyIdleTimeout < 0 {
		bad("body_idle_timeout %s: must be 0 (off) or positive", c.BodyIdleTimeout)
	}
	if c.MaxRequestBytes < 0 {
		bad("max_request_bytes %d: must be 0 (no limit) or positive", c.MaxRequestBytes)
	}
	if _, err := c.SlogLevel(); err != nil {
		bad("log_level %q: must be debug, info, warn or error", c.LogLevel)
	}
	if c.MetadataCacheSize < 0 {
		bad("metadata_cache_size %d: must be 0 (off) or positive", c.MetadataCacheSize)
	}
	if c.MetadataCacheTTL < 0 {
		bad("metadata_cache_ttl %s: must not be negative", c.MetadataCacheTTL)
	}
	if c.ReadHeaderTimeout <= 0 {
		bad("read_header_timeout %s: must be positive", c.ReadHeaderTimeout)
	}
	if c.ShutdownTimeout < 0 {
		bad("shutdown_timeout %s: must not be negative", c.ShutdownTimeout)
	}
	if c.MaxHeaderBytes < 4*KiB || c.MaxHeaderBytes > 16*MiB {
		bad("max_header_bytes %d: must be from 4KiB to 16MiB", c.MaxHeaderBytes)
	}
	if c.RateLimit < 0 || math.IsNaN(c.RateLimit) || math.IsInf(c.RateLimit, 0) {
		bad("rate_limit %v: must be 0 (off) or a positive number of requests per second",
			c.RateLimit)
	}
	if c.RateLimit > 0 && c.RateBurst < 1 {
		bad("rate_burst %d: must be at least 1 when rate_limit is on", c.RateBurst)
	}
	errs = append(errs, c.validateReview()...)
	if withAuth {
		if err := c.Auth.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkBaseURL checks that s is an absolute http or https URL without
// query, fragment or credentials.
func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return errors.New("must be an http or https URL")
	case u.Host == "":
		return errors.New("must name a host")
	case u.User != nil:
		return errors.New("must not hold credentials: use upstream_user and the password")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not have a query or fragment")
	}
	return nil
}

// SlogLevel returns LogLevel as a [slog.Level].
func (c *Config) SlogLevel() (slog.Level, error) {
	var l slog.Level
	err := l.UnmarshalText([]byte(c.LogLevel))
	if err != nil || !slices.Contains([]string{"debug", "info", "warn", "error"},
		strings.ToLower(c.LogLevel)) {
		return 0, fmt.Errorf("unknown log level %q", c.LogLevel)
	}
	return l, nil
}

// TaggingEnabled reports whether accepted SEGs are tagged in Orthanc.
func (c *Config) TaggingEnabled() bool {
	if c.OrthancTagging != nil {
		return *c.OrthancTagging
	}
	return c.UpstreamKind == UpstreamOrthanc
}

// Warnings returns the settings that work but are unsafe or degrade the
// gateway, in words meant for a log record at Warn level.
func (c *Config) Warnings() []string {
	var w []string
	if c.Auth.Disabled {
		w = append(w, "authentication is disabled: every request is served as an "+
			"anonymous admin")
	}
	if c.RateLimit == 0 {
		w = append(w, "rate_limit is 0: clients are not rate limited")
	}
	if u, err := url.Parse(c.Upstream); err == nil && u.Scheme == "http" &&
		c.UpstreamPassword != "" && !isLoopbackHost(u.Hostname()) {
		w = append(w, "upstream credentials are sent over plain http to a remote host")
	}
	if c.LogUIDs {
		w = append(w, "log_uids is on: logs carry DICOM UIDs")
	}
	if c.UpstreamKind == UpstreamOrthanc && !c.TaggingEnabled() {
		w = append(w, "orthanc_tagging is off: QC decisions are not written to the archive")
	}
	if c.MetadataCacheSize == 0 {
		w = append(w, "metadata_cache_size is 0: every SEG check fetches its source metadata")
	}
	return append(w, c.reviewWarnings()...)
}

// isLoopbackHost reports whether host is localhost or a loopback address.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// String returns the configuration as YAML, with the password redacted.
func (c *Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("config: %v", err)
	}
	pw := "upstream_password: \"\"\n"
	if c.UpstreamPassword != "" {
		pw = "upstream_password: " + redacted + "\n"
	}
	return string(b) + pw
}

// LogValue implements [slog.LogValuer]: every setting as an attribute, the
// auth section as a group, the password redacted. The auth section holds
// file paths and URLs, never a secret.
func (c *Config) LogValue() slog.Value {
	attrs := fieldAttrs(reflect.ValueOf(c).Elem())
	attrs = append(attrs, slog.Any("upstream_password", c.UpstreamPassword))
	return slog.GroupValue(attrs...)
}

// fieldAttrs returns an attribute per field of the struct v that has a
// YAML key, and a group for a field that is a struct.
func fieldAttrs(v reflect.Value) []slog.Attr {
	t := v.Type()
	attrs := make([]slog.Attr, 0, t.NumField())
	for i := range t.NumField() {
		key := yamlKey(t.Field(i))
		if key == "" {
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Pointer {
			if f.IsNil() {
				continue
			}
			f = f.Elem()
		}
		// Durations and sizes read better in their text form.
		if st, ok := f.Interface().(fmt.Stringer); ok {
			attrs = append(attrs, slog.String(key, st.String()))
			continue
		}
		if f.Kind() == reflect.Struct {
			attrs = append(attrs, slog.Attr{Key: key,
				Value: slog.GroupValue(fieldAttrs(f)...)})
			continue
		}
		attrs = append(attrs, slog.Any(key, f.Interface()))
	}
	return attrs
}

// redacted replaces a secret wherever it would be printed.
const redacted = "[redacted]"

// Secret is a string that never prints: String, LogValue and the text and
// YAML encodings give "[redacted]" (or "" when it is empty).
type Secret string

// String implements [fmt.Stringer].
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// LogValue implements [slog.LogValuer].
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText implements [encoding.TextMarshaler], so JSON and YAML
// encodings redact too.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// GoString implements [fmt.GoStringer], so %#v redacts too.
func (s Secret) GoString() string { return strconv.Quote(s.String()) }

// Byte size units.
const (
	KiB ByteSize = 1 << 10
	MiB ByteSize = 1 << 20
	GiB ByteSize = 1 << 30
)

// ByteSize is a number of bytes. In YAML, environment variables and flags
// it is an integer or an integer followed by a unit: B, KB, MB, GB (powers
// of 1000) or KiB, MiB, GiB (powers of 1024), for example 512MiB.
type ByteSize int64

// byteUnits maps the accepted unit suffixes, lowercased, to their size.
var byteUnits = map[string]ByteSize{
	"": 1, "b": 1,
	"kb": 1000, "mb": 1000 * 1000, "gb": 1000 * 1000 * 1000,
	"kib": KiB, "mib": MiB, "gib": GiB,
}

// ParseByteSize parses a size such as "1024", "64KiB" or "2 GB".
func ParseByteSize(s string) (ByteSize, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(t)
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	mult, ok := byteUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("%q is not a size such as 1048576, 64KiB or 512MiB", s)
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > int64(^uint64(0)>>1)/int64(mult) {
		return 0, fmt.Errorf("%q is not a size that fits in 63 bits", s)
	}
	return ByteSize(n) * mult, nil
}

// UnmarshalYAML implements [yaml.Unmarshaler]: an integer or a string with
// a unit.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a size must be a number or a string", n.Line)
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// String returns the size with the largest binary unit that divides it.
func (b ByteSize) String() string {
	switch {
	case b != 0 && b%GiB == 0:
		return strconv.FormatInt(int64(b/GiB), 10) + "GiB"
	case b != 0 && b%MiB == 0:
		return strconv.FormatInt(int64(b/MiB), 10) + "MiB"
	case b != 0 && b%KiB == 0:
		return strconv.FormatInt(int64(b/KiB), 10) + "KiB"
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML implements [yaml.Marshaler].
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }
