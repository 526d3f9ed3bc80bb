package review

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"

	// Registers the "sqlite" driver: pure Go, no cgo.
	_ "modernc.org/sqlite"
)

// sqliteDialect keeps the trail append-only with triggers that abort any
// UPDATE or DELETE of it.
var sqliteDialect = dialect{
	name: "sqlite",
	migrations: [][]string{append(slices.Clone(tablesSQL),
		`CREATE TRIGGER review_trail_no_update BEFORE UPDATE ON review_trail
		BEGIN SELECT RAISE(ABORT, 'review trail is append-only'); END`,
		`CREATE TRIGGER review_trail_no_delete BEFORE DELETE ON review_trail
		BEGIN SELECT RAISE(ABORT, 'review trail is append-only'); END`,
	)},
}

// SQLite is a [Store] in an SQLite database file, in WAL mode. It may be
// the file of the report store: its tables and its schema version
// (table review_schema) are its own.
type SQLite struct {
	sqlStore
}

// OpenSQLite opens (creating it if needed) the database file at path and
// brings the review tables up to date. ":memory:" gives a private
// in-memory database, for tests.
func OpenSQLite(ctx context.Context, path string) (*SQLite, error) {
	if path == "" {
		return nil, errors.New("opening sqlite review store: empty path")
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	// Transactions take the write lock at BEGIN, so that two writers
	// wait for each other instead of failing when one upgrades its lock.
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("opening sqlite review store %s: %w", path, err)
	}
	if path == ":memory:" {
		// Each connection to ":memory:" is its own database: keep one.
		db.SetMaxOpenConns(1)
	}
	s := &SQLite{sqlStore{db: db, d: sqliteDialect}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening sqlite review store %s: %w", path, err)
	}
	return s, nil
}

// Interface guard.
var _ Store = (*SQLite)(nil)
