package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/review"
	"github.com/qcgate/qcgate/qc/store"
)

// The private attribute block the gateway adds to the DICOM JSON of SEG
// series and instances (PS3.5 7.8.1: a private creator element (0071,00xx)
// reserves the elements (0071,xx00) to (0071,xxFF)). The block is the
// first of (0071,0010) to (0071,00FF) that is free or already ours, so it
// is normally (0071,0010) and the elements below are (0071,1010) to
// (0071,1013).
const (
	// PrivateCreator is the value of the private creator element (LO).
	PrivateCreator = "QCGATE 1.0"
	// privateGroup is the odd group of the block.
	privateGroup = 0x0071
	// Element offsets within the block.
	// The values are those of the report and review APIs, which are
	// longer than CS allows, hence LO.
	privateDecision    = 0x10 // LO: accepted, accepted_with_warnings, rejected, unchecked
	privateReviewState = 0x11 // LO: the review state, absent without a review
	privateReportURL   = 0x12 // UR: the report (or list of reports) URL
	privateStatus      = 0x13 // LO: the status words, e.g. "2 warnings"
)

// DefaultQCStatusFormat is the default of [Config.QCStatusFormat].
const DefaultQCStatusFormat = "[QC {status}] "

// Status words of a SEG or SEG series, as they appear in the Series
// Description prefix.
const (
	statusOK        = "ok"
	statusRejected  = "rejected"
	statusInReview  = "in review"
	statusApproved  = "approved"
	statusReturned  = "returned"
	statusReplaced  = "superseded"
	statusUnchecked = "unchecked"
)

// ReviewLookup gives the review states of SEGs for the QC status shown to
// viewers. The review workflow provides it; without one the status comes
// from the QC decisions alone.
type ReviewLookup interface {
	// ReviewStates returns the state of each of the SEGs that has a
	// review; SEGs without one are not in the map.
	ReviewStates(ctx context.Context, sopInstanceUIDs []string) (map[string]review.State,
		error)
}

// reviewStoreLookup is a [ReviewLookup] over a review store.
type reviewStoreLookup struct{ st review.Store }

// ReviewLookupFromStore returns a [ReviewLookup] reading st.
func ReviewLookupFromStore(st review.Store) ReviewLookup { return reviewStoreLookup{st} }

// ReviewStates implements [ReviewLookup].
func (l reviewStoreLookup) ReviewStates(ctx context.Context, uids []string) (
	map[string]review.State, error) {
	out := map[string]review.State{}
	if len(uids) == 0 {
		return out, nil
	}
	list, err := l.st.List(ctx, review.Filter{SOPInstanceUIDs: uids, Limit: review.MaxLimit})
	if err != nil {
		return nil, fmt.Errorf("listing reviews: %w", err)
	}
	for _, r := range list {
		out[r.SOPInstanceUID] = r.State
	}
	return out, nil
}

// qcStatus is the QC status of one SEG or of a SEG series.
type qcStatus struct {
	// Words are the status words: "ok", "2 warnings", "in review".
	Words string
	// Decision is the worst QC decision, or "" when no report exists.
	Decision qc.Decision
	// ReviewState is the review state that decided the words, or "".
	ReviewState review.State
	// ReportURL is the report's URL, or that of the list of the series'
	// reports when the series holds several SEGs.
	ReportURL string
}

// segStatus is what the status of one SEG is made from.
type segStatus struct {
	report *store.StoredReport // nil when the gateway never checked it
	state  review.State        // "" without a review
}

// statusRank orders the status of SEGs of one series: a series shows the
// status of its SEG of lowest rank, so a problem is never hidden behind a
// good SEG.
func statusRank(words string) int {
	switch {
	case words == statusRejected:
		return 0
	case words == statusReturned:
		return 1
	case words == statusUnchecked:
		return 2
	case words == statusInReview:
		return 3
	case strings.HasSuffix(words, "warning") || strings.HasSuffix(words, "warnings"):
		return 4
	case words == statusOK:
		return 5
	case words == statusApproved:
		return 6
	}
	return 7
}

// warningWords returns "1 warning" or "n warnings".
func warningWords(n int) string {
	if n == 1 {
		return "1 warning"
	}
	return strconv.Itoa(n) + " warnings"
}

// countWarnings counts the warning findings of a report.
func countWarnings(r *qc.Report) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == qc.SeverityWarning {
			n++
		}
	}
	return n
}

// wordsOf returns the status words of one SEG: its review state when it
// has one, else its QC decision.
func wordsOf(s segStatus) string {
	switch {
	case s.state.InQueue():
		return statusInReview
	case s.state == review.StateApproved:
		return statusApproved
	case s.state == review.StateReturned:
		return statusReturned
	case s.state == review.StateRejected:
		return statusRejected
	case s.state == review.StateSuperseded:
		return statusReplaced
	case s.report == nil:
		return statusUnchecked
	}
	switch s.report.Report.Decision {
	case qc.DecisionRejected:
		return statusRejected
	case qc.DecisionAcceptedWithWarnings:
		return warningWords(countWarnings(s.report.Report))
	}
	return statusOK
}

