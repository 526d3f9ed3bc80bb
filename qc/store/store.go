package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/qcgate/qcgate/qc"
)

// Filter limits: [Filter.Limit] 0 means DefaultLimit, and no list returns
// more than MaxLimit reports.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// StoredReport is a report as a store keeps it: the QC report itself plus
// what happened to the SEG it is about.
type StoredReport struct {
	// ID is assigned by [Store.Put]; it grows with every report written,
	// so a larger ID is a later report. 0 before Put.
	ID int64 `json:"id"`
	// Report is the QC report; never nil in a stored report.
	Report *qc.Report `json:"report"`
	// Stored reports whether the upstream archive holds the SEG after the
	// request: true only when the SEG was accepted, forwarded and the
	// upstream confirmed it. A rejected SEG, or an accepted one whose
	// upstream request failed, has Stored false.
	Stored bool `json:"stored"`
	// Outcome says in a few words what happened to the SEG, for example
	// "stored", "rejected" or "upstream unreachable"; empty when unknown.
	Outcome string `json:"outcome,omitempty"`
	// RequestID is the ID of the STOW-RS request that brought the SEG, or
	// empty.
	RequestID string `json:"request_id,omitempty"`
	// CreatedAt is when the report was written; set by Put when zero.
	CreatedAt time.Time `json:"created_at"`
}

// Filter selects reports for [Store.List]. Empty fields match everything.
// Reports come newest first.
type Filter struct {
	StudyInstanceUID  string
	SeriesInstanceUID string
	// Decision, when set, is one of the [qc.Decision] values.
	Decision qc.Decision
	// Limit is the maximum number of reports, at most MaxLimit; 0 means
	// DefaultLimit.
	Limit int
	// Offset skips that many reports of the ordered result; 0 skips none.
	Offset int
}

// Normalize returns f with its default limit filled in, or an error
// wrapping [ErrInvalidFilter] naming every bad field.
func (f Filter) Normalize() (Filter, error) {
	var problems []string
	switch {
	case f.Limit == 0:
		f.Limit = DefaultLimit
	case f.Limit < 0 || f.Limit > MaxLimit:
		problems = append(problems, fmt.Sprintf("limit %d: must be 1 to %d", f.Limit, MaxLimit))
	}
	if f.Offset < 0 {
		problems = append(problems, fmt.Sprintf("offset %d: must be 0 or more", f.Offset))
	}
	switch f.Decision {
	case "", qc.DecisionAccepted, qc.DecisionAcceptedWithWarnings, qc.DecisionRejected:
	default:
		problems = append(problems, fmt.Sprintf("decision %q: must be accepted, "+
			"accepted_with_warnings or rejected", f.Decision))
	}
	if len(problems) > 0 {
		return f, fmt.Errorf("%w: %s", ErrInvalidFilter, strings.Join(problems, "; "))
	}
	return f, nil
}

// Store keeps QC reports. Implementations are safe for concurrent use.
type Store interface {
	// Put writes r and sets its ID (and CreatedAt when zero). It fails
	// with [ErrInvalidReport] when r has no report or no SOP Instance UID.
	Put(ctx context.Context, r *StoredReport) error
	// Latest returns the newest report of the SEG with that SOP Instance
	// UID, or an error wrapping [ErrNotFound].
	Latest(ctx context.Context, sopInstanceUID string) (*StoredReport, error)
	// List returns the reports matching f, newest first. An invalid f
	// gives an error wrapping [ErrInvalidFilter].
	List(ctx context.Context, f Filter) ([]*StoredReport, error)
	// Ping checks that the store can be read.
	Ping(ctx context.Context) error
	// Close releases the store.
	Close() error
}

// Open opens the store at location. A location with a scheme names the
// kind of store: "sqlite:" followed by a path, or a "postgres://" or
// "postgresql://" URL for PostgreSQL ([OpenPostgres]); a location without
// one is the path of an SQLite file. Other schemes give
// [ErrUnsupportedStore].
func Open(ctx context.Context, location string) (Store, error) {
	scheme, rest, ok := strings.Cut(location, ":")
	if !ok || len(scheme) < 2 || strings.ContainsAny(scheme, `/\.`) {
		// No scheme, or a Windows drive letter: a plain file path.
		return OpenSQLite(ctx, location)
	}
	switch strings.ToLower(scheme) {
	case "sqlite", "file":
		return OpenSQLite(ctx, strings.TrimPrefix(rest, "//"))
	case "postgres", "postgresql":
		// Several gateway replicas share one PostgreSQL database.
		return OpenPostgres(ctx, location)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedStore, scheme)
	}
}
