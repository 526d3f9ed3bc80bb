package review

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/auth"
)

func TestWorkflow(t *testing.T) {
	runSuite(t, []suiteTest{
		{"full path with audit", testFullPath},
		{"refused actions", testRefused},
		{"return and reject", testReturnReject},
		{"concurrent reviewers", testConcurrentReviewers},
		{"rework in the same series", testReworkSameSeries},
		{"rework referencing the earlier SEG", testReworkReference},
		{"audit failure recalls approvals", testRecall},
		{"hidden SEGs", testHidden},
		{"stale version", testStaleVersion},
		{"late archive write", testLateArchiveWrite},
	})
}

// testLateArchiveWrite finishes the archive write of a review's opening
// after a reviewer rejected the SEG, as happens when the opening runs after
// the STOW-RS answer: the archive must end with the newest state, not the
// late one.
func testLateArchiveWrite(t *testing.T, open func(t *testing.T) Store) {
	w, arch := newWorkflow(t, open(t), Options{})
	opened := submit(t, w, report(1, "1.2.3.71", "1.2.3.71.1"))
	act(t, w, "1.2.3.71", reviewer, ActionReject, "not a liver")
	if err := w.setStatus(t.Context(), opened); err != nil {
		t.Fatalf("setStatus(opened) = %v", err)
	}
	arch.mu.Lock()
	defer arch.mu.Unlock()
	if got := arch.status["1.2.3.71"]; got != StateRejected {
		t.Errorf("archive state after a late write of %s = %s, want %s", opened.State, got,
			StateRejected)
	}
}

// entrySummary is the part of an entry the tests compare.
type entrySummary struct {
	Seq      int64
	Actor    string
	Role     string
	Action   Action
	From, To State
	Related  string
}

// summarize reduces a trail to its summaries.
func summarize(trail []Entry) []entrySummary {
	var out []entrySummary
	for _, e := range trail {
		out = append(out, entrySummary{e.Seq, e.Actor, e.Role, e.Action, e.From, e.To,
			e.Related})
	}
	return out
}

func testFullPath(t *testing.T, open func(t *testing.T) Store) {
	// Share 1 audits every SEG.
	w, arch := newWorkflow(t, open(t), Options{Audit: AuditConfig{Share: 1, Seed: "s"}})
	submit(t, w, report(7, "1.2.3.1", "1.2.3.10"))
	act(t, w, "1.2.3.1", reviewer, ActionApprove, "")
	out := act(t, w, "1.2.3.1", senior, ActionApprove, "looks right")
	if out.Review.State != StateAudit || out.Entry.Audit == nil || !out.Entry.Audit.Sampled {
		t.Fatalf("senior approval with share 1: state %s, draw %+v; want audit, sampled",
			out.Review.State, out.Entry.Audit)
	}
	out = act(t, w, "1.2.3.1", admin, ActionApprove, "")

	r, trail, err := w.Review(t.Context(), "1.2.3.1")
	if err != nil {
		t.Fatalf("Review = %v", err)
	}
	want := []entrySummary{
		{1, "ann", "annotator", ActionSubmit, "", StatePeerReview, ""},
		{2, "rev", "reviewer", ActionApprove, StatePeerReview, StateSeniorQA, ""},
		{3, "sen", "senior_qa", ActionApprove, StateSeniorQA, StateAudit, ""},
		{4, "adm", "admin", ActionApprove, StateAudit, StateApproved, ""},
	}
	if diff := cmp.Diff(want, summarize(trail)); diff != "" {
		t.Errorf("trail (-want +got):\n%s", diff)
	}
	for _, e := range trail {
		if e.ReportID != 7 {
			t.Errorf("entry %d has report %d, want 7", e.Seq, e.ReportID)
		}
	}
	if r.State != StateApproved || r.Version != 4 || r.PeerReviewer != "rev" ||
		r.SeniorQA != "sen" || r.Auditor != "adm" || r.ApprovedAt.IsZero() {
		t.Errorf("review = %+v, want approved at version 4 by rev, sen, adm", r)
	}
	if diff := cmp.Diff(r, out.Review); diff != "" {
		t.Errorf("stored review differs from the outcome (-stored +outcome):\n%s", diff)
	}
	if got := arch.status["1.2.3.1"]; got != StateApproved {
		t.Errorf("archive status = %q, want approved", got)
	}

	// Share 0 audits nothing: senior QA approves for good.
	w0, _ := newWorkflow(t, open(t), Options{})
	submit(t, w0, report(8, "1.2.3.2", "1.2.3.20"))
	act(t, w0, "1.2.3.2", reviewer, ActionApprove, "")
	out = act(t, w0, "1.2.3.2", senior, ActionApprove, "")
	if out.Review.State != StateApproved || out.Review.Audit.Sampled {
		t.Errorf("share 0: state %s, draw %+v; want approved, not sampled",
			out.Review.State, out.Review.Audit)
	}
}