// combineStatus returns the status of a series from those of its SEGs:
// the words of the lowest rank (warnings added up over the SEGs that have
// them), and the worst decision. Superseded SEGs count only when every
// SEG of the series is superseded.
func combineStatus(segs []segStatus) qcStatus {
	var live []segStatus
	for _, s := range segs {
		if s.state != review.StateSuperseded {
			live = append(live, s)
		}
	}
	if len(live) == 0 {
		live = segs
	}
	if len(live) == 0 {
		return qcStatus{Words: statusUnchecked}
	}

	var st qcStatus
	best, warnings := 99, 0
	for _, s := range live {
		w := wordsOf(s)
		if statusRank(w) == 4 {
			warnings += countWarnings(s.report.Report)
		}
		if r := statusRank(w); r < best {
			best, st.Words, st.ReviewState = r, w, s.state
		}
		if s.report != nil && decisionRank(s.report.Report.Decision) <
			decisionRank(st.Decision) {
			st.Decision = s.report.Report.Decision
		}
	}
	if best == 4 {
		st.Words = warningWords(warnings)
	}
	return st
}

// decisionRank orders decisions from worst to best; "" (no report) is
// last, so any decision replaces it.
func decisionRank(d qc.Decision) int {
	switch d {
	case qc.DecisionRejected:
		return 0
	case qc.DecisionAcceptedWithWarnings:
		return 1
	case qc.DecisionAccepted:
		return 2
	}
	return 3
}

// statusPrefix returns the Series Description prefix for words: format
// with {status} replaced.
func statusPrefix(format, words string) string {
	return strings.ReplaceAll(format, "{status}", words)
}

// reportURL returns the URL of a SEG's report at the gateway's base.
func reportURL(base *url.URL, sopInstanceUID string) string {
	if base == nil {
		return reportPath + sopInstanceUID
	}
	return base.String() + reportPath + sopInstanceUID
}

// seriesReportsURL returns the URL of the list of a series' reports.
func seriesReportsURL(base *url.URL, seriesInstanceUID string) string {
	p := strings.TrimSuffix(reportPath, "/") + "?SeriesInstanceUID=" + seriesInstanceUID
	if base == nil {
		return p
	}
	return base.String() + p
}

// statusSource looks up the reports and review states the QC status is
// made from.
type statusSource struct {
	reports store.Store
	reviews ReviewLookup // nil: QC decisions only
}

// maxStatusLookups bounds the store lookups one answer may cause; SEG
// series or instances beyond it are left unannotated.
const maxStatusLookups = 256

// seriesStatus returns the status of each SEG series named, from the
// latest report of each SEG the store holds for that series.
func (ss statusSource) seriesStatus(ctx context.Context, base *url.URL,
	series []string) (map[string]qcStatus, error) {
	out := map[string]qcStatus{}
	for _, uid := range series {
		list, err := ss.reports.List(ctx, store.Filter{SeriesInstanceUID: uid,
			Limit: store.MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("listing reports of a series: %w", err)
		}
		latest := latestPerSEG(list)
		segs, err := ss.withStates(ctx, latest)
		if err != nil {
			return nil, err
		}
		st := combineStatus(segs)
		switch len(latest) {
		case 0:
		case 1:
			st.ReportURL = reportURL(base, latest[0].Report.SOPInstanceUID)
		default:
			st.ReportURL = seriesReportsURL(base, uid)
		}
		out[uid] = st
	}
	return out, nil
}

// instanceStatus returns the status of each SEG instance named.
func (ss statusSource) instanceStatus(ctx context.Context, base *url.URL,
	instances []string) (map[string]qcStatus, error) {
	var reports []*store.StoredReport
	missing := map[string]bool{}
	for _, uid := range instances {
		r, err := ss.reports.Latest(ctx, uid)
		switch {
		case err == nil:
			reports = append(reports, r)
		case errors.Is(err, store.ErrNotFound):
			missing[uid] = true
		default:
			return nil, fmt.Errorf("reading a report: %w", err)
		}
	}
	segs, err := ss.withStates(ctx, reports)
	if err != nil {
		return nil, err
	}
	out := map[string]qcStatus{}
	for _, s := range segs {
		uid := s.report.Report.SOPInstanceUID
		st := combineStatus([]segStatus{s})
		st.ReportURL = reportURL(base, uid)
		out[uid] = st
	}
	for uid := range missing {
		out[uid] = qcStatus{Words: statusUnchecked}
	}
	return out, nil
}

// withStates pairs reports with the review states of their SEGs.
func (ss statusSource) withStates(ctx context.Context, reports []*store.StoredReport) (
	[]segStatus, error) {
	states := map[string]review.State{}
	if ss.reviews != nil && len(reports) > 0 {
		uids := make([]string, len(reports))
		for i, r := range reports {
			uids[i] = r.Report.SOPInstanceUID
		}
		var err error
		if states, err = ss.reviews.ReviewStates(ctx, uids); err != nil {
			return nil, fmt.Errorf("reading review states: %w", err)
		}
	}
	segs := make([]segStatus, len(reports))
	for i, r := range reports {
		segs[i] = segStatus{report: r, state: states[r.Report.SOPInstanceUID]}
	}
	return segs, nil
}

// latestPerSEG keeps the first (newest) report of each SEG of a list
// ordered newest first.
func latestPerSEG(list []*store.StoredReport) []*store.StoredReport {
	seen := map[string]bool{}
	var out []*store.StoredReport
	for _, r := range list {
		if r.Report == nil || seen[r.Report.SOPInstanceUID] {
			continue
		}
		seen[r.Report.SOPInstanceUID] = true
		out = append(out, r)
	}
	return out
}
