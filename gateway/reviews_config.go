package gateway

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/qcgate/qcgate/qc/review"
)

// reviewPrefix starts the setting names of the review section, as
// environment variables and flags know them: review.audit_share of the
// YAML file is the setting review_audit_share, QCGATE_REVIEW_AUDIT_SHARE
// and --review-audit-share.
const reviewPrefix = "review_"

// envReviewAuditSeed is the environment variable of the audit seed, which
// has no YAML key: like the upstream password it is a secret.
const envReviewAuditSeed = envPrefix + "REVIEW_AUDIT_SEED"

// ReviewConfig is the review section of [Config]: the review workflow of
// peer review, senior QA, random audit and final approval, with the
// training export (/qc/v1/reviews, /qc/v1/export, /qc/v1/completeness,
// /qc/v1/calibration).
type ReviewConfig struct {
	// Enabled turns the review workflow on. Default false: the review
	// routes answer 404 and stored SEGs get no review.
	Enabled bool `yaml:"enabled"`
	// Store is where reviews are kept: an SQLite file path or
	// "sqlite:PATH", or a "postgres://" URL that several gateway replicas
	// share. Empty (default) means the report store's location; the
	// review tables then live beside the reports.
	Store string `yaml:"store"`
	// AuditShare is the fraction, from 0 to 1, of SEGs approved by senior
	// QA that are drawn for a random audit. Default 0: none.
	AuditShare float64 `yaml:"audit_share"`
	// AuditSeed makes the audit draw reproducible: the same seed and SOP
	// Instance UID always give the same draw. It is a secret (whoever
	// knows it knows in advance which SEGs are audited), so it comes only
	// from QCGATE_REVIEW_AUDIT_SEED or AuditSeedFile and is redacted when
	// printed; the review trail records only its fingerprint. Required
	// when AuditShare is strictly between 0 and 1.
	AuditSeed Secret `yaml:"-"`
	// AuditSeedFile is a file holding the audit seed (one line; a final
	// newline is dropped). Empty (default) means none.
	AuditSeedFile string `yaml:"audit_seed_file"`
	// AuditRecallWindow, when positive, makes a failed audit send back to
	// peer review the SEGs the same reviewers approved within that long
	// before the failure. Default 0: nothing is recalled.
	AuditRecallWindow time.Duration `yaml:"audit_recall_window"`
	// AllowSelfReview turns the four-eyes rules off: with authentication
	// disabled every request comes from the same anonymous admin, who
	// could otherwise not do both peer review and senior QA. It is refused
	// unless auth.disabled is true. Default false.
	AllowSelfReview bool `yaml:"allow_self_review"`
	// Archive writes each review state to Orthanc user metadata
	// (QCReview, which Orthanc's UserMetadata must declare) and stores a
	// Key Object Selection rejection note for each SEG rejected in review.
	// Nil (default) means the same as orthanc_tagging.
	Archive *bool `yaml:"archive"`
}

// reviewSettings returns the names of the review section's settings.
func reviewSettings() []string {
	t := reflect.TypeFor[ReviewConfig]()
	var keys []string
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k != "" {
			keys = append(keys, reviewPrefix+k)
		}
	}
	return keys
}

// setReview sets a setting of the review section from its text form.
func (c *Config) setReview(key, value string) error {
	name := strings.TrimPrefix(key, reviewPrefix)
	v := reflect.ValueOf(&c.Review).Elem()
	t := v.Type()
	for i := range t.NumField() {
		if k := yamlKey(t.Field(i)); k == "" || k != name {
			continue
		}
		if err := setField(v.Field(i), value); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		return nil
	}
	return fmt.Errorf("%w: %q", ErrUnknownSetting, key)
}

// readAuditSeedFile reads the audit seed from its file once every source
// has had its say.
func (rc *ReviewConfig) readAuditSeedFile() error {
	switch {
	case rc.AuditSeedFile == "":
		return nil
	case rc.AuditSeed != "":
		return errors.New("review.audit_seed and review.audit_seed_file: both set: " +
			"give only one")
	}
	b, err := os.ReadFile(rc.AuditSeedFile)
	if err != nil {
		return fmt.Errorf("review.audit_seed_file: %w", err)
	}
	rc.AuditSeed = Secret(strings.TrimRight(string(b), "\r\n"))
	return nil
}

// validateReview checks the review section.
func (c *Config) validateReview() []error {
	rc := c.Review
	var errs []error
	audit := review.AuditConfig{Share: rc.AuditShare, Seed: string(rc.AuditSeed),
		RecallWindow: rc.AuditRecallWindow}
	if err := audit.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("review: %w: a share from 0 to 1, a seed "+
			"(QCGATE_REVIEW_AUDIT_SEED or review.audit_seed_file) when the share is "+
			"strictly between 0 and 1, a recall window of 0 or more", err))
	}
	if rc.AllowSelfReview && !c.Auth.Disabled {
		errs = append(errs, errors.New("review.allow_self_review: true with authentication "+
			"on: the four-eyes rules may be switched off only with auth.disabled"))
	}
	if rc.Archive != nil && *rc.Archive && c.UpstreamKind != UpstreamOrthanc {
		errs = append(errs, fmt.Errorf("review.archive: on with upstream_kind %q: needs "+
			"upstream_kind orthanc", c.UpstreamKind))
	}
	return errs
}

// reviewWarnings returns the unsafe settings of the review section.
func (c *Config) reviewWarnings() []string {
	if !c.Review.Enabled || !c.Review.AllowSelfReview {
		return nil
	}
	return []string{"review.allow_self_review is on: the four-eyes rules of the " +
		"review workflow are off"}
}

// reviewArchive reports whether review states and rejection notes go to
// the archive.
func (c *Config) reviewArchive() bool {
	if c.Review.Archive != nil {
		return *c.Review.Archive
	}
	return c.TaggingEnabled()
}

// reviewOptions builds the [ReviewOptions] of the configuration, opening
// the review store. It returns nil options when the workflow is off.
func (c *Config) reviewOptions(ctx context.Context) (*ReviewOptions, error) {
	if !c.Review.Enabled {
		return nil, nil
	}
	loc := c.Review.Store
	if loc == "" {
		loc = c.Store
	}
	st, err := review.OpenStore(ctx, loc)
	if err != nil {
		return nil, fmt.Errorf("opening review store: %w", err)
	}
	return &ReviewOptions{Store: st, AllowSelfReview: c.Review.AllowSelfReview,
		Archive: c.reviewArchive(),
		Audit: review.AuditConfig{Share: c.Review.AuditShare, Seed: string(c.Review.AuditSeed),
			RecallWindow: c.Review.AuditRecallWindow}}, nil
}

// isReviewSecret reports whether key names the audit seed, which only the
// environment may set.
func isReviewSecret(key string) bool {
	return key == reviewPrefix+"audit_seed"
}
