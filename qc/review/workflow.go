package review

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"time"

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/store"
)

// maxLinkRetries bounds the retries of a rework link that lost a race
// against a move of the earlier version.
const maxLinkRetries = 5

// Reports gives the QC reports of SEGs; [store.Store] is one.
type Reports interface {
	// Latest returns the newest report of a SEG, or an error wrapping
	// [store.ErrNotFound].
	Latest(ctx context.Context, sopInstanceUID string) (*store.StoredReport, error)
}

// Archive is the archive that holds the SEGs, written to after each move.
// The gateway fills it with its upstream client.
type Archive interface {
	// SetStatus records the review state of a stored instance in the
	// archive, for example as Orthanc user metadata.
	SetStatus(ctx context.Context, sopInstanceUID string, state State) error
	// Attributes returns the patient and study attributes of a stored
	// instance, which its rejection note must repeat.
	Attributes(ctx context.Context, study, series, sopInstanceUID string) (PatientStudy, error)
	// Store stores one DICOM Part 10 instance in the study, through the
	// archive's STOW-RS.
	Store(ctx context.Context, studyInstanceUID string, part10 []byte) error
}

// Options configures [New].
type Options struct {
	// Store keeps the reviews. Required.
	Store Store
	// Reports gives the QC reports for completeness and calibration.
	// Nil means those compute without reports: no missing segments and
	// no annotator agreement.
	Reports Reports
	// Archive receives the review states and rejection notes. Nil means
	// the archive is not written to.
	Archive Archive
	// Audit sets the random audit; its zero value audits nothing.
	Audit AuditConfig
	// AllowSelfReview turns the four-eyes rules off. It exists for demos
	// with authentication switched off, where every request comes from
	// the same anonymous admin; never set it in production. The default,
	// false, enforces the rules.
	AllowSelfReview bool
	// Now returns the time; nil means [time.Now].
	Now func() time.Time
}

// Workflow runs the review of SEGs. Build it with [New]; it is safe for
// concurrent use, also by several processes sharing one store.
type Workflow struct {
	store   Store
	reports Reports
	archive Archive
	audit   AuditConfig
	self    bool
	now     func() time.Time
	// statusLocks order the archive writes of each SEG (setStatus).
	statusLocks [statusLockCount]sync.Mutex
}

// New returns a workflow, or an error wrapping [ErrInvalidConfig].
func New(opts Options) (*Workflow, error) {
	if opts.Store == nil {
		return nil, fmt.Errorf("%w: no store", ErrInvalidConfig)
	}
	if err := opts.Audit.Validate(); err != nil {
		return nil, err
	}
	w := &Workflow{store: opts.Store, reports: opts.Reports, archive: opts.Archive,
		audit: opts.Audit, self: opts.AllowSelfReview, now: opts.Now}
	if w.now == nil {
		w.now = time.Now
	}
	return w, nil
}

// Store returns the workflow's store.
func (w *Workflow) Store() Store { return w.store }

// Outcome is the result of [Workflow.Act].
type Outcome struct {
	// Review is the review after the move.
	Review *Review `json:"review"`
	// Entry is the trail entry of the move.
	Entry *Entry `json:"entry"`
	// Recalled lists the SEGs sent back to peer review because this move
	// failed an audit.
	Recalled []string `json:"recalled,omitempty"`
	// ArchiveErr is set when the move was applied but writing it to the
	// archive (state, rejection note) failed; the review is not undone.
	ArchiveErr error `json:"-"`
}

