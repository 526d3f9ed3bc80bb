package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/review/pgtest"
)

// TestStoresAgree runs the contract of [Store] on SQLite and on a
// throwaway PostgreSQL server.
func TestStoresAgree(t *testing.T) {
	type opener func(t *testing.T) Store
	run := func(t *testing.T, open opener) {
		t.Run("round trip", func(t *testing.T) { testRoundTrip(t, open(t)) })
		t.Run("list", func(t *testing.T) { testListOrder(t, open(t)) })
		t.Run("concurrent puts", func(t *testing.T) { testConcurrentPuts(t, open(t)) })
	}
	t.Run("sqlite", func(t *testing.T) {
		run(t, func(t *testing.T) Store {
			s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "r.db"))
			if err != nil {
				t.Fatalf("OpenSQLite = %v", err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		})
	})
	t.Run("postgres", func(t *testing.T) {
		srv := pgtest.Start(t)
		run(t, func(t *testing.T) Store {
			dsn := srv.NewDatabase(t)
			s, err := OpenPostgres(t.Context(), dsn)
			if err != nil {
				t.Fatalf("OpenPostgres = %v", err)
			}
			t.Cleanup(func() { s.Close() })
			// A second replica opening the same database migrates nothing;
			// Open routes a postgres:// location to PostgreSQL.
			s2, err := Open(t.Context(), dsn)
			if err != nil {
				t.Fatalf("Open(%q) = %v", dsn, err)
			}
			if _, ok := s2.(*Postgres); !ok {
				t.Errorf("Open(%q) = %T, want *Postgres", dsn, s2)
			}
			s2.Close()
			return s
		})
	})
}

func testRoundTrip(t *testing.T, s Store) {
	ctx := t.Context()
	in := &StoredReport{Report: report("1.2.3.1", "1.2.3", "1.2.3.4", qc.DecisionRejected),
		Stored: false, Outcome: "rejected", RequestID: "req-1",
		CreatedAt: time.Date(2026, 3, 1, 10, 0, 1, 500, time.UTC)}
	if err := s.Put(ctx, in); err != nil {
		t.Fatalf("Put = %v", err)
	}
	got, err := s.Latest(ctx, "1.2.3.1")
	if err != nil {
		t.Fatalf("Latest = %v", err)
	}
	if diff := cmp.Diff(in, got, cmp.Comparer(func(a, b time.Time) bool {
		return a.Equal(b)
	})); diff != "" {
		t.Errorf("Latest (-put +got):\n%s", diff)
	}
	if _, err := s.Latest(ctx, "9.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest(unknown) = %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, &StoredReport{Report: &qc.Report{}}); !errors.Is(err,
		ErrInvalidReport) {
		t.Errorf("Put(no UID) = %v, want ErrInvalidReport", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

func testListOrder(t *testing.T, s Store) {
	ctx := t.Context()
	puts := []struct {
		sop, series string
		d           qc.Decision
	}{
		{"1.2.3.1", "1.2.3.10", qc.DecisionAccepted},
		{"1.2.3.2", "1.2.3.20", qc.DecisionRejected},
		{"1.2.3.1", "1.2.3.10", qc.DecisionRejected},
		{"1.2.3.3", "1.2.3.10", qc.DecisionAcceptedWithWarnings},
	}
	for _, p := range puts {
		if err := s.Put(ctx, &StoredReport{Report: report(p.sop, "1.2.3", p.series,
			p.d)}); err != nil {
			t.Fatalf("Put = %v", err)
		}
	}
	tests := []struct {
		f    Filter
		want []string
	}{
		{Filter{}, []string{"1.2.3.3 accepted_with_warnings", "1.2.3.1 rejected",
			"1.2.3.2 rejected", "1.2.3.1 accepted"}},
		{Filter{SeriesInstanceUID: "1.2.3.10", Decision: qc.DecisionRejected},
			[]string{"1.2.3.1 rejected"}},
		{Filter{Limit: 2, Offset: 1}, []string{"1.2.3.1 rejected", "1.2.3.2 rejected"}},
		{Filter{StudyInstanceUID: "9.9"}, []string{}},
	}
	for _, tc := range tests {
		list, err := s.List(ctx, tc.f)
		if err != nil {
			t.Fatalf("List(%+v) = %v", tc.f, err)
		}
		got := []string{}
		for _, r := range list {
			got = append(got, r.Report.SOPInstanceUID+" "+string(r.Report.Decision))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("List(%+v) (-want +got):\n%s", tc.f, diff)
		}
	}
	if _, err := s.List(ctx, Filter{Offset: -1}); !errors.Is(err, ErrInvalidFilter) {
		t.Errorf("List(offset -1) = %v, want ErrInvalidFilter", err)
	}
	latest, err := s.Latest(ctx, "1.2.3.1")
	if err != nil || latest.Report.Decision != qc.DecisionRejected {
		t.Errorf("Latest(1.2.3.1) = %v, %v; want the rejected one", latest, err)
	}
}

func testConcurrentPuts(t *testing.T, s Store) {
	const n = 16
	ids := make([]int64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := &StoredReport{Report: report(fmt.Sprintf("1.2.3.%d", i), "1.2.3", "1.2.3.4",
				qc.DecisionAccepted)}
			if err := s.Put(t.Context(), r); err != nil {
				t.Errorf("Put #%d = %v", i, err)
			}
			ids[i] = r.ID
		})
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, id := range ids {
		if id <= 0 || seen[id] {
			t.Errorf("IDs %v: want %d distinct positive IDs", ids, n)
			break
		}
		seen[id] = true
	}
	list, err := s.List(t.Context(), Filter{})
	if err != nil || len(list) != n {
		t.Errorf("List after %d puts = %d reports, %v", n, len(list), err)
	}
}