func testRefused(t *testing.T, open func(t *testing.T) Store) {
	w, _ := newWorkflow(t, open(t), Options{})
	submit(t, w, report(1, "1.2.3.1", "1.2.3.10"))
	// A SEG uploaded by someone who also reviews.
	rep := report(2, "1.2.3.2", "1.2.3.20")
	rep.Report.Uploader = "rev"
	submit(t, w, rep)
	// One at senior QA, one at audit.
	wa, _ := newWorkflow(t, open(t), Options{Audit: AuditConfig{Share: 1, Seed: "s"}})
	submit(t, wa, report(3, "1.2.3.3", "1.2.3.30"))
	act(t, wa, "1.2.3.3", reviewer, ActionApprove, "")
	submit(t, wa, report(4, "1.2.3.4", "1.2.3.40"))
	act(t, wa, "1.2.3.4", reviewer, ActionApprove, "")
	act(t, wa, "1.2.3.4", senior, ActionApprove, "")

	both := principal("rev", auth.RoleReviewer, auth.RoleSeniorQA, auth.RoleAuditor)
	tests := []struct {
		name string
		w    *Workflow
		sop  string
		p    *auth.Principal
		req  ActionRequest
		want error
	}{
		{"no principal", w, "1.2.3.1", nil, ActionRequest{Action: ActionApprove},
			ErrUnauthenticated},
		{"viewer", w, "1.2.3.1", viewer, ActionRequest{Action: ActionApprove}, ErrForbidden},
		{"annotator", w, "1.2.3.1", annotator, ActionRequest{Action: ActionApprove},
			ErrForbidden},
		{"auditor at peer review", w, "1.2.3.1", auditor,
			ActionRequest{Action: ActionApprove}, ErrForbidden},
		{"unknown action", w, "1.2.3.1", reviewer, ActionRequest{Action: "bless"},
			ErrInvalidAction},
		{"system action", w, "1.2.3.1", admin, ActionRequest{Action: ActionSupersede},
			ErrInvalidAction},
		{"unknown SEG", w, "9.9", reviewer, ActionRequest{Action: ActionApprove},
			ErrNotFound},
		{"uploader reviews own SEG", w, "1.2.3.2", both,
			ActionRequest{Action: ActionApprove}, ErrFourEyes},
		{"uploader returns own SEG", w, "1.2.3.2", both,
			ActionRequest{Action: ActionReturn, Comment: "oops"}, ErrFourEyes},
		{"return without reason", w, "1.2.3.1", reviewer,
			ActionRequest{Action: ActionReturn, Comment: "  "}, ErrInvalidRequest},
		{"reject without reason", w, "1.2.3.1", reviewer,
			ActionRequest{Action: ActionReject}, ErrInvalidRequest},
		{"comment too long", w, "1.2.3.1", reviewer, ActionRequest{Action: ActionApprove,
			Comment: string(make([]rune, MaxCommentLength+1))}, ErrInvalidRequest},
		{"reviewer at senior QA", wa, "1.2.3.3", reviewer2,
			ActionRequest{Action: ActionApprove}, ErrForbidden},
		{"senior QA is the peer reviewer", wa, "1.2.3.3", both,
			ActionRequest{Action: ActionApprove}, ErrFourEyes},
		{"senior QA at audit", wa, "1.2.3.4", senior2,
			ActionRequest{Action: ActionApprove}, ErrForbidden},
		{"auditor was the peer reviewer", wa, "1.2.3.4", both,
			ActionRequest{Action: ActionApprove}, ErrFourEyes},
		{"auditor was senior QA", wa, "1.2.3.4",
			principal("sen", auth.RoleAuditor), ActionRequest{Action: ActionApprove},
			ErrFourEyes},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before, _ := tc.w.Store().Get(t.Context(), tc.sop)
			_, err := tc.w.Act(t.Context(), tc.sop, tc.p, tc.req)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Act = %v, want %v", err, tc.want)
			}
			after, _ := tc.w.Store().Get(t.Context(), tc.sop)
			if before != nil && after.Version != before.Version {
				t.Errorf("refused action moved the review to version %d", after.Version)
			}
		})
	}

	// The four-eyes rules can be switched off for demos.
	ws, _ := newWorkflow(t, open(t), Options{AllowSelfReview: true})
	rep = report(5, "1.2.3.5", "1.2.3.50")
	rep.Report.Uploader = "adm"
	submit(t, ws, rep)
	act(t, ws, "1.2.3.5", admin, ActionApprove, "")
	if out := act(t, ws, "1.2.3.5", admin, ActionApprove, ""); out.Review.State !=
		StateApproved {
		t.Errorf("self review allowed: state %s, want approved", out.Review.State)
	}
}

