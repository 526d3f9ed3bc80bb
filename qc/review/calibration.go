package review

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/qcgate/qcgate/qc/store"
)

// ReviewerCalibration tells how often one reviewer's decisions agree with
// the next stage's. A peer reviewer's approval is compared with the
// senior QA decision that followed it, and a peer or senior approval with
// the audit decision that followed it: agreement means the later stage
// approved too. Returns and rejections end the review, so nothing later
// can confirm them; they count only as decisions.
type ReviewerCalibration struct {
	Reviewer string `json:"reviewer"`
	// Decisions counts the reviewer's approvals, returns and rejections.
	Decisions int `json:"decisions"`
	// SeniorQACompared counts peer approvals a senior QA decision
	// followed; SeniorQAAgreed those senior QA approved too.
	SeniorQACompared int `json:"senior_qa_compared"`
	SeniorQAAgreed   int `json:"senior_qa_agreed"`
	// AuditCompared counts approvals an audit decision followed;
	// AuditAgreed those the auditor approved too.
	AuditCompared int `json:"audit_compared"`
	AuditAgreed   int `json:"audit_agreed"`
	// SeniorQAAgreement and AuditAgreement are the ratios, nil when
	// nothing was compared.
	SeniorQAAgreement *float64 `json:"senior_qa_agreement"`
	AuditAgreement    *float64 `json:"audit_agreement"`
}

// AnnotatorCalibration compares one annotator's SEGs with the finally
// approved SEG of the same source series, segment by segment of the same
// concept. The numbers are those the QC engine computed when either SEG
// was checked (rule agreement.dice in the report's agreement list), not
// recomputed from the masks: an annotator's SEG counts when its report or
// the approved SEG's report compares the two.
type AnnotatorCalibration struct {
	Annotator string `json:"annotator"`
	// Comparisons counts the segment pairs compared.
	Comparisons int `json:"comparisons"`
	// MeanDice is the mean Dice; nil without comparisons.
	MeanDice *float64 `json:"mean_dice"`
	// MeanHD95MM is the mean HD95 in mm over the pairs where it is finite
	// (both segments non-empty); nil when there is none.
	MeanHD95MM *float64 `json:"mean_hd95_mm"`
}

// Calibration answers [Workflow.Calibration].
type Calibration struct {
	Reviewers  []ReviewerCalibration  `json:"reviewers"`
	Annotators []AnnotatorCalibration `json:"annotators"`
	// States counts all reviewed SEGs by state.
	States map[State]int `json:"states"`
}

