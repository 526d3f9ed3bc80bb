package review

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// newReview returns a review at version 1 with its opening entry.
func newReview(sop, series string, at time.Time) Change {
	r := &Review{SOPInstanceUID: sop, StudyInstanceUID: "1.2.3", SeriesInstanceUID: series,
		SourceSeriesUIDs: []string{"1.2.3.100"}, State: StatePeerReview, Version: 1,
		Uploader: "ann", Chain: 1, CreatedAt: at, UpdatedAt: at}
	e := &Entry{SOPInstanceUID: sop, Seq: 1, Actor: "ann", Role: "annotator", At: at,
		Action: ActionSubmit, To: StatePeerReview}
	return Change{Review: r, Entry: e}
}

// moved returns the change moving r to state.
func moved(r *Review, to State, actor string) Change {
	n := r.clone()
	n.State, n.Version = to, r.Version+1
	if to == StateSeniorQA {
		n.PeerReviewer = actor
	}
	e := &Entry{SOPInstanceUID: r.SOPInstanceUID, Seq: n.Version, Actor: actor,
		Action: ActionApprove, From: r.State, To: to, At: r.CreatedAt.Add(time.Minute)}
	return Change{Review: n, Expect: r.Version, Entry: e}
}

func TestStores(t *testing.T) {
	runSuite(t, []suiteTest{
		{"apply and get", testApplyGet},
		{"conflicts write nothing", testConflicts},
		{"trail is append-only", testAppendOnly},
		{"list filters", testList},
		{"concurrent moves", testConcurrentApply},
	})
}

func testApplyGet(t *testing.T, open func(t *testing.T) Store) {
	st := open(t)
	ctx := t.Context()
	at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	c := newReview("1.2.3.1", "1.2.3.10", at)
	if err := st.Apply(ctx, c); err != nil {
		t.Fatalf("Apply(create) = %v", err)
	}
	m := moved(c.Review, StateSeniorQA, "rev")
	if err := st.Apply(ctx, m); err != nil {
		t.Fatalf("Apply(move) = %v", err)
	}
	got, err := st.Get(ctx, "1.2.3.1")
	if err != nil {
		t.Fatalf("Get = %v", err)
	}
	if diff := cmp.Diff(m.Review, got); diff != "" {
		t.Errorf("Get after two changes (-want +got):\n%s", diff)
	}
	trail, err := st.Trail(ctx, "1.2.3.1")
	if err != nil {
		t.Fatalf("Trail = %v", err)
	}
	if diff := cmp.Diff([]Entry{*c.Entry, *m.Entry}, trail); diff != "" {
		t.Errorf("Trail (-want +got):\n%s", diff)
	}
	if _, err := st.Get(ctx, "9.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}
	if err := st.Ping(ctx); err != nil {
		t.Errorf("Ping = %v", err)
	}
}

func testConflicts(t *testing.T, open func(t *testing.T) Store) {
	st := open(t)
	ctx := t.Context()
	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	a, b := newReview("1.2.3.1", "1.2.3.10", at), newReview("1.2.3.2", "1.2.3.20", at)
	if err := st.Apply(ctx, a); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	tests := []struct {
		name    string
		changes []Change
	}{
		{"create twice", []Change{newReview("1.2.3.1", "1.2.3.10", at)}},
		{"stale version", []Change{moved(moved(a.Review, StateSeniorQA, "x").Review,
			StateApproved, "y")}},
		{"new one with a stale one", []Change{b, moved(moved(a.Review, StateSeniorQA,
			"x").Review, StateApproved, "y")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := st.Apply(ctx, tc.changes...); !errors.Is(err, ErrConflict) {
				t.Fatalf("Apply = %v, want ErrConflict", err)
			}
			if _, err := st.Get(ctx, "1.2.3.2"); !errors.Is(err, ErrNotFound) {
				t.Errorf("Get(1.2.3.2) after a failed transaction = %v, want ErrNotFound", err)
			}
			got, err := st.Get(ctx, "1.2.3.1")
			if err != nil || got.Version != 1 || got.State != StatePeerReview {
				t.Errorf("Get(1.2.3.1) = %+v, %v, want version 1 in peer_review", got, err)
			}
			trail, _ := st.Trail(ctx, "1.2.3.1", "1.2.3.2")
			if len(trail) != 1 {
				t.Errorf("trail has %d entries, want 1", len(trail))
			}
		})
	}
	bad := newReview("1.2.3.3", "1.2.3.30", at)
	bad.Entry.Seq = 2
	if err := st.Apply(ctx, bad); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("Apply(entry seq 2 for version 1) = %v, want ErrInvalidRequest", err)
	}
}

