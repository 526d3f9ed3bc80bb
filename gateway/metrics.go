package gateway

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/qcgate/qcgate/qc"
)

// metrics are the gateway's Prometheus series, on a registry of its own
// so that two servers in one process (tests) do not collide.
type metrics struct {
	registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	decisions *prometheus.CounterVec
	findings  *prometheus.CounterVec
	parts     *prometheus.CounterVec
	tagging   *prometheus.CounterVec
}

// newMetrics registers the gateway's series on reg, or on a new registry
// with the Go and process collectors when reg is nil.
func newMetrics(reg *prometheus.Registry) *metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qcgate_http_requests_total",
			Help: "HTTP requests by route template, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "qcgate_http_request_duration_seconds",
			Help: "Time from request start to the end of the answer, by route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5,
				10, 30, 60, 120},
		}, []string{"route", "method"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qcgate_qc_decisions_total",
			Help: "QC decisions on SEGs received with STOW-RS.",
		}, []string{"decision"}),
		findings: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qcgate_qc_findings_total",
			Help: "QC findings by rule and severity.",
		}, []string{"rule", "severity"}),
		parts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qcgate_stow_parts_total",
			Help: "STOW-RS parts by what the gateway did with them " +
				"(forwarded, seg_accepted, seg_rejected, failed).",
		}, []string{"outcome"}),
		tagging: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "qcgate_orthanc_tagging_total",
			Help: "Orthanc metadata tagging attempts by result (ok, error).",
		}, []string{"result"}),
	}
	reg.MustRegister(m.requests, m.duration, m.decisions, m.findings, m.parts, m.tagging)
	return m
}

// observeRequest records one finished request.
func (m *metrics) observeRequest(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// observeReport records the decision and findings of one QC report.
func (m *metrics) observeReport(r *qc.Report) {
	m.decisions.WithLabelValues(string(r.Decision)).Inc()
	for _, f := range r.Findings {
		m.findings.WithLabelValues(f.Rule, string(f.Severity)).Inc()
	}
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}