// Calibration computes reviewer and annotator calibration over all
// reviews, at most [MaxLimit] of them.
//
// TODO(review): it reads every review, trail and report on each call;
// beyond about ten thousand SEGs it should keep running counts instead.
func (w *Workflow) Calibration(ctx context.Context) (*Calibration, error) {
	list, err := w.store.List(ctx, Filter{Limit: MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("listing reviews: %w", err)
	}
	out := &Calibration{States: map[State]int{}}
	sops := make([]string, 0, len(list))
	for _, r := range list {
		out.States[r.State]++
		sops = append(sops, r.SOPInstanceUID)
	}
	reviewers := map[string]*ReviewerCalibration{}
	for chunk := range slices.Chunk(sops, 500) {
		trail, err := w.store.Trail(ctx, chunk...)
		if err != nil {
			return nil, fmt.Errorf("reading trails: %w", err)
		}
		// The trail comes ordered by SEG: score each SEG's run of entries.
		for start := 0; start < len(trail); {
			end := start + 1
			for end < len(trail) && trail[end].SOPInstanceUID == trail[start].SOPInstanceUID {
				end++
			}
			scoreTrail(trail[start:end], reviewers)
			start = end
		}
	}
	for _, name := range sortedKeys(reviewers) {
		rc := reviewers[name]
		rc.SeniorQAAgreement = ratio(rc.SeniorQAAgreed, rc.SeniorQACompared)
		rc.AuditAgreement = ratio(rc.AuditAgreed, rc.AuditCompared)
		out.Reviewers = append(out.Reviewers, *rc)
	}
	out.Annotators, err = w.annotators(ctx, list)
	if err != nil {
		return nil, err
	}
	if out.Reviewers == nil {
		out.Reviewers = []ReviewerCalibration{}
	}
	return out, nil
}

// scoreTrail adds the decisions of one SEG's trail to the reviewers'
// counts. A recall starts a new round of review.
func scoreTrail(trail []Entry, reviewers map[string]*ReviewerCalibration) {
	get := func(name string) *ReviewerCalibration {
		if reviewers[name] == nil {
			reviewers[name] = &ReviewerCalibration{Reviewer: name}
		}
		return reviewers[name]
	}
	var peer, senior string
	for _, e := range trail {
		if e.Action == ActionRecall || e.Action == ActionSubmit {
			peer, senior = "", ""
			continue
		}
		if _, ok := RequiredRole(e.From, e.Action); !ok {
			continue
		}
		get(e.Actor).Decisions++
		approved := e.Action == ActionApprove
		switch e.From {
		case StatePeerReview:
			if approved {
				peer = e.Actor
			}
		case StateSeniorQA:
			if peer != "" {
				rc := get(peer)
				rc.SeniorQACompared++
				if approved {
					rc.SeniorQAAgreed++
				}
			}
			if approved {
				senior = e.Actor
			}
		case StateAudit:
			for _, who := range []string{peer, senior} {
				if who == "" {
					continue
				}
				rc := get(who)
				rc.AuditCompared++
				if approved {
					rc.AuditAgreed++
				}
			}
		}
	}
}

// pairKey identifies one compared segment pair.
type pairKey struct{ approved, other, concept string }

// annotators computes the annotator calibration from the reports'
// agreement lists.
func (w *Workflow) annotators(ctx context.Context, list []*Review) ([]AnnotatorCalibration,
	error) {
	out := []AnnotatorCalibration{}
	if w.reports == nil {
		return out, nil
	}
	byUID := map[string]*Review{}
	for _, r := range list {
		byUID[r.SOPInstanceUID] = r
	}
	type sums struct {
		n, nHD     int
		dice, hd95 float64
	}
	acc := map[string]*sums{}
	seen := map[pairKey]bool{}
	add := func(approved, other *Review, concept string, dice float64, hd95 *float64) {
		k := pairKey{approved.SOPInstanceUID, other.SOPInstanceUID, concept}
		if seen[k] || other.Uploader == "" || other.SOPInstanceUID == approved.SOPInstanceUID {
			return
		}
		seen[k] = true
		s := acc[other.Uploader]
		if s == nil {
			s = &sums{}
			acc[other.Uploader] = s
		}
		s.n++
		s.dice += dice
		if hd95 != nil && !math.IsInf(*hd95, 0) && !math.IsNaN(*hd95) {
			s.nHD++
			s.hd95 += *hd95
		}
	}
	for _, r := range list {
		rep, err := w.reports.Latest(ctx, r.SOPInstanceUID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading report of %s: %w", r.SOPInstanceUID, err)
		}
		for _, a := range rep.Report.Agreement {
			other := byUID[a.OtherSOPInstanceUID]
			switch {
			case other == nil:
			case r.State == StateApproved:
				add(r, other, a.Concept, a.Dice, a.HD95MM)
			case other.State == StateApproved:
				add(other, r, a.Concept, a.Dice, a.HD95MM)
			}
		}
	}
	for _, name := range sortedKeys(acc) {
		s := acc[name]
		ac := AnnotatorCalibration{Annotator: name, Comparisons: s.n,
			MeanDice: ratioF(s.dice, s.n), MeanHD95MM: ratioF(s.hd95, s.nHD)}
		out = append(out, ac)
	}
	return out, nil
}

// ratio returns a/b, or nil when b is 0.
func ratio(a, b int) *float64 {
	return ratioF(float64(a), b)
}

// ratioF returns a/b, or nil when b is 0.
func ratioF(a float64, b int) *float64 {
	if b == 0 {
		return nil
	}
	v := a / float64(b)
	return &v
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, strings.Compare)
	return keys
}
