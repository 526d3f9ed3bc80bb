package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	// Registers the "pgx" driver of database/sql.
	_ "github.com/jackc/pgx/v5/stdlib"
)

// postgresMigrations bring the PostgreSQL schema from version i to i+1;
// table report_schema holds the version reached. Append only.
var postgresMigrations = [][]string{{
	`CREATE TABLE reports (
		id                  BIGSERIAL PRIMARY KEY,
		sop_instance_uid    TEXT    NOT NULL,
		study_instance_uid  TEXT    NOT NULL,
		series_instance_uid TEXT    NOT NULL,
		decision            TEXT    NOT NULL,
		checked_at          BIGINT  NOT NULL,
		created_at          BIGINT  NOT NULL,
		stored              BOOLEAN NOT NULL,
		outcome             TEXT    NOT NULL,
		request_id          TEXT    NOT NULL,
		report              TEXT    NOT NULL
	)`,
	`CREATE INDEX reports_sop ON reports (sop_instance_uid, id)`,
	`CREATE INDEX reports_study ON reports (study_instance_uid, id)`,
	`CREATE INDEX reports_series ON reports (series_instance_uid, id)`,
	`CREATE INDEX reports_decision ON reports (decision, id)`,
	`CREATE INDEX reports_checked_at ON reports (checked_at)`,
}}

// migrationLock serializes the migrations of replicas starting at once:
// the bytes of "qcreport" as a big-endian integer.
const migrationLock = `SELECT pg_advisory_xact_lock(8170499928983827060)`

// Postgres is a [Store] in a PostgreSQL database, which several gateway
// replicas can share. IDs come from a sequence: a larger ID is a later
// report, though with concurrent writers a report may become visible
// shortly after one with a larger ID.
type Postgres struct {
	db *sql.DB
}

// OpenPostgres connects to the database at dsn (a postgres:// URL or a
// key=value connection string) through pgx and brings its schema up to
// date.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	s := &Postgres{db: db}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	return s, nil
}

// migrate applies the migrations the database has not seen yet.
func (s *Postgres) migrate(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx,
		`CREATE TABLE IF NOT EXISTS report_schema (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("creating schema version table: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrationLock); err != nil {
		return fmt.Errorf("locking for migration: %w", err)
	}
	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM report_schema`).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO report_schema (version) VALUES (0)`)
	}
	if err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(postgresMigrations) {
		return fmt.Errorf("schema version %d is newer than this build's %d", version,
			len(postgresMigrations))
	}
	for v := version; v < len(postgresMigrations); v++ {
		for _, stmt := range postgresMigrations[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE report_schema SET version = $1`,
		len(postgresMigrations)); err != nil {
		return fmt.Errorf("writing schema version: %w", err)
	}
	return tx.Commit()
}

// Put implements [Store].
func (s *Postgres) Put(ctx context.Context, r *StoredReport) error {
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
	var id int64
	err = s.db.QueryRowContext(ctx, `INSERT INTO reports (sop_instance_uid,
		study_instance_uid, series_instance_uid, decision, checked_at, created_at,
		stored, outcome, request_id, report)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`,
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

// Latest implements [Store].
func (s *Postgres) Latest(ctx context.Context, sopInstanceUID string) (*StoredReport, error) {
	row := s.db.QueryRowContext(ctx, selectColumns+
		` WHERE sop_instance_uid = $1 ORDER BY id DESC LIMIT 1`, sopInstanceUID)
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
func (s *Postgres) List(ctx context.Context, f Filter) ([]*StoredReport, error) {
	f, err := f.Normalize()
	if err != nil {
		return nil, fmt.Errorf("listing reports: %w", err)
	}
	var where []string
	var args []any
	add := func(column, value string) {
		if value != "" {
			args = append(args, value)
			where = append(where, column+" = $"+strconv.Itoa(len(args)))
		}
	}
	add("study_instance_uid", f.StudyInstanceUID)
	add("series_instance_uid", f.SeriesInstanceUID)
	add("decision", string(f.Decision))
	query := selectColumns
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit, f.Offset)
	query += fmt.Sprintf(" ORDER BY id DESC LIMIT $%d OFFSET $%d", len(args)-1, len(args))

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

// Ping implements [Store]: it runs a query on the reports table.
func (s *Postgres) Ping(ctx context.Context) error {
	var n int
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM reports WHERE id < 0").
		Scan(&n); err != nil {
		return fmt.Errorf("pinging postgres store: %w", err)
	}
	return nil
}

// Close implements [Store].
func (s *Postgres) Close() error { return s.db.Close() }

// Interface guard.
var _ Store = (*Postgres)(nil)