func testAppendOnly(t *testing.T, open func(t *testing.T) Store) {
	st := open(t)
	ctx := t.Context()
	if err := st.Apply(ctx, newReview("1.2.3.1", "1.2.3.10", time.Now())); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	db := dbOf(t, st)
	for _, stmt := range []string{
		`UPDATE review_trail SET entry = '{}'`,
		`DELETE FROM review_trail`,
	} {
		if _, err := db.ExecContext(ctx, stmt); err == nil {
			t.Errorf("%s succeeded, want an error", stmt)
		}
	}
	trail, err := st.Trail(ctx, "1.2.3.1")
	if err != nil || len(trail) != 1 || trail[0].Action != ActionSubmit {
		t.Errorf("Trail after tampering = %+v, %v, want the submit entry", trail, err)
	}
}

func testList(t *testing.T, open func(t *testing.T) Store) {
	st := open(t)
	ctx := t.Context()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a := newReview("1.2.3.1", "1.2.3.10", t0)
	b := newReview("1.2.3.2", "1.2.3.20", t0.Add(time.Hour))
	b.Review.SourceSeriesUIDs = []string{"1.2.3.200", "1.2.3.201"}
	c := newReview("1.2.3.3", "1.2.3.10", t0.Add(2*time.Hour))
	c.Review.StudyInstanceUID = "1.2.4"
	for _, ch := range []Change{a, b, c} {
		if err := st.Apply(ctx, ch); err != nil {
			t.Fatalf("Apply = %v", err)
		}
	}
	ma := moved(a.Review, StateSeniorQA, "rev")
	ma2 := moved(ma.Review, StateApproved, "sen")
	ma2.Review.SeniorQA, ma2.Review.ApprovedAt = "sen", t0.Add(3*time.Hour)
	for _, ch := range []Change{ma, ma2} {
		if err := st.Apply(ctx, ch); err != nil {
			t.Fatalf("Apply = %v", err)
		}
	}

	tests := []struct {
		name string
		f    Filter
		want []string
	}{
		{"all, oldest first", Filter{}, []string{"1.2.3.1", "1.2.3.2", "1.2.3.3"}},
		{"study", Filter{StudyInstanceUID: "1.2.4"}, []string{"1.2.3.3"}},
		{"series", Filter{SeriesInstanceUIDs: []string{"1.2.3.10"}},
			[]string{"1.2.3.1", "1.2.3.3"}},
		{"source series", Filter{SourceSeriesUIDs: []string{"1.2.3.201", "9"}},
			[]string{"1.2.3.2"}},
		{"states", Filter{States: []State{StateApproved, StateAudit}}, []string{"1.2.3.1"}},
		{"reviewer as senior", Filter{Reviewer: "sen"}, []string{"1.2.3.1"}},
		{"reviewer as peer", Filter{Reviewer: "rev"}, []string{"1.2.3.1"}},
		{"approved since, inclusive", Filter{ApprovedSince: t0.Add(3 * time.Hour)},
			[]string{"1.2.3.1"}},
		{"approved since, later", Filter{ApprovedSince: t0.Add(4 * time.Hour)}, []string{}},
		{"SOP UIDs", Filter{SOPInstanceUIDs: []string{"1.2.3.3", "1.2.3.2"}},
			[]string{"1.2.3.2", "1.2.3.3"}},
		{"limit", Filter{Limit: 2}, []string{"1.2.3.1", "1.2.3.2"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			list, err := st.List(ctx, tc.f)
			if err != nil {
				t.Fatalf("List = %v", err)
			}
			got := []string{}
			for _, r := range list {
				got = append(got, r.SOPInstanceUID)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("List(%+v) (-want +got):\n%s", tc.f, diff)
			}
		})
	}
	for _, f := range []Filter{{Limit: -1}, {Limit: MaxLimit + 1}, {States: []State{"x"}}} {
		if _, err := st.List(ctx, f); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("List(%+v) = %v, want ErrInvalidRequest", f, err)
		}
	}
}

// testConcurrentApply moves one review from many goroutines at once, each
// from the same version: exactly one move may win.
func testConcurrentApply(t *testing.T, open func(t *testing.T) Store) {
	st := open(t)
	ctx := t.Context()
	c := newReview("1.2.3.1", "1.2.3.10", time.Now())
	if err := st.Apply(ctx, c); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	const n = 12
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = st.Apply(ctx, moved(c.Review, StateSeniorQA, fmt.Sprintf("rev%d", i)))
		})
	}
	close(start)
	wg.Wait()
	won, lost := -1, 0
	for i, err := range errs {
		switch {
		case err == nil:
			won = i
		case errors.Is(err, ErrConflict):
			lost++
		default:
			t.Errorf("Apply #%d = %v, want nil or ErrConflict", i, err)
		}
	}
	if won < 0 || lost != n-1 {
		t.Fatalf("%d moves lost, winner %d; want one winner and %d conflicts", lost, won, n-1)
	}
	got, _ := st.Get(ctx, "1.2.3.1")
	if want := fmt.Sprintf("rev%d", won); got.Version != 2 || got.PeerReviewer != want {
		t.Errorf("after the race: version %d by %q, want 2 by %q", got.Version,
			got.PeerReviewer, want)
	}
	trail, _ := st.Trail(ctx, "1.2.3.1")
	if len(trail) != 2 {
		t.Errorf("trail has %d entries, want 2", len(trail))
	}
}