func testReturnReject(t *testing.T, open func(t *testing.T) Store) {
	w, arch := newWorkflow(t, open(t), Options{Audit: AuditConfig{Share: 1, Seed: "s"}})
	for i, from := range []State{StatePeerReview, StateSeniorQA, StateAudit} {
		for j, a := range []Action{ActionReturn, ActionReject} {
			sop := fmt.Sprintf("1.2.3.%d%d", i, j)
			submit(t, w, report(1, sop, sop+".1"))
			steps := []*auth.Principal{reviewer, senior}[:i]
			for _, p := range steps {
				act(t, w, sop, p, ActionApprove, "")
			}
			who := []*auth.Principal{reviewer, senior, auditor}[i]
			out := act(t, w, sop, who, a, "segment 2 leaks into the spleen")
			want := map[Action]State{ActionReturn: StateReturned,
				ActionReject: StateRejected}[a]
			if out.Entry.From != from || out.Review.State != want ||
				out.Entry.Comment != "segment 2 leaks into the spleen" {
				t.Errorf("%s from %s: entry %+v, state %s; want %s with the reason", a, from,
					out.Entry, out.Review.State, want)
			}
			if a == ActionReject {
				_, note := NoteUIDs(sop)
				if out.Review.RejectionNoteUID != note {
					t.Errorf("rejection note UID = %q, want %q", out.Review.RejectionNoteUID,
						note)
				}
			}
			if _, err := w.Act(t.Context(), sop, admin,
				ActionRequest{Action: ActionApprove}); !errors.Is(err, ErrInvalidAction) {
				t.Errorf("approve after %s = %v, want ErrInvalidAction", a, err)
			}
		}
	}
	if len(arch.stored) != 3 {
		t.Errorf("%d rejection notes stored, want 3", len(arch.stored))
	}
}

// testConcurrentReviewers lets reviewers act on one SEG at once, each on
// the version they saw: one move is applied, the others are conflicts.
func testConcurrentReviewers(t *testing.T, open func(t *testing.T) Store) {
	w, _ := newWorkflow(t, open(t), Options{})
	submit(t, w, report(1, "1.2.3.1", "1.2.3.10"))
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			p := principal(fmt.Sprintf("rev%d", i), auth.RoleReviewer)
			a := ActionApprove
			if i%2 == 1 {
				a = ActionReturn
			}
			_, errs[i] = w.Act(t.Context(), "1.2.3.1", p,
				ActionRequest{Action: a, Comment: "c", Version: 1})
		})
	}
	close(start)
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrConflict):
			t.Errorf("Act #%d = %v, want nil or ErrConflict", i, err)
		}
	}
	_, trail, _ := w.Review(t.Context(), "1.2.3.1")
	if ok != 1 || len(trail) != 2 {
		t.Errorf("%d actions applied, trail of %d; want 1 and 2", ok, len(trail))
	}
}

func testStaleVersion(t *testing.T, open func(t *testing.T) Store) {
	w, _ := newWorkflow(t, open(t), Options{})
	submit(t, w, report(1, "1.2.3.1", "1.2.3.10"))
	act(t, w, "1.2.3.1", reviewer, ActionApprove, "")
	_, err := w.Act(t.Context(), "1.2.3.1", senior, ActionRequest{Action: ActionApprove,
		Version: 1})
	if !errors.Is(err, ErrConflict) {
		t.Errorf("Act at version 1 of a review at 2 = %v, want ErrConflict", err)
	}
	if _, err := w.Act(t.Context(), "1.2.3.1", senior, ActionRequest{Action: ActionApprove,
		Version: 2}); err != nil {
		t.Errorf("Act at the current version = %v", err)
	}
}

