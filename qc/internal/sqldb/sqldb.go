// Package sqldb holds what the SQL stores of qc (reports and reviews)
// share: opening an SQLite file or a PostgreSQL database through
// database/sql, the placeholder style of each, and a schema migrator that
// keeps the version reached in a table of its own.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	// Registers the "pgx" driver of database/sql.
	_ "github.com/jackc/pgx/v5/stdlib"
	// Registers the "sqlite" driver: pure Go, no cgo.
	_ "modernc.org/sqlite"
)

// Dialect holds what differs between the SQL databases in the queries.
type Dialect struct {
	// Name is used in error messages: "sqlite" or "postgres".
	Name string
	// Numbered makes placeholders $1, $2 ... instead of ?.
	Numbered bool
}

// The dialects of the databases the stores run on.
var (
	SQLite   = Dialect{Name: "sqlite"}
	Postgres = Dialect{Name: "postgres", Numbered: true}
)

// Rebind rewrites the ? placeholders of query for d. Every ? is taken
// for a placeholder: queries must not hold one in a literal.
func (d Dialect) Rebind(query string) string {
	if !d.Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Placeholders returns n comma-separated ? placeholders, for an IN list.
func Placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// OpenSQLite opens (creating it if needed) the SQLite file at path in WAL
// mode with foreign keys on. A writer waits up to busy for another's lock,
// and transactions take the write lock at BEGIN, so that two writers wait
// for each other instead of failing when one upgrades its lock. The path
// ":memory:" gives a private in-memory database, for tests.
func OpenSQLite(path string, busy time.Duration) (*sql.DB, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busy.Milliseconds()))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, err
	}
	if path == ":memory:" {
		// Each connection to ":memory:" is its own database: keep one.
		db.SetMaxOpenConns(1)
	}
	return db, nil
}

// OpenPostgres returns a pool of connections through pgx to the database
// at dsn, a postgres:// URL or a key=value connection string as libpq
// takes them. It does not connect yet.
func OpenPostgres(dsn string) (*sql.DB, error) {
	return sql.Open("pgx", dsn)
}

// Schema describes the migrations of one store's tables.
type Schema struct {
	// VersionTable is the one-row table that holds the version reached,
	// created when missing.
	VersionTable string
	// Steps bring the schema from version i to i+1, each a list of
	// statements. Append only: never edit a released step.
	Steps [][]string
	// Lock, when set, is run first in the migration transaction, so that
	// several processes starting at once migrate one after the other.
	Lock string
}

// Migrate creates the version table of s if needed and applies the steps
// the database has not seen, all in one transaction. A database at a
// version newer than s knows is an error.
func Migrate(ctx context.Context, db *sql.DB, d Dialect, s Schema) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.VersionTable+
		` (version INTEGER NOT NULL)`); err != nil {
		return fmt.Errorf("creating schema version table: %w", err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer tx.Rollback()
	if s.Lock != "" {
		if _, err := tx.ExecContext(ctx, s.Lock); err != nil {
			return fmt.Errorf("locking for migration: %w", err)
		}
	}

	var version int
	err = tx.QueryRowContext(ctx, `SELECT version FROM `+s.VersionTable).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		_, err = tx.ExecContext(ctx, `INSERT INTO `+s.VersionTable+` (version) VALUES (0)`)
	}
	if err != nil {
		return fmt.Errorf("reading schema version: %w", err)
	}
	if version > len(s.Steps) {
		return fmt.Errorf("schema version %d is newer than this build's %d", version,
			len(s.Steps))
	}
	for v := version; v < len(s.Steps); v++ {
		for _, stmt := range s.Steps[v] {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("migrating schema to version %d: %w", v+1, err)
			}
		}
	}
	if _, err := tx.ExecContext(ctx, d.Rebind(`UPDATE `+s.VersionTable+` SET version = ?`),
		len(s.Steps)); err != nil {
		return fmt.Errorf("writing schema version: %w", err)
	}
	return tx.Commit()
}
