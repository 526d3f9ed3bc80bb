package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qcgate/qcgate/qc/internal/sqldb"
)

// dialect holds what differs between the SQL databases.
type dialect struct {
	sqldb.Dialect
	// migrations bring the schema from version i to i+1, each a list of
	// statements. Append only: never edit a released step.
	migrations [][]string
	// lock, when set, is run first in the migration transaction, so that
	// several processes starting at once migrate one after the other.
	lock string
}

// tablesSQL creates the tables both databases share; the trail is
// append-only, which each dialect enforces with its own triggers.
var tablesSQL = []string{
	`CREATE TABLE reviews (
		sop_instance_uid    TEXT   PRIMARY KEY,
		study_instance_uid  TEXT   NOT NULL,
		series_instance_uid TEXT   NOT NULL,
		state               TEXT   NOT NULL,
		version             BIGINT NOT NULL,
		uploader            TEXT   NOT NULL,
		peer_reviewer       TEXT   NOT NULL,
		senior_qa           TEXT   NOT NULL,
		created_at          BIGINT NOT NULL,
		approved_at         BIGINT NOT NULL,
		review              TEXT   NOT NULL
	)`,
	`CREATE INDEX reviews_study ON reviews (study_instance_uid)`,
	`CREATE INDEX reviews_series ON reviews (series_instance_uid)`,
	`CREATE INDEX reviews_state ON reviews (state, created_at)`,
	`CREATE INDEX reviews_peer ON reviews (peer_reviewer, approved_at)`,
	`CREATE INDEX reviews_senior ON reviews (senior_qa, approved_at)`,
	`CREATE TABLE review_sources (
		series_instance_uid TEXT NOT NULL,
		sop_instance_uid    TEXT NOT NULL REFERENCES reviews (sop_instance_uid),
		PRIMARY KEY (series_instance_uid, sop_instance_uid)
	)`,
	`CREATE TABLE review_trail (
		sop_instance_uid TEXT   NOT NULL REFERENCES reviews (sop_instance_uid),
		seq              BIGINT NOT NULL,
		at               BIGINT NOT NULL,
		entry            TEXT   NOT NULL,
		PRIMARY KEY (sop_instance_uid, seq)
	)`,
}

// sqlStore is a [Store] on database/sql, shared by [SQLite] and
// [Postgres].
type sqlStore struct {
	db *sql.DB
	d  dialect
}

// q rewrites the placeholders of query for the dialect.
func (s *sqlStore) q(query string) string { return s.d.Rebind(query) }

// migrate brings the review tables up to date; table review_schema
// holds the version reached.
func (s *sqlStore) migrate(ctx context.Context) error {
	return sqldb.Migrate(ctx, s.db, s.d.Dialect, sqldb.Schema{
		VersionTable: "review_schema", Steps: s.d.migrations, Lock: s.d.lock})
}