func testReworkSameSeries(t *testing.T, open func(t *testing.T) Store) {
	w, arch := newWorkflow(t, open(t), Options{})
	submit(t, w, report(1, "1.2.3.1", "1.2.3.10"))
	act(t, w, "1.2.3.1", reviewer, ActionReturn, "liver tip missing")
	v2 := submit(t, w, report(2, "1.2.3.2", "1.2.3.10"))
	if v2.Chain != 2 || v2.Previous != "1.2.3.1" || v2.State != StatePeerReview {
		t.Errorf("second version = chain %d after %q in %s; want 2 after 1.2.3.1 in "+
			"peer_review", v2.Chain, v2.Previous, v2.State)
	}
	v1, trail, _ := w.Review(t.Context(), "1.2.3.1")
	if v1.State != StateSuperseded || v1.Next != "1.2.3.2" {
		t.Errorf("first version = %s, next %q; want superseded by 1.2.3.2", v1.State, v1.Next)
	}
	last := summarize(trail)[len(trail)-1]
	want := entrySummary{3, "ann", "annotator", ActionSupersede, StateReturned,
		StateSuperseded, "1.2.3.2"}
	if last != want {
		t.Errorf("last entry of v1 = %+v, want %+v", last, want)
	}
	if arch.status["1.2.3.1"] != StateSuperseded {
		t.Errorf("archive status of v1 = %q, want superseded", arch.status["1.2.3.1"])
	}
	queue, _ := w.Store().List(t.Context(), Filter{States: []State{StatePeerReview,
		StateSeniorQA, StateAudit}})
	if len(queue) != 1 || queue[0].SOPInstanceUID != "1.2.3.2" {
		t.Errorf("queue holds %d reviews, want only 1.2.3.2", len(queue))
	}

	// A third version links to the second, not to the first; a report
	// seen again keeps its review.
	v3 := submit(t, w, report(3, "1.2.3.3", "1.2.3.10"))
	again := submit(t, w, report(4, "1.2.3.3", "1.2.3.10"))
	if v3.Previous != "1.2.3.2" || v3.Chain != 3 || again.Version != 1 {
		t.Errorf("third version after %q (chain %d), resubmitted version %d; want 1.2.3.2, "+
			"3, 1", v3.Previous, v3.Chain, again.Version)
	}

	// A report of a SEG that automated QC rejected, or that was not
	// stored, opens nothing.
	rej := report(5, "1.2.3.9", "1.2.3.90")
	rej.Stored = false
	if r, err := w.OnReportStored(t.Context(), rej, ""); r != nil || err != nil {
		t.Errorf("OnReportStored(not stored) = %v, %v; want nil, nil", r, err)
	}
}

func testReworkReference(t *testing.T, open func(t *testing.T) Store) {
	w, _ := newWorkflow(t, open(t), Options{})
	submit(t, w, report(1, "1.2.3.1", "1.2.3.10", "1.2.3.100"))
	act(t, w, "1.2.3.1", reviewer, ActionReject, "wrong organ")
	// The corrected SEG is in a new series and names the rejected SEG's
	// series among its sources.
	v2 := submit(t, w, report(2, "1.2.3.2", "1.2.3.20", "1.2.3.100", "1.2.3.10"))
	v1, trail, _ := w.Review(t.Context(), "1.2.3.1")
	if v2.Previous != "1.2.3.1" || v1.Next != "1.2.3.2" || v1.State != StateRejected {
		t.Errorf("v2 after %q; v1 next %q in %s; want linked, v1 still rejected",
			v2.Previous, v1.Next, v1.State)
	}
	if got := trail[len(trail)-1].Action; got != ActionLink {
		t.Errorf("last action on v1 = %s, want link", got)
	}
	// An unrelated SEG of the same source series is no new version.
	other := submit(t, w, report(3, "1.2.3.3", "1.2.3.30", "1.2.3.100"))
	if other.Previous != "" || other.Chain != 1 {
		t.Errorf("unrelated SEG linked after %q", other.Previous)
	}
}

