package review

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/qcgate/qcgate/qc/internal/sqldb"
)

// busyTimeout is how long a writer waits for another writer's lock
// before giving up.
const busyTimeout = 10 * time.Second

// sqliteDialect keeps the trail append-only with triggers that abort any
// UPDATE or DELETE of it.
var sqliteDialect = dialect{
	Dialect: sqldb.SQLite,
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
	db, err := sqldb.OpenSQLite(path, busyTimeout)
	if err != nil {
		return nil, fmt.Errorf("opening sqlite review store %s: %w", path, err)
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
