package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/internal/sqldb"
)

// sqlStore is a [Store] on database/sql, shared by [SQLite] and
// [Postgres]; both have the same reports table.
type sqlStore struct {
	db *sql.DB
	d  sqldb.Dialect
}

// Put implements [Store].
func (s *sqlStore) Put(ctx context.Context, r *StoredReport) error {
	if r == nil || r.Report == nil {
		return fmt.Errorf("putting report: %w: no report", ErrInvalidReport)
	}
	rep := r.Report
	if rep.SOPInstanceUID == "" {
		return fmt.Errorf("putting report: %w: no SOP Instance UID", ErrInvalidReport)
	}
	body, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("putting report %s: %w", rep.SOPInstanceUID, err)
	}
	created := r.CreatedAt
	if created.IsZero() {
		created = time.Now()
	}

	// RETURNING, not LastInsertId, which pgx does not implement.
	var id int64
	err = s.db.QueryRowContext(ctx, s.d.Rebind(`INSERT INTO reports (sop_instance_uid,
		study_instance_uid, series_instance_uid, decision, checked_at, created_at,
		stored, outcome, request_id, report)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		rep.SOPInstanceUID, rep.StudyInstanceUID, rep.SeriesInstanceUID,
		string(rep.Decision), rep.CheckedAt.UnixNano(), created.UnixNano(), r.Stored,
		r.Outcome, r.RequestID, string(body)).Scan(&id)
	if err != nil {
		return fmt.Errorf("putting report %s: %w", rep.SOPInstanceUID, err)
	}
	r.ID = id
	r.CreatedAt = time.Unix(0, created.UnixNano())
	return nil
}

// selectColumns are the columns scanRow reads, in its order.
const selectColumns = `SELECT id, created_at, stored, outcome, request_id, report FROM reports`

// Latest implements [Store].
func (s *sqlStore) Latest(ctx context.Context, sopInstanceUID string) (*StoredReport, error) {
	row := s.db.QueryRowContext(ctx, s.d.Rebind(selectColumns+
		` WHERE sop_instance_uid = ? ORDER BY id DESC LIMIT 1`), sopInstanceUID)
	r, err := scanRow(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("latest report of %s: %w", sopInstanceUID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("latest report of %s: %w", sopInstanceUID, err)
	}
	return r, nil
}

// List implements [Store].
func (s *sqlStore) List(ctx context.Context, f Filter) ([]*StoredReport, error) {
	f, err := f.Normalize()
	if err != nil {
		return nil, fmt.Errorf("listing reports: %w", err)
	}

	// Build the WHERE clause from the set fields only; values are bound.
	var where []string
	var args []any
	add := func(column, value string) {
		if value != "" {
			where = append(where, column+" = ?")
			args = append(args, value)
		}
	}
	add("study_instance_uid", f.StudyInstanceUID)
	add("series_instance_uid", f.SeriesInstanceUID)
	add("decision", string(f.Decision))
	query := selectColumns
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY id DESC LIMIT ? OFFSET ?"
	args = append(args, f.Limit, f.Offset)

	rows, err := s.db.QueryContext(ctx, s.d.Rebind(query), args...)
	if err != nil {
		return nil, fmt.Errorf("listing reports: %w", err)
	}
	defer rows.Close()
	out := []*StoredReport{}
	for rows.Next() {
		r, err := scanRow(rows)
		if err != nil {
			return nil, fmt.Errorf("listing reports: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing reports: %w", err)
	}
	return out, nil
}

// Ping implements [Store]: it runs a query, which a closed or broken
// database fails, unlike [sql.DB.PingContext] on a pooled connection.
func (s *sqlStore) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM reports WHERE id < 0").
		Scan(&n); err != nil {
		return fmt.Errorf("pinging %s store: %w", s.d.Name, err)
	}
	return nil
}

// Close implements [Store].
func (s *sqlStore) Close() error { return s.db.Close() }

// scanner is what [sql.Row] and [sql.Rows] share.
type scanner interface {
	Scan(dest ...any) error
}

// scanRow reads one row of selectColumns.
func scanRow(row scanner) (*StoredReport, error) {
	var (
		r       StoredReport
		created int64
		body    string
	)
	if err := row.Scan(&r.ID, &created, &r.Stored, &r.Outcome, &r.RequestID, &body); err != nil {
		return nil, err
	}
	r.CreatedAt = time.Unix(0, created)
	r.Report = new(qc.Report)
	if err := json.Unmarshal([]byte(body), r.Report); err != nil {
		return nil, fmt.Errorf("decoding report %d: %w", r.ID, err)
	}
	return &r, nil
}
