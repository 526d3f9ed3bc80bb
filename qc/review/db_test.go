package review

import (
	"database/sql"
	"testing"
)

// dbOf returns the database of a store of this package.
func dbOf(t *testing.T, st Store) *sql.DB {
	t.Helper()
	switch s := st.(type) {
	case *SQLite:
		return s.db
	case *Postgres:
		return s.db
	}
	t.Fatalf("store %T has no database", st)
	return nil
}
