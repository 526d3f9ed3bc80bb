package review

import (
	"time"

	"github.com/qcgate/qcgate/auth"
)

// State is where a SEG stands in the review.
type State string

// The states of a review. [StatePeerReview], [StateSeniorQA] and
// [StateAudit] are the review states, in which a SEG waits for someone;
// the others end the review of that SEG.
const (
	// StatePeerReview waits for a reviewer.
	StatePeerReview State = "peer_review"
	// StateSeniorQA waits for a senior QA reviewer.
	StateSeniorQA State = "senior_qa"
	// StateAudit waits for an auditor: the random audit drew the SEG.
	StateAudit State = "audit"
	// StateApproved may enter a training set.
	StateApproved State = "approved"
	// StateReturned waits for a corrected SEG from the annotator.
	StateReturned State = "returned"
	// StateRejected will not be used; a SEG rejected after storage is
	// also marked by a rejection note in the archive.
	StateRejected State = "rejected"
	// StateSuperseded was replaced by a corrected version.
	StateSuperseded State = "superseded"
)

// States returns every state, the review states first.
func States() []State {
	return []State{StatePeerReview, StateSeniorQA, StateAudit, StateApproved,
		StateReturned, StateRejected, StateSuperseded}
}

// Valid reports whether s is one of the defined states.
func (s State) Valid() bool {
	switch s {
	case StatePeerReview, StateSeniorQA, StateAudit, StateApproved, StateReturned,
		StateRejected, StateSuperseded:
		return true
	}
	return false
}

// InQueue reports whether a SEG in state s waits for a reviewer.
func (s State) InQueue() bool {
	return s == StatePeerReview || s == StateSeniorQA || s == StateAudit
}

// Action is what a reviewer does to a SEG.
type Action string

// The actions of [Workflow.Act]. Approve moves a SEG to the next stage;
// return and reject end its review and need a reason.
const (
	ActionApprove Action = "approve"
	ActionReturn  Action = "return"
	ActionReject  Action = "reject"
)

// Actions the workflow takes by itself; they appear in trails only.
const (
	// ActionSubmit opens the review of a SEG stored after automated QC.
	ActionSubmit Action = "submit"
	// ActionSupersede marks a SEG replaced by a corrected version.
	ActionSupersede Action = "supersede"
	// ActionLink records, on a SEG already rejected, the version that
	// replaces it; the state does not change.
	ActionLink Action = "link"
	// ActionRecall sends an approved SEG back to peer review because an
	// audit of the same reviewers' work failed.
	ActionRecall Action = "recall"
)

// SystemActor is the actor of moves the workflow makes by itself, and
// SystemRole its role in the trail.
const (
	SystemActor = "qcgate"
	SystemRole  = "system"
)

// Review is the current state of the review of one SEG.
type Review struct {
	SOPInstanceUID    string   `json:"sop_instance_uid"`
	SOPClassUID       string   `json:"sop_class_uid"`
	StudyInstanceUID  string   `json:"study_instance_uid"`
	SeriesInstanceUID string   `json:"series_instance_uid"`
	SourceSeriesUIDs  []string `json:"source_series_uids"`
	// State is where the SEG stands.
	State State `json:"state"`
	// Version grows by one with every move; a store applies a move only
	// to the version it was computed from. 1 after the first entry.
	Version int64 `json:"version"`
	// ReportID is the ID of the QC report the review started from.
	ReportID int64 `json:"report_id"`
	// ProfileName and ProfileVersion name the QC profile of that report.
	ProfileName    string `json:"profile_name"`
	ProfileVersion string `json:"profile_version"`
	// Decision is the automated QC decision.
	Decision string `json:"decision"`
	// Uploader is the token subject that sent the SEG; empty when
	// authentication was off.
	Uploader string `json:"uploader,omitempty"`
	// PeerReviewer, SeniorQA and Auditor are who approved the SEG at
	// each stage, empty until then.
	PeerReviewer string `json:"peer_reviewer,omitempty"`
	SeniorQA     string `json:"senior_qa,omitempty"`
	Auditor      string `json:"auditor,omitempty"`
	// Audit is the audit draw made when senior QA approved; nil before.
	Audit *AuditDraw `json:"audit,omitempty"`
	// Chain numbers the versions of one annotation: 1 for a first SEG,
	// one more for each corrected SEG that replaced the one before.
	Chain int `json:"chain"`
	// Previous is the SOP Instance UID of the version this one replaced,
	// and Next that of the version that replaced it; empty when none.
	Previous string `json:"previous,omitempty"`
	Next     string `json:"next,omitempty"`
	// RejectionNoteUID is the SOP Instance UID of the Key Object
	// Selection document that rejects the SEG in the archive; empty
	// until it was stored.
	RejectionNoteUID string `json:"rejection_note_uid,omitempty"`
	// CreatedAt is when the review began, UpdatedAt when it last moved,
	// ApprovedAt when it reached [StateApproved] (zero otherwise).
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	ApprovedAt time.Time `json:"approved_at,omitzero"`
}

// clone returns a deep copy of r.
func (r *Review) clone() *Review {
	c := *r
	c.SourceSeriesUIDs = append([]string(nil), r.SourceSeriesUIDs...)
	if r.Audit != nil {
		a := *r.Audit
		c.Audit = &a
	}
	return &c
}

// Entry is one move in the append-only trail of a SEG.
type Entry struct {
	SOPInstanceUID string `json:"sop_instance_uid"`
	// Seq numbers the entries of one SEG from 1; it equals the review's
	// version after the move.
	Seq int64 `json:"seq"`
	// Actor is the token subject who moved the SEG, or [SystemActor].
	Actor string `json:"actor"`
	// Role is the role the actor acted in.
	Role string `json:"role"`
	// At is when the move was made.
	At     time.Time `json:"at"`
	Action Action    `json:"action"`
	// From is empty for the entry that opens the review.
	From    State  `json:"from,omitempty"`
	To      State  `json:"to"`
	Comment string `json:"comment,omitempty"`
	// ReportID is the QC report version the move was made on.
	ReportID int64 `json:"report_id"`
	// Audit is the audit draw, on the entry of a senior QA approval.
	Audit *AuditDraw `json:"audit,omitempty"`
	// Related is another SEG the move concerns: the replaced or
	// replacing version, or the audited SEG that caused a recall.
	Related string `json:"related,omitempty"`
}

// RequiredRole returns the role an action needs in a state, and false
// when the action is not possible there.
func RequiredRole(from State, a Action) (auth.Role, bool) {
	switch a {
	case ActionApprove, ActionReturn, ActionReject:
	default:
		return "", false
	}
	switch from {
	case StatePeerReview:
		return auth.RoleReviewer, true
	case StateSeniorQA:
		return auth.RoleSeniorQA, true
	case StateAudit:
		return auth.RoleAuditor, true
	}
	return "", false
}
