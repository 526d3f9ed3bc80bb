package review

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/qcgate/qcgate/qc"
)

// ExportFilter selects the approved SEGs of [Workflow.Export].
type ExportFilter struct {
	// StudyInstanceUID, when set, limits the export to one study.
	StudyInstanceUID string
	// SourceSeriesUIDs, when set, limits it to SEGs of these sources.
	SourceSeriesUIDs []string
	// Limit is the maximum number of SEGs; 0 means [DefaultLimit].
	Limit int
}

// ReviewSummary tells who approved an exported SEG, and how.
type ReviewSummary struct {
	Uploader     string `json:"uploader,omitempty"`
	PeerReviewer string `json:"peer_reviewer"`
	SeniorQA     string `json:"senior_qa"`
	// Auditor is empty when the audit did not draw the SEG.
	Auditor string `json:"auditor,omitempty"`
	Audited bool   `json:"audited"`
	// Decision is the automated QC decision.
	Decision   string    `json:"qc_decision"`
	ApprovedAt time.Time `json:"approved_at"`
	// Version is the number of the SEG in its chain of corrected
	// versions, from 1.
	Version int `json:"version"`
	// Previous is the version this SEG replaced, if any.
	Previous string `json:"previous,omitempty"`
}

// ExportItem is one approved SEG of a training export.
type ExportItem struct {
	SOPInstanceUID    string         `json:"sop_instance_uid"`
	SOPClassUID       string         `json:"sop_class_uid"`
	StudyInstanceUID  string         `json:"study_instance_uid"`
	SeriesInstanceUID string         `json:"series_instance_uid"`
	SourceSeriesUIDs  []string       `json:"source_series_uids"`
	Profile           qc.ProfileInfo `json:"profile"`
	Review            ReviewSummary  `json:"review"`
}

// Export lists the approved SEGs, oldest approval first: only these may
// enter a training set. A SEG superseded, returned, rejected or still in
// review is never listed.
func (w *Workflow) Export(ctx context.Context, f ExportFilter) ([]ExportItem, error) {
	list, err := w.store.List(ctx, Filter{StudyInstanceUID: f.StudyInstanceUID,
		SourceSeriesUIDs: f.SourceSeriesUIDs, States: []State{StateApproved},
		Limit: f.Limit})
	if err != nil {
		return nil, fmt.Errorf("listing approved SEGs: %w", err)
	}
	slices.SortStableFunc(list, func(a, b *Review) int {
		return a.ApprovedAt.Compare(b.ApprovedAt)
	})
	out := make([]ExportItem, 0, len(list))
	for _, r := range list {
		out = append(out, ExportItem{SOPInstanceUID: r.SOPInstanceUID,
			SOPClassUID: r.SOPClassUID, StudyInstanceUID: r.StudyInstanceUID,
			SeriesInstanceUID: r.SeriesInstanceUID,
			SourceSeriesUIDs:  slices.Clone(r.SourceSeriesUIDs),
			Profile:           qc.ProfileInfo{Name: r.ProfileName, Version: r.ProfileVersion},
			Review: ReviewSummary{Uploader: r.Uploader, PeerReviewer: r.PeerReviewer,
				SeniorQA: r.SeniorQA, Auditor: r.Auditor, Audited: r.Auditor != "",
				Decision: r.Decision, ApprovedAt: r.ApprovedAt, Version: r.Chain,
				Previous: r.Previous}})
	}
	return out, nil
}

// ruleRequiredSegment is the QC rule whose findings name the required
// segments a SEG lacks.
const ruleRequiredSegment = "completeness.required_segment"

// requiredConcept reads the concept out of a completeness.required_segment
// finding, whose message names it as `requires a "CONCEPT" segment`.
var requiredConcept = regexp.MustCompile(`requires a "((?:[^"\\]|\\.)*)" segment`)

// SeriesCompleteness tells how far the annotation of one source series is.
type SeriesCompleteness struct {
	SeriesInstanceUID string `json:"series_instance_uid"`
	// Approved lists the approved SEGs of the series.
	Approved []string `json:"approved"`
	// MissingSegments lists the required concepts that no approved SEG
	// holds (or, without an approved SEG, that no SEG in review holds),
	// from the QC reports' completeness.required_segment findings; empty
	// when none is missing or nothing is known.
	MissingSegments []string `json:"missing_segments"`
	// Complete is true when an approved SEG exists and no required
	// segment is missing.
	Complete bool `json:"complete"`
	// States counts the SEGs of the series by review state.
	States map[State]int `json:"states"`
}

