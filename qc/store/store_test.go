package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
)

// openTemp opens an SQLite store in a new temporary folder.
func openTemp(t *testing.T) (*SQLite, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "reports.db")
	s, err := OpenSQLite(context.Background(), path)
	if err != nil {
		t.Fatalf("OpenSQLite(%q) = %v", path, err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// report returns a small report with the given identifiers.
func report(sop, study, series string, d qc.Decision) *qc.Report {
	vol := 12.5
	return &qc.Report{
		SOPInstanceUID:    sop,
		SOPClassUID:       qc.SegmentationStorage,
		StudyInstanceUID:  study,
		SeriesInstanceUID: series,
		SourceSeriesUIDs:  []string{"1.2.3"},
		Decision:          d,
		Profile:           qc.ProfileInfo{Name: "default", Version: "1"},
		SegmentationType:  qc.SegmentationTypeBinary,
		Segments: []qc.SegmentReport{
			{Number: 1, Label: "Liver", Frames: 3, Voxels: 107098, VolumeML: &vol},
		},
		Findings: []qc.Finding{{Rule: "geometry.frame_of_reference",
			Severity: qc.SeverityError, Message: "m", Reference: "PS3.3 C.7.4.1"}},
		CheckedAt:  time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
		DurationMS: 4.5,
	}
}

func TestPutLatestRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()

	first := &StoredReport{Report: report("1.1", "9", "8", qc.DecisionRejected),
		Outcome: "rejected", RequestID: "r1"}
	if err := s.Put(ctx, first); err != nil {
		t.Fatalf("Put = %v", err)
	}
	second := &StoredReport{Report: report("1.1", "9", "8", qc.DecisionAccepted),
		Stored: true, Outcome: "stored", RequestID: "r2"}
	if err := s.Put(ctx, second); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if first.ID == 0 || second.ID <= first.ID {
		t.Fatalf("IDs = %d, %d, want increasing and non-zero", first.ID, second.ID)
	}

	got, err := s.Latest(ctx, "1.1")
	if err != nil {
		t.Fatalf("Latest(1.1) = %v", err)
	}
	if diff := cmp.Diff(second, got); diff != "" {
		t.Errorf("Latest(1.1) mismatch (-want +got):\n%s", diff)
	}
	if _, err := s.Latest(ctx, "1.2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Latest(1.2) error = %v, want ErrNotFound", err)
	}
}

func TestPutInvalid(t *testing.T) {
	s, _ := openTemp(t)
	tests := []struct {
		name string
		r    *StoredReport
	}{
		{"nil", nil},
		{"no report", &StoredReport{}},
		{"no SOP Instance UID", &StoredReport{Report: &qc.Report{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Put(context.Background(), tt.r); !errors.Is(err, ErrInvalidReport) {
				t.Errorf("Put = %v, want ErrInvalidReport", err)
			}
		})
	}
}

func TestList(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	put := []*qc.Report{
		report("1", "S1", "A", qc.DecisionAccepted),
		report("2", "S1", "A", qc.DecisionRejected),
		report("3", "S1", "B", qc.DecisionAcceptedWithWarnings),
		report("4", "S2", "C", qc.DecisionRejected),
		report("5", "S2", "C", qc.DecisionAccepted),
	}
	for _, r := range put {
		if err := s.Put(ctx, &StoredReport{Report: r}); err != nil {
			t.Fatalf("Put(%s) = %v", r.SOPInstanceUID, err)
		}
	}

	tests := []struct {
		name    string
		f       Filter
		want    []string
		wantErr error
	}{
		{name: "all newest first", want: []string{"5", "4", "3", "2", "1"}},
		{name: "study", f: Filter{StudyInstanceUID: "S1"}, want: []string{"3", "2", "1"}},
		{name: "series", f: Filter{SeriesInstanceUID: "C"}, want: []string{"5", "4"}},
		{name: "decision", f: Filter{Decision: qc.DecisionRejected}, want: []string{"4", "2"}},
		{name: "study and decision",
			f:    Filter{StudyInstanceUID: "S1", Decision: qc.DecisionAccepted},
			want: []string{"1"}},
		{name: "limit offset", f: Filter{Limit: 2, Offset: 1}, want: []string{"4", "3"}},
		{name: "offset past end", f: Filter{Offset: 10}, want: []string{}},
		{name: "no match", f: Filter{StudyInstanceUID: "S3"}, want: []string{}},
		{name: "limit too big", f: Filter{Limit: MaxLimit + 1}, wantErr: ErrInvalidFilter},
		{name: "negative limit", f: Filter{Limit: -1}, wantErr: ErrInvalidFilter},
		{name: "negative offset", f: Filter{Offset: -1}, wantErr: ErrInvalidFilter},
		{name: "bad decision", f: Filter{Decision: "ok"}, wantErr: ErrInvalidFilter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.List(ctx, tt.f)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("List(%+v) error = %v, want %v", tt.f, err, tt.wantErr)
			}
			if tt.wantErr != nil {
				return
			}
			uids := []string{}
			for _, r := range got {
				uids = append(uids, r.Report.SOPInstanceUID)
			}
			if diff := cmp.Diff(tt.want, uids); diff != "" {
				t.Errorf("List(%+v) mismatch (-want +got):\n%s", tt.f, diff)
			}
		})
	}
}

