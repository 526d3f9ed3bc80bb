package review

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// collectorTTL is how long the collector reuses a computed calibration,
// and collectTimeout bounds one computation.
const (
	collectorTTL   = 30 * time.Second
	collectTimeout = 10 * time.Second
)

// Collector exports the review queue and calibration as Prometheus
// metrics. It computes [Workflow.Calibration] at most once per 30 s,
// whatever the scrape interval. Reviewer and annotator labels are token
// subjects: register it only where the metrics endpoint is as protected
// as the review API.
type Collector struct {
	w *Workflow

	states, agreement, compared, decisions *prometheus.Desc
	dice, hd95, comparisons                *prometheus.Desc

	mu   sync.Mutex
	last *Calibration
	at   time.Time
}

// NewCollector returns the collector of w's metrics:
//
//	qcgate_review_segs{state}                          SEGs per review state
//	qcgate_reviewer_decisions{reviewer}                decisions made
//	qcgate_reviewer_compared{reviewer,stage}           decisions a later stage judged
//	qcgate_reviewer_agreement_ratio{reviewer,stage}    share the later stage approved
//	qcgate_annotator_comparisons{annotator}            segment pairs compared
//	qcgate_annotator_dice_mean{annotator}              mean Dice with the approved SEG
//	qcgate_annotator_hd95_mm_mean{annotator}           mean HD95 (mm) with it
//
// stage is "senior_qa" or "audit".
func NewCollector(w *Workflow) *Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &Collector{w: w,
		states: d("qcgate_review_segs", "SEGs per review state.", "state"),
		decisions: d("qcgate_reviewer_decisions",
			"Review decisions (approve, return, reject) per reviewer.", "reviewer"),
		compared: d("qcgate_reviewer_compared",
			"Approvals of a reviewer that a later stage decided on.", "reviewer", "stage"),
		agreement: d("qcgate_reviewer_agreement_ratio",
			"Share of a reviewer's approvals the later stage approved too.", "reviewer",
			"stage"),
		comparisons: d("qcgate_annotator_comparisons",
			"Segment pairs of an annotator compared with the approved SEG.", "annotator"),
		dice: d("qcgate_annotator_dice_mean",
			"Mean Dice of an annotator's segments with the approved SEG's.", "annotator"),
		hd95: d("qcgate_annotator_hd95_mm_mean",
			"Mean HD95 in mm of an annotator's segments with the approved SEG's.",
			"annotator"),
	}
}

// Describe implements [prometheus.Collector].
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.states, c.decisions, c.compared, c.agreement,
		c.comparisons, c.dice, c.hd95} {
		ch <- d
	}
}

// Collect implements [prometheus.Collector].
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	cal, err := c.calibration()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.states, err)
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	for _, s := range States() {
		gauge(c.states, float64(cal.States[s]), string(s))
	}
	for _, r := range cal.Reviewers {
		gauge(c.decisions, float64(r.Decisions), r.Reviewer)
		gauge(c.compared, float64(r.SeniorQACompared), r.Reviewer, "senior_qa")
		gauge(c.compared, float64(r.AuditCompared), r.Reviewer, "audit")
		if r.SeniorQAAgreement != nil {
			gauge(c.agreement, *r.SeniorQAAgreement, r.Reviewer, "senior_qa")
		}
		if r.AuditAgreement != nil {
			gauge(c.agreement, *r.AuditAgreement, r.Reviewer, "audit")
		}
	}
	for _, a := range cal.Annotators {
		gauge(c.comparisons, float64(a.Comparisons), a.Annotator)
		if a.MeanDice != nil {
			gauge(c.dice, *a.MeanDice, a.Annotator)
		}
		if a.MeanHD95MM != nil {
			gauge(c.hd95, *a.MeanHD95MM, a.Annotator)
		}
	}
}

// calibration returns a calibration no older than collectorTTL.
func (c *Collector) calibration() (*Calibration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.w.now()
	if c.last != nil && now.Sub(c.at) < collectorTTL && !now.Before(c.at) {
		return c.last, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), collectTimeout)
	defer cancel()
	cal, err := c.w.Calibration(ctx)
	if err != nil {
		return nil, err
	}
	c.last, c.at = cal, now
	return cal, nil
}

// Interface guard.
var _ prometheus.Collector = (*Collector)(nil)
