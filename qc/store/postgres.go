package store

import (
	"context"
	"fmt"

	"github.com/qcgate/qcgate/qc/internal/sqldb"
)

// postgresSchema brings the PostgreSQL schema up to date; table
// report_schema holds the version reached.
var postgresSchema = sqldb.Schema{
	VersionTable: "report_schema",
	Steps: [][]string{{
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
	}},
	// Serializes the migrations of replicas starting at once; the key is
	// the bytes of "qcreport" as a big-endian integer.
	Lock: `SELECT pg_advisory_xact_lock(8170499928983827060)`,
}

// Postgres is a [Store] in a PostgreSQL database, which several gateway
// replicas can share. IDs come from a sequence: a larger ID is a later
// report, though with concurrent writers a report may become visible
// shortly after one with a larger ID.
type Postgres struct {
	sqlStore
}

// OpenPostgres connects to the database at dsn (a postgres:// URL or a
// key=value connection string) through pgx and brings its schema up to
// date.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	db, err := sqldb.OpenPostgres(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	s := &Postgres{sqlStore{db: db, d: sqldb.Postgres}}
	if err := sqldb.Migrate(ctx, db, sqldb.Postgres, postgresSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening postgres store: %w", err)
	}
	return s, nil
}

// Interface guard.
var _ Store = (*Postgres)(nil)
