package review

import (
	"context"
	"fmt"
	"slices"

	"github.com/qcgate/qcgate/qc/internal/sqldb"
)

// postgresDialect keeps the trail append-only with a trigger that raises
// on any UPDATE or DELETE of it, and serializes migrations of replicas
// starting together with a transaction-scoped advisory lock.
var postgresDialect = dialect{
	Dialect: sqldb.Postgres,
	// The key is fixed: the bytes of "qcreview" as a big-endian integer.
	lock: `SELECT pg_advisory_xact_lock(8170499929084093815)`,
	migrations: [][]string{append(slices.Clone(tablesSQL),
		`CREATE FUNCTION review_trail_append_only() RETURNS trigger
		LANGUAGE plpgsql AS $$
		BEGIN
			RAISE EXCEPTION 'review trail is append-only';
		END $$`,
		`CREATE TRIGGER review_trail_no_change BEFORE UPDATE OR DELETE ON review_trail
		FOR EACH ROW EXECUTE FUNCTION review_trail_append_only()`,
	)},
}

// Postgres is a [Store] in a PostgreSQL database, which several gateway
// replicas can share: moves are applied with optimistic concurrency, so
// of two replicas moving the same SEG at once one wins and the other
// gets [ErrConflict].
type Postgres struct {
	sqlStore
}

// OpenPostgres connects to the database at dsn (a postgres:// URL or a
// key=value connection string, as libpq takes them) through pgx and
// brings the review tables up to date.
func OpenPostgres(ctx context.Context, dsn string) (*Postgres, error) {
	db, err := sqldb.OpenPostgres(dsn)
	if err != nil {
		return nil, fmt.Errorf("opening postgres review store: %w", err)
	}
	s := &Postgres{sqlStore{db: db, d: postgresDialect}}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening postgres review store: %w", err)
	}
	return s, nil
}

// Interface guard.
var _ Store = (*Postgres)(nil)