// Act applies a reviewer's action to a SEG. Errors wrap [ErrNotFound],
// [ErrConflict] (the review moved meanwhile, or is not at req.Version),
// [ErrInvalidAction], [ErrUnauthenticated], [ErrForbidden], [ErrFourEyes]
// or [ErrInvalidRequest]. After the move is stored, the new state goes to
// the archive; a rejection stores a rejection note; a failed audit may
// recall other SEGs (see [AuditConfig.RecallWindow]).
func (w *Workflow) Act(ctx context.Context, sopInstanceUID string, p *auth.Principal,
	req ActionRequest) (*Outcome, error) {
	r, err := w.store.Get(ctx, sopInstanceUID)
	if err != nil {
		return nil, err
	}
	if req.Version != 0 && req.Version != r.Version {
		return nil, fmt.Errorf("%w: review of %s is at version %d, not %d", ErrConflict,
			sopInstanceUID, r.Version, req.Version)
	}
	next, e, err := transition(r, p, req, rules{now: w.now(), allowSelfReview: w.self,
		audit: w.audit})
	if err != nil {
		return nil, err
	}
	if err := w.store.Apply(ctx, Change{Review: next, Expect: r.Version, Entry: e}); err != nil {
		return nil, err
	}

	out := &Outcome{Review: next, Entry: e}
	var errs []error
	errs = append(errs, w.setStatus(ctx, next))
	if next.State == StateRejected {
		errs = append(errs, w.reject(ctx, out))
	}
	if r.State == StateAudit && next.State != StateApproved && w.audit.RecallWindow > 0 {
		recalled, err := w.recall(ctx, next)
		out.Recalled = recalled
		errs = append(errs, err)
	}
	out.ArchiveErr = errors.Join(errs...)
	return out, nil
}

// setStatus writes the state of r's SEG to the archive, if there is one.
// Moves of one SEG can finish their archive writes out of order (the
// opening of a review runs after the STOW-RS answer, while a reviewer may
// already act), so it writes the state the store holds now, not r's, under
// a lock per SEG, and writes again when the store moved meanwhile (another
// replica): the last write is the newest state.
func (w *Workflow) setStatus(ctx context.Context, r *Review) error {
	if w.archive == nil {
		return nil
	}
	mu := &w.statusLocks[statusLockIndex(r.SOPInstanceUID)]
	mu.Lock()
	defer mu.Unlock()
	var written State
	for range maxStatusWrites {
		state := r.State
		if cur, err := w.store.Get(ctx, r.SOPInstanceUID); err == nil {
			state = cur.State
		}
		if state == written {
			return nil
		}
		if err := w.archive.SetStatus(ctx, r.SOPInstanceUID, state); err != nil {
			return fmt.Errorf("writing review state of %s to the archive: %w",
				r.SOPInstanceUID, err)
		}
		written = state
	}
	return nil
}

// maxStatusWrites bounds the archive writes of one [Workflow.setStatus].
const maxStatusWrites = 4

// statusLockCount is the number of locks SEGs share for archive writes.
const statusLockCount = 64

// statusLockIndex picks the archive write lock of a SEG.
func statusLockIndex(sopInstanceUID string) int {
	h := fnv.New32a()
	h.Write([]byte(sopInstanceUID))
	return int(h.Sum32() % statusLockCount)
}

// Review returns the review of a SEG and its trail.
func (w *Workflow) Review(ctx context.Context, sopInstanceUID string) (*Review, []Entry,
	error) {
	r, err := w.store.Get(ctx, sopInstanceUID)
	if err != nil {
		return nil, nil, err
	}
	trail, err := w.store.Trail(ctx, sopInstanceUID)
	if err != nil {
		return nil, nil, err
	}
	return r, trail, nil
}