func TestReopenKeepsReports(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if err := s.Put(ctx, &StoredReport{Report: report("7", "S", "X", qc.DecisionAccepted),
		Stored: true}); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}

	// Opening again must not migrate twice nor lose data.
	s2, err := OpenSQLite(ctx, path)
	if err != nil {
		t.Fatalf("OpenSQLite again = %v", err)
	}
	defer s2.Close()
	got, err := s2.Latest(ctx, "7")
	if err != nil {
		t.Fatalf("Latest(7) = %v", err)
	}
	if !got.Stored || got.Report.Segments[0].Voxels != 107098 {
		t.Errorf("Latest(7) = stored %v voxels %d, want true 107098",
			got.Stored, got.Report.Segments[0].Voxels)
	}
	var mode string
	if err := s2.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatalf("reading journal_mode: %v", err)
	}
	if mode != "wal" {
		t.Errorf("journal_mode = %q, want wal", mode)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	s, path := openTemp(t)
	ctx := context.Background()
	if _, err := s.db.ExecContext(ctx, "PRAGMA user_version = 99"); err != nil {
		t.Fatalf("setting user_version: %v", err)
	}
	s.Close()
	if s2, err := OpenSQLite(ctx, path); err == nil {
		s2.Close()
		t.Fatalf("OpenSQLite on schema 99 = nil error, want one")
	}
}

func TestPingAfterClose(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("Ping = %v", err)
	}
	s.Close()
	if err := s.Ping(context.Background()); err == nil {
		t.Errorf("Ping after Close = nil, want an error")
	}
}

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		location string
		wantErr  error
	}{
		{"plain path", filepath.Join(dir, "a.db"), nil},
		{"sqlite scheme", "sqlite:" + filepath.Join(dir, "b.db"), nil},
		{"unknown scheme", "mysql://u@h/db", ErrUnsupportedStore},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Open(context.Background(), tt.location)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open(%q) error = %v, want %v", tt.location, err, tt.wantErr)
			}
			if s != nil {
				s.Close()
			}
		})
	}
}

func TestConcurrentPutAndRead(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	const writers, each = 8, 25
	errs := make(chan error, writers*each*2)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				sop := fmt.Sprintf("2.%d.%d", w, i)
				if err := s.Put(ctx, &StoredReport{Report: report(sop, "S", "A",
					qc.DecisionAccepted)}); err != nil {
					errs <- err
				}
				if _, err := s.Latest(ctx, sop); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent Put or Latest: %v", err)
	}
	all, err := s.List(ctx, Filter{Limit: MaxLimit})
	if err != nil {
		t.Fatalf("List = %v", err)
	}
	ids := map[int64]bool{}
	for _, r := range all {
		ids[r.ID] = true
	}
	if len(all) != writers*each || len(ids) != writers*each {
		t.Errorf("List = %d reports with %d distinct IDs, want %d", len(all), len(ids),
			writers*each)
	}
}
