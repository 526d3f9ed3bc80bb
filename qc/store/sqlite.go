package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/qcgate/qcgate/qc/internal/sqldb"
)

// busyTimeout is how long a writer waits for another writer's lock before
// giving up.
const busyTimeout = 5 * time.Second

// migrations bring the schema from version i to i+1; PRAGMA user_version
// holds the version reached in the files of every release so far, so
// SQLite keeps it rather than the version table of PostgreSQL. Append
// only: never edit a released step.
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
	sqlStore
}

// OpenSQLite opens (creating it if needed) the database file at path and
// brings its schema up to date. The path ":memory:" gives a private
// in-memory database, for tests.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("opening sqlite store: empty path")
	}
	db, err := sqldb.OpenSQLite(path, busyTimeout)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite store %s: %w", path, err)
	}

	s := &SQLite{sqlStore{db: db, d: sqldb.SQLite}}
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

// Interface guard.
var _ Store = (*SQLite)(nil)
