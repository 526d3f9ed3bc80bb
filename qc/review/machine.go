package review

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/qcgate/qcgate/auth"
)

// MaxCommentLength bounds a comment, in characters.
const MaxCommentLength = 4000

// ActionRequest is one reviewer's action on a SEG.
type ActionRequest struct {
	Action Action `json:"action"`
	// Comment is free text; a return or rejection needs one (the reason).
	Comment string `json:"comment"`
	// Version, when not 0, is the review version the caller saw: the
	// action applies only if the review is still at that version, else it
	// fails with [ErrConflict]. 0 applies it to the current version.
	Version int64 `json:"version,omitempty"`
}

// rules are the settings a move is computed with.
type rules struct {
	now             time.Time
	allowSelfReview bool
	audit           AuditConfig
}

// transition computes the move req of principal p on r: the review after
// it and its trail entry. r is not changed. It checks, in this order, that
// the action is possible in r's state (else [ErrInvalidAction]), that p
// holds its role ([ErrForbidden]), the four-eyes rules ([ErrFourEyes]) and
// the comment ([ErrInvalidRequest]).
func transition(r *Review, p *auth.Principal, req ActionRequest, ru rules) (*Review, *Entry,
	error) {
	if p == nil || p.Subject == "" {
		return nil, nil, ErrUnauthenticated
	}
	role, ok := RequiredRole(r.State, req.Action)
	if !ok {
		return nil, nil, fmt.Errorf("%w: %q in state %s", ErrInvalidAction, req.Action, r.State)
	}
	if !p.Has(role) {
		return nil, nil, fmt.Errorf("%w: %s needs the %s role", ErrForbidden, req.Action, role)
	}
	if !ru.allowSelfReview {
		if err := fourEyes(r, p.Subject); err != nil {
			return nil, nil, err
		}
	}
	comment := strings.TrimSpace(req.Comment)
	if req.Action != ActionApprove && comment == "" {
		return nil, nil, fmt.Errorf("%w: %s needs a reason in the comment", ErrInvalidRequest,
			req.Action)
	}
	if n := utf8.RuneCountInString(comment); n > MaxCommentLength {
		return nil, nil, fmt.Errorf("%w: comment of %d characters, at most %d",
			ErrInvalidRequest, n, MaxCommentLength)
	}

	next := r.clone()
	e := &Entry{SOPInstanceUID: r.SOPInstanceUID, Actor: p.Subject,
		Role: string(actingRole(p, role)), At: ru.now, Action: req.Action, From: r.State,
		Comment: comment, ReportID: r.ReportID}
	switch req.Action {
	case ActionReturn:
		next.State = StateReturned
	case ActionReject:
		next.State = StateRejected
	case ActionApprove:
		approve(next, e, p.Subject, ru)
	}
	e.To = next.State
	next.Version = r.Version + 1
	next.UpdatedAt = ru.now
	e.Seq = next.Version
	return next, e, nil
}

// approve moves r one stage on, recording who approved and, at senior
// QA, the audit draw.
func approve(r *Review, e *Entry, actor string, ru rules) {
	switch r.State {
	case StatePeerReview:
		r.PeerReviewer = actor
		r.State = StateSeniorQA
	case StateSeniorQA:
		r.SeniorQA = actor
		d := ru.audit.Draw(r.SOPInstanceUID)
		r.Audit, e.Audit = &d, &d
		r.State = StateApproved
		if d.Sampled {
			r.State = StateAudit
		}
	case StateAudit:
		r.Auditor = actor
		r.State = StateApproved
	}
	if r.State == StateApproved {
		r.ApprovedAt = ru.now
	}
}

// fourEyes returns an error wrapping [ErrFourEyes] when actor may not act
// on r: the uploader never reviews their own SEG, senior QA is not the
// peer reviewer, and the auditor is neither of them.
func fourEyes(r *Review, actor string) error {
	if r.Uploader != "" && actor == r.Uploader {
		return fmt.Errorf("%w: the uploader cannot review their own SEG", ErrFourEyes)
	}
	switch r.State {
	case StateSeniorQA:
		if actor == r.PeerReviewer {
			return fmt.Errorf("%w: senior QA must be someone other than the peer reviewer",
				ErrFourEyes)
		}
	case StateAudit:
		if actor == r.PeerReviewer || actor == r.SeniorQA {
			return fmt.Errorf("%w: the auditor must not have reviewed the SEG", ErrFourEyes)
		}
	}
	return nil
}

// actingRole returns the role of p that grants need: need itself when p
// holds it, else the first of p's roles that implies it.
func actingRole(p *auth.Principal, need auth.Role) auth.Role {
	if slices.Contains(p.Roles, need) {
		return need
	}
	for _, r := range p.Roles {
		if r.Implies(need) {
			return r
		}
	}
	return need
}
