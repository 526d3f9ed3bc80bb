package review

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/review/pgtest"
	"github.com/qcgate/qcgate/qc/store"
)

// backend opens a new, empty store of one kind for a test.
type backend struct {
	name string
	open func(t *testing.T) Store
}

// suiteTest is a test that runs on every backend.
type suiteTest struct {
	name string
	run  func(t *testing.T, open func(t *testing.T) Store)
}

// runSuite runs tests on SQLite and on a throwaway PostgreSQL server,
// which is started once for all of them.
func runSuite(t *testing.T, tests []suiteTest) {
	t.Helper()
	sqlite := backend{name: "sqlite", open: func(t *testing.T) Store {
		t.Helper()
		s, err := OpenSQLite(t.Context(), filepath.Join(t.TempDir(), "qc.db"))
		if err != nil {
			t.Fatalf("OpenSQLite: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}
	for _, b := range []string{"sqlite", "postgres"} {
		t.Run(b, func(t *testing.T) {
			bk := sqlite
			if b == "postgres" {
				srv := pgtest.Start(t)
				bk = backend{name: b, open: func(t *testing.T) Store {
					t.Helper()
					s, err := OpenPostgres(t.Context(), srv.NewDatabase(t))
					if err != nil {
						t.Fatalf("OpenPostgres: %v", err)
					}
					t.Cleanup(func() { s.Close() })
					return s
				}}
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) { tc.run(t, bk.open) })
			}
		})
	}
}

// principal returns a principal with the roles.
func principal(sub string, roles ...auth.Role) *auth.Principal {
	return &auth.Principal{Subject: sub, Roles: roles}
}

// The people of the tests.
var (
	annotator = principal("ann", auth.RoleAnnotator)
	reviewer  = principal("rev", auth.RoleReviewer)
	reviewer2 = principal("rev2", auth.RoleReviewer)
	senior    = principal("sen", auth.RoleSeniorQA)
	senior2   = principal("sen2", auth.RoleSeniorQA)
	auditor   = principal("aud", auth.RoleAuditor)
	viewer    = principal("vie", auth.RoleViewer)
	admin     = principal("adm", auth.RoleAdmin)
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock returns a clock at a fixed start.
func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

// now returns the time and moves it on by a second, so that every event
// has its own time.
func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// fakeArchive records what the workflow writes to the archive.
type fakeArchive struct {
	mu     sync.Mutex
	status map[string]State
	stored [][]byte
	fail   error
}

// SetStatus implements [Archive].
func (a *fakeArchive) SetStatus(_ context.Context, sop string, s State) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	if a.status == nil {
		a.status = map[string]State{}
	}
	a.status[sop] = s
	return nil
}

// Attributes implements [Archive].
func (a *fakeArchive) Attributes(context.Context, string, string, string) (PatientStudy,
	error) {
	return PatientStudy{PatientName: "Doe^Jane", PatientID: "P-17", StudyDate: "20240102",
		AccessionNumber: "A42"}, nil
}

// Store implements [Archive].
func (a *fakeArchive) Store(_ context.Context, _ string, b []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return a.fail
	}
	a.stored = append(a.stored, b)
	return nil
}

// fakeReports serves reports from a map.
type fakeReports map[string]*store.StoredReport

// Latest implements [Reports].
func (f fakeReports) Latest(_ context.Context, sop string) (*store.StoredReport, error) {
	if r, ok := f[sop]; ok {
		return r, nil
	}
	return nil, store.ErrNotFound
}

// report returns a stored, accepted report of a SEG.
func report(id int64, sop, series string, sources ...string) *store.StoredReport {
	if len(sources) == 0 {
		sources = []string{"1.2.3.100"}
	}
	return &store.StoredReport{ID: id, Stored: true, Report: &qc.Report{
		SOPInstanceUID: sop, SOPClassUID: "1.2.840.10008.5.1.4.1.1.66.4",
		StudyInstanceUID: "1.2.3", SeriesInstanceUID: series, SourceSeriesUIDs: sources,
		Decision: qc.DecisionAccepted, Uploader: annotator.Subject,
		Profile: qc.ProfileInfo{Name: "abdomen", Version: "3"}}}
}

// newWorkflow builds a workflow on st with a clock and an archive.
func newWorkflow(t *testing.T, st Store, opts Options) (*Workflow, *fakeArchive) {
	t.Helper()
	a := &fakeArchive{}
	opts.Store = st
	if opts.Archive == nil {
		opts.Archive = a
	}
	if opts.Now == nil {
		opts.Now = newClock().now
	}
	w, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return w, a
}

// submit opens the review of a SEG and fails the test on error.
func submit(t *testing.T, w *Workflow, rep *store.StoredReport) *Review {
	t.Helper()
	r, err := w.OnReportStored(t.Context(), rep, "")
	if err != nil || r == nil {
		t.Fatalf("OnReportStored(%s) = %v, %v", rep.Report.SOPInstanceUID, r, err)
	}
	return r
}

// act applies an action and fails the test on error.
func act(t *testing.T, w *Workflow, sop string, p *auth.Principal, a Action,
	comment string) *Outcome {
	t.Helper()
	out, err := w.Act(t.Context(), sop, p, ActionRequest{Action: a, Comment: comment})
	if err != nil {
		t.Fatalf("Act(%s, %s by %s) = %v", sop, a, p.Subject, err)
	}
	return out
}