// Apply implements [Store].
func (s *sqlStore) Apply(ctx context.Context, changes ...Change) error {
	for _, c := range changes {
		if err := checkChange(c); err != nil {
			return fmt.Errorf("applying review change: %w", err)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("applying review change: %w", err)
	}
	defer tx.Rollback()
	for _, c := range changes {
		if err := s.apply(ctx, tx, c); err != nil {
			return fmt.Errorf("applying change to review %s: %w", c.Review.SOPInstanceUID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("applying review change: %w", err)
	}
	return nil
}

// apply writes one change in tx.
func (s *sqlStore) apply(ctx context.Context, tx *sql.Tx, c Change) error {
	r := c.Review
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	var res sql.Result
	if c.Expect == 0 {
		res, err = tx.ExecContext(ctx, s.q(`INSERT INTO reviews (sop_instance_uid,
			study_instance_uid, series_instance_uid, state, version, uploader,
			peer_reviewer, senior_qa, created_at, approved_at, review)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (sop_instance_uid) DO NOTHING`),
			r.SOPInstanceUID, r.StudyInstanceUID, r.SeriesInstanceUID, string(r.State),
			r.Version, r.Uploader, r.PeerReviewer, r.SeniorQA, nanos(r.CreatedAt),
			nanos(r.ApprovedAt), string(body))
	} else {
		res, err = tx.ExecContext(ctx, s.q(`UPDATE reviews SET state = ?, version = ?,
			peer_reviewer = ?, senior_qa = ?, approved_at = ?, review = ?
			WHERE sop_instance_uid = ? AND version = ?`),
			string(r.State), r.Version, r.PeerReviewer, r.SeniorQA, nanos(r.ApprovedAt),
			string(body), r.SOPInstanceUID, c.Expect)
	}
	if err := oneRow(res, err); err != nil {
		return err
	}

	if c.Expect == 0 {
		for _, series := range r.SourceSeriesUIDs {
			if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO review_sources
				(series_instance_uid, sop_instance_uid) VALUES (?, ?)
				ON CONFLICT DO NOTHING`), series, r.SOPInstanceUID); err != nil {
				return err
			}
		}
	}
	entry, err := json.Marshal(c.Entry)
	if err != nil {
		return err
	}
	res, err = tx.ExecContext(ctx, s.q(`INSERT INTO review_trail (sop_instance_uid, seq,
		at, entry) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`),
		c.Entry.SOPInstanceUID, c.Entry.Seq, nanos(c.Entry.At), string(entry))
	return oneRow(res, err)
}

// oneRow turns a statement that changed no row into [ErrConflict].
func oneRow(res sql.Result, err error) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return ErrConflict
	}
	return nil
}

// nanos returns t in nanoseconds since 1970, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Get implements [Store].
func (s *sqlStore) Get(ctx context.Context, sopInstanceUID string) (*Review, error) {
	var body string
	err := s.db.QueryRowContext(ctx, s.q(`SELECT review FROM reviews
		WHERE sop_instance_uid = ?`), sopInstanceUID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("review of %s: %w", sopInstanceUID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("review of %s: %w", sopInstanceUID, err)
	}
	r := new(Review)
	if err := json.Unmarshal([]byte(body), r); err != nil {
		return nil, fmt.Errorf("decoding review of %s: %w", sopInstanceUID, err)
	}
	return r, nil
}

// Trail implements [Store].
func (s *sqlStore) Trail(ctx context.Context, sopInstanceUIDs ...string) ([]Entry, error) {
	if len(sopInstanceUIDs) == 0 {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT entry FROM review_trail
		WHERE sop_instance_uid IN (`+sqldb.Placeholders(len(sopInstanceUIDs))+`)
		ORDER BY sop_instance_uid, seq`), anys(sopInstanceUIDs)...)
	if err != nil {
		return nil, fmt.Errorf("reading review trail: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("reading review trail: %w", err)
		}
		var e Entry
		if err := json.Unmarshal([]byte(body), &e); err != nil {
			return nil, fmt.Errorf("decoding review trail: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading review trail: %w", err)
	}
	return out, nil
}

// List implements [Store].
func (s *sqlStore) List(ctx context.Context, f Filter) ([]*Review, error) {
	f, err := f.normalize()
	if err != nil {
		return nil, fmt.Errorf("listing reviews: %w", err)
	}
	var where []string
	var args []any
	if len(f.SOPInstanceUIDs) > 0 {
		where = append(where, "sop_instance_uid IN ("+
			sqldb.Placeholders(len(f.SOPInstanceUIDs))+")")
		args = append(args, anys(f.SOPInstanceUIDs)...)
	}
	if f.StudyInstanceUID != "" {
		where = append(where, "study_instance_uid = ?")
		args = append(args, f.StudyInstanceUID)
	}
	if len(f.SeriesInstanceUIDs) > 0 {
		where = append(where, "series_instance_uid IN ("+
			sqldb.Placeholders(len(f.SeriesInstanceUIDs))+")")
		args = append(args, anys(f.SeriesInstanceUIDs)...)
	}
	if len(f.SourceSeriesUIDs) > 0 {
		where = append(where, "sop_instance_uid IN (SELECT sop_instance_uid FROM "+
			"review_sources WHERE series_instance_uid IN ("+
			sqldb.Placeholders(len(f.SourceSeriesUIDs))+"))")
		args = append(args, anys(f.SourceSeriesUIDs)...)
	}
	if len(f.States) > 0 {
		where = append(where, "state IN ("+sqldb.Placeholders(len(f.States))+")")
		for _, st := range f.States {
			args = append(args, string(st))
		}
	}
	if f.Reviewer != "" {
		where = append(where, "(peer_reviewer = ? OR senior_qa = ?)")
		args = append(args, f.Reviewer, f.Reviewer)
	}
	if !f.ApprovedSince.IsZero() {
		where = append(where, "approved_at >= ? AND approved_at > 0")
		args = append(args, f.ApprovedSince.UnixNano())
	}
	query := "SELECT review FROM reviews"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY created_at, sop_instance_uid LIMIT ?"
	args = append(args, f.Limit)

	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing reviews: %w", err)
	}
	defer rows.Close()
	out := []*Review{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, fmt.Errorf("listing reviews: %w", err)
		}
		r := new(Review)
		if err := json.Unmarshal([]byte(body), r); err != nil {
			return nil, fmt.Errorf("decoding review: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing reviews: %w", err)
	}
	return out, nil
}

// Ping implements [Store]: it runs a query on the reviews table.
func (s *sqlStore) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM reviews WHERE version < 0`).
		Scan(&n); err != nil {
		return fmt.Errorf("pinging %s review store: %w", s.d.Name, err)
	}
	return nil
}

// Close implements [Store].
func (s *sqlStore) Close() error { return s.db.Close() }

// anys converts strings to query arguments.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