// OnReportStored opens the review of a SEG after its QC report was
// stored: call it for every stored report. A SEG the archive does not hold
// (rep.Stored false) gets no review and nil is returned; a SEG that has a
// review already keeps it. uploader is the token subject that sent it;
// empty means the report's Uploader.
//
// A SEG that replaces an earlier one (a new instance in the same SEG
// series, or a SEG whose source series include the earlier SEG's series)
// becomes the next version of the newest such SEG, which is superseded
// and leaves the queue; a rejected earlier version stays rejected and is
// only linked.
func (w *Workflow) OnReportStored(ctx context.Context, rep *store.StoredReport,
	uploader string) (*Review, error) {
	if rep == nil || rep.Report == nil || rep.Report.SOPInstanceUID == "" {
		return nil, fmt.Errorf("%w: no report", ErrInvalidRequest)
	}
	if !rep.Stored || rep.Report.Decision == qc.DecisionRejected {
		return nil, nil
	}
	if uploader == "" {
		uploader = rep.Report.Uploader
	}
	for range maxLinkRetries {
		r, err := w.open(ctx, rep, uploader)
		if !errors.Is(err, ErrConflict) {
			return r, err
		}
	}
	return nil, fmt.Errorf("opening review of %s: %w", rep.Report.SOPInstanceUID, ErrConflict)
}