// Completeness answers [Workflow.Completeness].
type Completeness struct {
	Series []SeriesCompleteness `json:"series"`
	// LackingApproved lists the source series without an approved SEG.
	LackingApproved []string `json:"lacking_approved"`
	// States counts all their SEGs by review state.
	States map[State]int `json:"states"`
}

// Completeness tells, for source series, which lack an approved SEG,
// which required segments are missing, and how many SEGs wait in which
// state. When study is set, the source series of that study's reviewed
// SEGs are added to series.
func (w *Workflow) Completeness(ctx context.Context, study string, series []string) (
	*Completeness, error) {
	series = slices.Clone(series)
	if study != "" {
		list, err := w.store.List(ctx, Filter{StudyInstanceUID: study, Limit: MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("listing SEGs of the study: %w", err)
		}
		for _, r := range list {
			series = append(series, r.SourceSeriesUIDs...)
		}
	}
	slices.Sort(series)
	series = slices.Compact(series)

	out := &Completeness{Series: []SeriesCompleteness{}, LackingApproved: []string{},
		States: map[State]int{}}
	for chunk := range slices.Chunk(series, 200) {
		list, err := w.store.List(ctx, Filter{SourceSeriesUIDs: chunk, Limit: MaxLimit})
		if err != nil {
			return nil, fmt.Errorf("listing SEGs of the series: %w", err)
		}
		for _, s := range chunk {
			sc, err := w.seriesCompleteness(ctx, s, list)
			if err != nil {
				return nil, err
			}
			out.Series = append(out.Series, sc)
			if len(sc.Approved) == 0 {
				out.LackingApproved = append(out.LackingApproved, s)
			}
			for st, n := range sc.States {
				out.States[st] += n
			}
		}
	}
	return out, nil
}

// seriesCompleteness computes the completeness of one source series from
// the reviews of SEGs on it (list may hold others).
func (w *Workflow) seriesCompleteness(ctx context.Context, series string, list []*Review) (
	SeriesCompleteness, error) {
	sc := SeriesCompleteness{SeriesInstanceUID: series, Approved: []string{},
		MissingSegments: []string{}, States: map[State]int{}}
	var approved, active []*Review
	for _, r := range list {
		if !slices.Contains(r.SourceSeriesUIDs, series) {
			continue
		}
		sc.States[r.State]++
		switch {
		case r.State == StateApproved:
			approved = append(approved, r)
			sc.Approved = append(sc.Approved, r.SOPInstanceUID)
		case r.State.InQueue():
			active = append(active, r)
		}
	}
	basis := approved
	if len(basis) == 0 {
		basis = active
	}
	missing, err := w.missingSegments(ctx, basis)
	if err != nil {
		return sc, err
	}
	sc.MissingSegments = missing
	sc.Complete = len(approved) > 0 && len(missing) == 0
	return sc, nil
}

// missingSegments returns the required concepts missing from every SEG
// of list: segments may be annotated in separate SEGs, so a concept is
// missing only when no SEG holds it. Without reports nothing is known.
func (w *Workflow) missingSegments(ctx context.Context, list []*Review) ([]string, error) {
	if w.reports == nil || len(list) == 0 {
		return []string{}, nil
	}
	var common []string
	for i, r := range list {
		rep, err := w.reports.Latest(ctx, r.SOPInstanceUID)
		if err != nil {
			return nil, fmt.Errorf("reading report of %s: %w", r.SOPInstanceUID, err)
		}
		var miss []string
		for _, f := range rep.Report.Findings {
			if f.Rule != ruleRequiredSegment {
				continue
			}
			if m := requiredConcept.FindStringSubmatch(f.Message); m != nil {
				if c, err := strconv.Unquote(`"` + m[1] + `"`); err == nil {
					miss = append(miss, c)
				}
			}
		}
		slices.Sort(miss)
		miss = slices.Compact(miss)
		if i == 0 {
			common = miss
			continue
		}
		common = slices.DeleteFunc(common, func(c string) bool {
			return !slices.Contains(miss, c)
		})
	}
	if common == nil {
		common = []string{}
	}
	return common, nil
}
