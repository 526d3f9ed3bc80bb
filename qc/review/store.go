package review

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// List limits: [Filter.Limit] 0 means DefaultLimit; no list returns more
// than MaxLimit reviews.
const (
	DefaultLimit = 1000
	MaxLimit     = 100000
)

// Change is one review written by [Store.Apply], with the trail entry
// that explains it.
type Change struct {
	// Review is the review after the move; its Version must be Expect+1.
	Review *Review
	// Expect is the version the move was computed from; 0 creates the
	// review, which must not exist yet.
	Expect int64
	// Entry is appended to the trail; its Seq must equal Review.Version.
	Entry *Entry
}

// Filter selects reviews for [Store.List]. Empty fields match everything;
// fields that are set must all match. Reviews come oldest first.
type Filter struct {
	// SOPInstanceUIDs matches these SEGs.
	SOPInstanceUIDs  []string
	StudyInstanceUID string
	// SeriesInstanceUIDs matches the SEGs' own series.
	SeriesInstanceUIDs []string
	// SourceSeriesUIDs matches SEGs with any of these source series.
	SourceSeriesUIDs []string
	// States matches any of these states.
	States []State
	// Reviewer matches SEGs this subject approved at peer review or at
	// senior QA.
	Reviewer string
	// ApprovedSince matches SEGs approved at or after it.
	ApprovedSince time.Time
	// Limit is the maximum number of reviews, at most MaxLimit; 0 means
	// DefaultLimit.
	Limit int
}

// normalize fills in the default limit or reports a bad field.
func (f Filter) normalize() (Filter, error) {
	var problems []string
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		problems = append(problems, fmt.Sprintf("limit %d: must be 1 to %d", f.Limit, MaxLimit))
	}
	for _, s := range f.States {
		if !s.Valid() {
			problems = append(problems, fmt.Sprintf("state %q: unknown", s))
		}
	}
	if len(problems) > 0 {
		return f, fmt.Errorf("%w: %s", ErrInvalidRequest, strings.Join(problems, "; "))
	}
	return f, nil
}

// Store keeps reviews and their trails. Implementations are safe for
// concurrent use, also from several processes sharing one database.
type Store interface {
	// Apply writes the changes in one transaction: each review is
	// created (Expect 0) or updated only if its stored version is
	// Expect, and each entry is appended. If any review exists already or
	// has another version, nothing is written and the error wraps
	// [ErrConflict].
	Apply(ctx context.Context, changes ...Change) error
	// Get returns the review of a SEG, or an error wrapping [ErrNotFound].
	Get(ctx context.Context, sopInstanceUID string) (*Review, error)
	// Trail returns the entries of the SEGs, by SEG then Seq.
	Trail(ctx context.Context, sopInstanceUIDs ...string) ([]Entry, error)
	// List returns the reviews matching f, oldest first.
	List(ctx context.Context, f Filter) ([]*Review, error)
	// Ping checks that the store can be read.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// checkChange reports a change a store must refuse.
func checkChange(c Change) error {
	switch {
	case c.Review == nil || c.Review.SOPInstanceUID == "":
		return fmt.Errorf("%w: change without a review", ErrInvalidRequest)
	case c.Review.Version != c.Expect+1:
		return fmt.Errorf("%w: version %d after %d", ErrInvalidRequest, c.Review.Version,
			c.Expect)
	case c.Entry == nil || c.Entry.Seq != c.Review.Version ||
		c.Entry.SOPInstanceUID != c.Review.SOPInstanceUID:
		return fmt.Errorf("%w: entry does not match review %s version %d", ErrInvalidRequest,
			c.Review.SOPInstanceUID, c.Review.Version)
	case !c.Review.State.Valid():
		return fmt.Errorf("%w: state %q", ErrInvalidRequest, c.Review.State)
	}
	return nil
}

// OpenStore opens the review store at location: a "postgres://" or
// "postgresql://" URL (or a key=value connection string starting with
// "host=") is a PostgreSQL database; "sqlite:" followed by a path, or a
// plain path, is an SQLite file, which may be the report store's file.
func OpenStore(ctx context.Context, location string) (Store, error) {
	lower := strings.ToLower(location)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"),
		strings.HasPrefix(lower, "host="):
		return OpenPostgres(ctx, location)
	case strings.HasPrefix(lower, "sqlite:"):
		return OpenSQLite(ctx, strings.TrimPrefix(location[len("sqlite:"):], "//"))
	case strings.HasPrefix(lower, "file:"):
		return OpenSQLite(ctx, strings.TrimPrefix(location[len("file:"):], "//"))
	}
	scheme, _, ok := strings.Cut(location, "://")
	if ok && scheme != "" {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedStore, scheme)
	}
	return OpenSQLite(ctx, location)
}
