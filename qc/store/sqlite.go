package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	// Registers the "sqlite" driver: pure Go, no cgo.
	_ "modernc.org/sqlite"

	"github.com/qcgate/qcgate/qc"
)

// busyTimeout is how long a writer waits for another writer's lock before
// giving up, in milliseconds.
const busyTimeout = 5000

// migrations bring the schema from version i to i+1; PRAGMA user_version
// holds the version reached. Append only: never edit a released step.
var migrations = []string{
	`CREATE TABLE reports (
		id                  INTEGER PRIMARY KEY AUTOINCREMENT,
		sop_instance_uid    TEXT    NOT NULL,
		study_instance_uid  TEXT    NOT NULL,
		series_instance_uid TEXT    NOT NULL,
		decision            TEXT    NOT NULL,
		checked_at          INTEGER NOT NULL,
		created_at          INTEGER NOT NULL,
		stored              INTEGER NOT NULL,
		outcome             TEXT    NOT NULL,
		request_id          TEXT    NOT NULL,
		report              TEXT    NOT NULL
	);
	CREATE INDEX reports_sop ON reports (sop_instance_uid, id);
	CREATE INDEX reports_study ON reports (study_instance_uid, id);
	CREATE INDEX reports_series ON reports (series_instance_uid, id);
	CREATE INDEX reports_decision ON reports (decision, id);
	CREATE INDEX reports_checked_at ON reports (checked_at);`,
}

// SQLite is a [Store] in one SQLite database file, in WAL mode so that
// readers never wait for the writer.
type SQLite struct {
	db *sql.DB
}

// OpenSQLite opens (creating it if needed) the database file at path and
// brings its schema up to date. The path ":memory:" gives a private
// in-memory database, for tests.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("opening sqlite store: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	if path == ":memory:" {
		// Each connection to ":memory:" is its own database: keep one.
		db.SetMaxOpenConns(1)
	}

	s := &SQLite{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}
	return s, nil
}

// migrate applies the migrations the database has not seen yet, each in
// its own transaction together with the version bump.
func (s *SQLite) migrate(ctx context.Context) error {
	var version int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this build's %d",
			version, len(migrations))
	}
	for v := version; v < len(migrations); v++ {
		tx, err := s.db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
		}
		_, err = tx.ExecContext(ctx, migrations[v])
		if err == nil {
			// PRAGMA takes no bound parameters; v+1 is an int.
			_, err = tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1))
		}
		if err == nil {
			err = tx.Commit()
		} else {
			tx.Rollback()
		}
		if err != nil {
			return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
		}
	}
	return nil
}

// Put implements [Store].
func (s *SQLite) Put(ctx context.Context, r *StoredReport) error {
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

	res, err := s.db.ExecContext(ctx, `INSERT INTO reports (sop_instance_uid,
		study_instance_uid, series_instance_uid, decision, checked_at, created_at,
		stored, outcome, request_id, report) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		rep.SOPInstanceUID, rep.StudyInstanceUID, rep.SeriesInstanceUID,
		string(rep.Decision), rep.CheckedAt.UnixNano(), created.UnixNano(),
		r.Stored, r.Outcome, r.RequestID, string(body))
	if err != nil {
		return fmt.Errorf("putting report %s: %w", rep.SOPInstanceUID, err)
	}
	id, err := res.LastInsertId()
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
func (s *SQLite) Latest(ctx context.Context, sopInstanceUID string) (*StoredReport, error) {
	row := s.db.QueryRowContext(ctx, selectColumns+
		` WHERE sop_instance_uid = ? ORDER BY id DESC LIMIT 1`, sopInstanceUID)
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
func (s *SQLite) List(ctx context.Context, f Filter) ([]*StoredReport, error) {
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

	rows, err := s.db.QueryContext(ctx, query, args...)
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
func (s *SQLite) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM reports WHERE id < 0").
		Scan(&n); err != nil {
		return fmt.Errorf("pinging sqlite store: %w", err)
	}
	return nil
}

// Close implements [Store].
func (s *SQLite) Close() error { return s.db.Close() }

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

// Interface guard.
var _ Store = (*SQLite)(nil)