// open makes one attempt of OnReportStored.
func (w *Workflow) open(ctx context.Context, rep *store.StoredReport, uploader string) (
	*Review, error) {
	q := rep.Report
	if r, err := w.store.Get(ctx, q.SOPInstanceUID); err == nil {
		return r, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	prev, err := w.predecessor(ctx, q)
	if err != nil {
		return nil, err
	}

	now := w.now()
	r := &Review{SOPInstanceUID: q.SOPInstanceUID, SOPClassUID: q.SOPClassUID,
		StudyInstanceUID: q.StudyInstanceUID, SeriesInstanceUID: q.SeriesInstanceUID,
		SourceSeriesUIDs: slices.Clone(q.SourceSeriesUIDs), State: StatePeerReview,
		Version: 1, ReportID: rep.ID, ProfileName: q.Profile.Name,
		ProfileVersion: q.Profile.Version, Decision: string(q.Decision), Uploader: uploader,
		Chain: 1, CreatedAt: now, UpdatedAt: now}
	actor, role := uploader, string(auth.RoleAnnotator)
	if actor == "" {
		actor, role = SystemActor, SystemRole
	}
	e := &Entry{SOPInstanceUID: r.SOPInstanceUID, Seq: 1, Actor: actor, Role: role, At: now,
		Action: ActionSubmit, To: StatePeerReview, ReportID: rep.ID,
		Comment: "automated QC: " + string(q.Decision)}
	changes := []Change{{Review: r, Entry: e}}

	var old *Review
	if prev != nil {
		r.Chain, r.Previous, e.Related = prev.Chain+1, prev.SOPInstanceUID, prev.SOPInstanceUID
		old = prev.clone()
		old.Next, old.Version, old.UpdatedAt = r.SOPInstanceUID, prev.Version+1, now
		oe := &Entry{SOPInstanceUID: old.SOPInstanceUID, Seq: old.Version, Actor: actor,
			Role: role, At: now, Action: ActionSupersede, From: prev.State,
			To: StateSuperseded, ReportID: prev.ReportID, Related: r.SOPInstanceUID,
			Comment: "replaced by a corrected version"}
		if prev.State == StateRejected {
			oe.Action, oe.Comment = ActionLink, "a corrected version was uploaded"
		} else {
			old.State = StateSuperseded
		}
		oe.To = old.State
		changes = append(changes, Change{Review: old, Expect: prev.Version, Entry: oe})
	}
	if err := w.store.Apply(ctx, changes...); err != nil {
		return nil, err
	}
	// The review is open whatever the archive says; a failed status write
	// is seen again on the next move.
	w.setStatus(ctx, r)
	if old != nil && old.State == StateSuperseded {
		w.setStatus(ctx, old)
	}
	return r, nil
}

// predecessor returns the review a new SEG replaces, or nil: among the
// reviews of SEGs in the new SEG's series or in one of its source series,
// not superseded and not yet replaced, the newest.
func (w *Workflow) predecessor(ctx context.Context, q *qc.Report) (*Review, error) {
	series := append([]string{q.SeriesInstanceUID}, q.SourceSeriesUIDs...)
	list, err := w.store.List(ctx, Filter{SeriesInstanceUIDs: series, Limit: MaxLimit})
	if err != nil {
		return nil, err
	}
	var best *Review
	for _, r := range list {
		if r.SOPInstanceUID == q.SOPInstanceUID || r.State == StateSuperseded || r.Next != "" {
			continue
		}
		if best == nil || cmp.Or(r.CreatedAt.Compare(best.CreatedAt),
			cmp.Compare(r.Chain, best.Chain)) > 0 {
			best = r
		}
	}
	return best, nil
}

// recall sends back to peer review the SEGs that the failed SEG's peer
// reviewer or senior QA reviewer approved within the recall window. A SEG
// that moved meanwhile is left alone.
func (w *Workflow) recall(ctx context.Context, failed *Review) ([]string, error) {
	since := w.now().Add(-w.audit.RecallWindow)
	seen := map[string]bool{failed.SOPInstanceUID: true}
	var recalled []string
	var errs []error
	for _, who := range []string{failed.PeerReviewer, failed.SeniorQA} {
		if who == "" {
			continue
		}
		list, err := w.store.List(ctx, Filter{States: []State{StateApproved}, Reviewer: who,
			ApprovedSince: since, Limit: MaxLimit})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, r := range list {
			if seen[r.SOPInstanceUID] {
				continue
			}
			seen[r.SOPInstanceUID] = true
			if err := w.recallOne(ctx, r, failed.SOPInstanceUID); err != nil {
				if !errors.Is(err, ErrConflict) {
					errs = append(errs, err)
				}
				continue
			}
			recalled = append(recalled, r.SOPInstanceUID)
		}
	}
	return recalled, errors.Join(errs...)
}

// recallOne moves one approved SEG back to peer review.
func (w *Workflow) recallOne(ctx context.Context, r *Review, cause string) error {
	now := w.now()
	next := r.clone()
	next.State, next.Version, next.UpdatedAt = StatePeerReview, r.Version+1, now
	next.PeerReviewer, next.SeniorQA, next.Auditor = "", "", ""
	next.ApprovedAt, next.Audit = time.Time{}, nil
	e := &Entry{SOPInstanceUID: r.SOPInstanceUID, Seq: next.Version, Actor: SystemActor,
		Role: SystemRole, At: now, Action: ActionRecall, From: r.State, To: next.State,
		ReportID: r.ReportID, Related: cause,
		Comment: "recalled for another look: the audit of a SEG the same reviewers approved failed"}
	if err := w.store.Apply(ctx, Change{Review: next, Expect: r.Version, Entry: e}); err != nil {
		return err
	}
	return w.setStatus(ctx, next)
}

// Hidden tells which of the SEGs QIDO answers should hide: those rejected
// in review. SEGs without a review are not in the map.
func (w *Workflow) Hidden(ctx context.Context, sopInstanceUIDs []string) (map[string]bool,
	error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(sopInstanceUIDs, 500) {
		list, err := w.store.List(ctx, Filter{SOPInstanceUIDs: chunk,
			States: []State{StateRejected}, Limit: MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("finding rejected SEGs: %w", err)
		}
		for _, r := range list {
			out[r.SOPInstanceUID] = true
		}
	}
	return out, nil
}

// HiddenSeries tells which of the series QIDO answers should hide: SEG
// series of which every reviewed SEG was rejected in review.
func (w *Workflow) HiddenSeries(ctx context.Context, seriesInstanceUIDs []string) (
	map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(seriesInstanceUIDs, 500) {
		list, err := w.store.List(ctx, Filter{SeriesInstanceUIDs: chunk, Limit: MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("finding rejected SEG series: %w", err)
		}
		shown := map[string]bool{}
		for _, r := range list {
			if r.State == StateRejected {
				if !shown[r.SeriesInstanceUID] {
					out[r.SeriesInstanceUID] = true
				}
				continue
			}
			shown[r.SeriesInstanceUID] = true
			delete(out, r.SeriesInstanceUID)
		}
	}
	return out, nil
}