func testRecall(t *testing.T, open func(t *testing.T) Store) {
	clk := newClock()
	w, arch := newWorkflow(t, open(t), Options{Now: clk.now,
		Audit: AuditConfig{Share: 1, Seed: "s", RecallWindow: time.Hour}})
	wNoAudit, _ := newWorkflow(t, w.Store(), Options{Now: clk.now,
		Audit: AuditConfig{Share: 0, RecallWindow: time.Hour}})
	// Three SEGs approved without audit: two by rev, one by rev2 and sen2.
	for i, ps := range [][2]*auth.Principal{{reviewer, senior2}, {reviewer2, senior2},
		{reviewer2, senior}} {
		sop := fmt.Sprintf("1.2.3.%d", i+1)
		submit(t, wNoAudit, report(int64(i+1), sop, sop+".1"))
		act(t, wNoAudit, sop, ps[0], ActionApprove, "")
		act(t, wNoAudit, sop, ps[1], ActionApprove, "")
	}
	// An old approval by rev, outside the window.
	clk.mu.Lock()
	clk.t = clk.t.Add(2 * time.Hour)
	clk.mu.Unlock()
	// The audited SEG: rev and sen; the audit fails.
	submit(t, w, report(9, "1.2.3.9", "1.2.3.9.1"))
	act(t, w, "1.2.3.9", reviewer, ActionApprove, "")
	act(t, w, "1.2.3.9", senior, ActionApprove, "")
	submit(t, wNoAudit, report(10, "1.2.3.10", "1.2.3.10.1"))
	act(t, wNoAudit, "1.2.3.10", reviewer, ActionApprove, "")
	act(t, wNoAudit, "1.2.3.10", senior2, ActionApprove, "")
	out := act(t, w, "1.2.3.9", auditor, ActionReturn, "boundary off by 3 mm")

	// Within the window only 1.2.3.10 (rev) counts; sen's 1.2.3.3 was
	// approved before the window.
	if diff := cmp.Diff([]string{"1.2.3.10"}, out.Recalled); diff != "" {
		t.Errorf("recalled (-want +got):\n%s", diff)
	}
	r, trail, _ := w.Review(t.Context(), "1.2.3.10")
	last := trail[len(trail)-1]
	if r.State != StatePeerReview || r.PeerReviewer != "" || last.Action != ActionRecall ||
		last.Related != "1.2.3.9" {
		t.Errorf("recalled SEG: %s, peer %q, last entry %+v", r.State, r.PeerReviewer, last)
	}
	if arch.status["1.2.3.10"] != StatePeerReview {
		t.Errorf("archive status of the recalled SEG = %q", arch.status["1.2.3.10"])
	}
	for _, sop := range []string{"1.2.3.1", "1.2.3.2", "1.2.3.3"} {
		if r, _ := w.Store().Get(t.Context(), sop); r.State != StateApproved {
			t.Errorf("%s: %s, want still approved", sop, r.State)
		}
	}
}

func testHidden(t *testing.T, open func(t *testing.T) Store) {
	w, _ := newWorkflow(t, open(t), Options{})
	submit(t, w, report(1, "1.2.3.1", "1.2.3.10"))
	submit(t, w, report(2, "1.2.3.2", "1.2.3.20"))
	submit(t, w, report(3, "1.2.3.3", "1.2.3.30"))
	act(t, w, "1.2.3.1", reviewer, ActionReject, "not a liver")
	act(t, w, "1.2.3.3", reviewer, ActionReturn, "redo")
	got, err := w.Hidden(t.Context(), []string{"1.2.3.1", "1.2.3.2", "1.2.3.3", "9.9"})
	if err != nil {
		t.Fatalf("Hidden = %v", err)
	}
	if diff := cmp.Diff(map[string]bool{"1.2.3.1": true}, got); diff != "" {
		t.Errorf("Hidden (-want +got):\n%s", diff)
	}
	series, err := w.HiddenSeries(t.Context(), []string{"1.2.3.10", "1.2.3.20", "9.9"})
	if err != nil {
		t.Fatalf("HiddenSeries = %v", err)
	}
	if diff := cmp.Diff(map[string]bool{"1.2.3.10": true}, series); diff != "" {
		t.Errorf("HiddenSeries (-want +got):\n%s", diff)
	}
}
