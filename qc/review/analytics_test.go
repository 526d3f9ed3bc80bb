package review

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcgate/qcgate/qc"
)

func TestAnalytics(t *testing.T) {
	runSuite(t, []suiteTest{
		{"export", testExport},
		{"completeness", testCompleteness},
		{"calibration", testCalibration},
	})
}

// missing returns a completeness.required_segment finding as the QC
// engine words it.
func missing(concept string) qc.Finding {
	return qc.Finding{Rule: "completeness.required_segment", Severity: qc.SeverityWarning,
		Message: `profile abdomen requires a "` + concept + `" segment on CT sources: none ` +
			`of the 1 segments maps to it (labels ["x"])`}
}

func testExport(t *testing.T, open func(t *testing.T) Store) {
	w, _ := newWorkflow(t, open(t), Options{Audit: AuditConfig{Share: 1, Seed: "s"}})
	submit(t, w, report(1, "1.2.3.1", "1.2.3.10"))
	act(t, w, "1.2.3.1", reviewer, ActionReturn, "redo")
	submit(t, w, report(2, "1.2.3.2", "1.2.3.10"))
	act(t, w, "1.2.3.2", reviewer, ActionApprove, "")
	act(t, w, "1.2.3.2", senior, ActionApprove, "")
	submit(t, w, report(3, "1.2.3.3", "1.2.3.30"))
	act(t, w, "1.2.3.3", reviewer, ActionApprove, "")
	act(t, w, "1.2.3.3", senior, ActionApprove, "")
	act(t, w, "1.2.3.2", auditor, ActionApprove, "")

	got, err := w.Export(t.Context(), ExportFilter{})
	if err != nil {
		t.Fatalf("Export = %v", err)
	}
	want := []ExportItem{{SOPInstanceUID: "1.2.3.2",
		SOPClassUID: "1.2.840.10008.5.1.4.1.1.66.4", StudyInstanceUID: "1.2.3",
		SeriesInstanceUID: "1.2.3.10", SourceSeriesUIDs: []string{"1.2.3.100"},
		Profile: qc.ProfileInfo{Name: "abdomen", Version: "3"},
		Review: ReviewSummary{Uploader: "ann", PeerReviewer: "rev", SeniorQA: "sen",
			Auditor: "aud", Audited: true, Decision: "accepted", Version: 2,
			Previous: "1.2.3.1"}}}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(ReviewSummary{},
		"ApprovedAt")); diff != "" {
		t.Errorf("Export (-want +got):\n%s", diff)
	}
	if len(got) == 1 && got[0].Review.ApprovedAt.IsZero() {
		t.Errorf("exported SEG has no approval time")
	}
	none, err := w.Export(t.Context(), ExportFilter{StudyInstanceUID: "9.9"})
	if err != nil || len(none) != 0 {
		t.Errorf("Export(other study) = %v, %v; want none", none, err)
	}
}

func testCompleteness(t *testing.T, open func(t *testing.T) Store) {
	reps := fakeReports{}
	w, _ := newWorkflow(t, open(t), Options{Reports: reps})
	put := func(id int64, sop, series, source string, findings ...qc.Finding) {
		r := report(id, sop, series, source)
		r.Report.Findings = findings
		reps[sop] = r
		submit(t, w, r)
	}
	// Series 100: an approved SEG missing the spleen, another SEG without
	// the liver that is approved too, and one in review.
	put(1, "1.2.3.1", "1.2.3.10", "1.2.3.100", missing("spleen"))
	put(2, "1.2.3.2", "1.2.3.20", "1.2.3.100", missing("liver"), missing("spleen"))
	put(3, "1.2.3.3", "1.2.3.30", "1.2.3.100")
	for _, sop := range []string{"1.2.3.1", "1.2.3.2"} {
		act(t, w, sop, reviewer, ActionApprove, "")
		act(t, w, sop, senior, ActionApprove, "")
	}
	// Series 200: one SEG in review that misses both.
	put(4, "1.2.3.4", "1.2.3.40", "1.2.3.200", missing("liver"), missing("spleen"))
	act(t, w, "1.2.3.4", reviewer, ActionApprove, "")

	got, err := w.Completeness(t.Context(), "", []string{"1.2.3.300", "1.2.3.200",
		"1.2.3.100"})
	if err != nil {
		t.Fatalf("Completeness = %v", err)
	}
	want := &Completeness{
		Series: []SeriesCompleteness{
			{SeriesInstanceUID: "1.2.3.100", Approved: []string{"1.2.3.1", "1.2.3.2"},
				MissingSegments: []string{"spleen"},
				States:          map[State]int{StateApproved: 2, StatePeerReview: 1}},
			{SeriesInstanceUID: "1.2.3.200", Approved: []string{},
				MissingSegments: []string{"liver", "spleen"},
				States:          map[State]int{StateSeniorQA: 1}},
			{SeriesInstanceUID: "1.2.3.300", Approved: []string{}, MissingSegments: []string{},
				States: map[State]int{}},
		},
		LackingApproved: []string{"1.2.3.200", "1.2.3.300"},
		States:          map[State]int{StateApproved: 2, StatePeerReview: 1, StateSeniorQA: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Completeness (-want +got):\n%s", diff)
	}

	// By study: the source series of the study's SEGs; spleen is added
	// to SEG 1's sibling so that the series is complete.
	reps["1.2.3.2"].Report.Findings = []qc.Finding{missing("liver")}
	got, err = w.Completeness(t.Context(), "1.2.3", nil)
	if err != nil {
		t.Fatalf("Completeness(study) = %v", err)
	}
	if len(got.Series) != 2 || !got.Series[0].Complete || got.Series[1].Complete ||
		len(got.Series[0].MissingSegments) != 0 {
		t.Errorf("Completeness(study) = %+v; want 100 complete, 200 not", got.Series)
	}
}

func testCalibration(t *testing.T, open func(t *testing.T) Store) {
	reps := fakeReports{}
	w, _ := newWorkflow(t, open(t), Options{Reports: reps,
		Audit: AuditConfig{Share: 1, Seed: "s"}})
	put := func(id int64, sop, uploader string, agreement ...qc.Agreement) {
		r := report(id, sop, sop+".1")
		r.Report.Uploader = uploader
		r.Report.Agreement = agreement
		reps[sop] = r
		submit(t, w, r)
	}
	hd := func(v float64) *float64 { return &v }
	// A: approved through the audit. B: returned by senior QA. C: failed
	// at audit. D and E: other annotators' SEGs of the same source.
	put(1, "1.2.3.1", "ann",
		qc.Agreement{OtherSOPInstanceUID: "1.2.3.5", Concept: "liver", Dice: 0.6},
		qc.Agreement{OtherSOPInstanceUID: "1.2.3.4", Concept: "liver", Dice: 0.8,
			HD95MM: hd(4)})
	put(2, "1.2.3.2", "ann")
	put(3, "1.2.3.3", "ann")
	put(4, "1.2.3.4", "ann2",
		qc.Agreement{OtherSOPInstanceUID: "1.2.3.1", Concept: "liver", Dice: 0.8,
			HD95MM: hd(4)},
		qc.Agreement{OtherSOPInstanceUID: "1.2.3.1", Concept: "spleen", Dice: 0.5,
			HD95MM: hd(10)})
	put(5, "1.2.3.5", "ann3")
	act(t, w, "1.2.3.1", reviewer, ActionApprove, "")
	act(t, w, "1.2.3.1", senior, ActionApprove, "")
	act(t, w, "1.2.3.1", auditor, ActionApprove, "")
	act(t, w, "1.2.3.2", reviewer, ActionApprove, "")
	act(t, w, "1.2.3.2", senior, ActionReturn, "no")
	act(t, w, "1.2.3.3", reviewer2, ActionApprove, "")
	act(t, w, "1.2.3.3", senior, ActionApprove, "")
	act(t, w, "1.2.3.3", auditor, ActionReject, "wrong organ")
	act(t, w, "1.2.3.5", reviewer, ActionReturn, "incomplete")

	got, err := w.Calibration(t.Context())
	if err != nil {
		t.Fatalf("Calibration = %v", err)
	}
	f := func(v float64) *float64 { return &v }
	want := &Calibration{
		Reviewers: []ReviewerCalibration{
			{Reviewer: "aud", Decisions: 2},
			{Reviewer: "rev", Decisions: 3, SeniorQACompared: 2, SeniorQAAgreed: 1,
				AuditCompared: 1, AuditAgreed: 1, SeniorQAAgreement: f(0.5),
				AuditAgreement: f(1)},
			{Reviewer: "rev2", Decisions: 1, SeniorQACompared: 1, SeniorQAAgreed: 1,
				AuditCompared: 1, AuditAgreed: 0, SeniorQAAgreement: f(1),
				AuditAgreement: f(0)},
			{Reviewer: "sen", Decisions: 3, AuditCompared: 2, AuditAgreed: 1,
				AuditAgreement: f(0.5)},
		},
		// ann2: liver (0.8, 4 mm) and spleen (0.5, 10 mm), the liver pair
		// in both reports counted once; ann3: Dice 0.6, no finite HD95.
		Annotators: []AnnotatorCalibration{
			{Annotator: "ann2", Comparisons: 2, MeanDice: f(0.65), MeanHD95MM: f(7)},
			{Annotator: "ann3", Comparisons: 1, MeanDice: f(0.6)},
		},
		States: map[State]int{StateApproved: 1, StateReturned: 2, StateRejected: 1,
			StatePeerReview: 1},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateApprox(0, 1e-12)); diff != "" {
		t.Errorf("Calibration (-want +got):\n%s", diff)
	}

	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(NewCollector(w))
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("Gather = %v", err)
	}
	values := map[string]float64{}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, l := range m.GetLabel() {
				key += " " + l.GetValue()
			}
			values[key] = m.GetGauge().GetValue()
		}
	}
	for key, want := range map[string]float64{
		"qcgate_review_segs returned":                   2,
		"qcgate_review_segs audit":                      0,
		"qcgate_reviewer_agreement_ratio rev senior_qa": 0.5,
		"qcgate_reviewer_agreement_ratio rev2 audit":    0,
		"qcgate_reviewer_compared sen audit":            2,
		"qcgate_reviewer_decisions aud":                 2,
		"qcgate_annotator_dice_mean ann2":               0.65,
		"qcgate_annotator_hd95_mm_mean ann2":            7,
		"qcgate_annotator_comparisons ann3":             1,
	} {
		if got, ok := values[key]; !ok || got-want > 1e-12 || want-got > 1e-12 {
			t.Errorf("metric %s = %v (present %v), want %v", key, got, ok, want)
		}
	}
	if _, ok := values["qcgate_annotator_hd95_mm_mean ann3"]; ok {
		t.Errorf("ann3 has an HD95 mean without any finite HD95")
	}
}
