package integration

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/qcgate/qcgate/integration/harness"
)

// The benchmarks compare "qcgate serve" (the binary, as deployed) with
// direct Orthanc in one run. Each does its whole measurement once per
// iteration and reports its numbers as metrics; run them with
//
//	go test ./integration -run '^$' -bench . -benchtime 1x
//
// (scripts/bench.sh does). They are not part of the default test run.

// benchSetup starts Orthanc and the gateway binary in front of it.
func benchSetup(b *testing.B) (*harness.Orthanc, *harness.Serve) {
	b.Helper()
	o := harness.StartOrthanc(b, harness.OrthancOptions{})
	s := harness.StartServe(b, o, harness.ServeOptions{Env: []string{
		"QCGATE_LOG_LEVEL=warn",
		// The measurements send faster than the default per-client limit.
		"QCGATE_RATE_LIMIT=0",
	}})
	return o, s
}

// benchCopies prepares distinct copies of a CT image.
func benchCopies(b *testing.B, path, sopInstanceUID string) *harness.Copies {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatalf("reading test file: %v", err)
	}
	c, err := harness.NewCopies(data, sopInstanceUID)
	if err != nil {
		b.Fatalf("%v", err)
	}
	return c
}

// quantile returns the q-quantile (0..1) of durations, nearest rank.
func quantile(d []time.Duration, q float64) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

// ms is a duration in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkSequentialSTOW sends 100 STOW-RS requests of one 39 KB CT image
// each to Orthanc directly and 100 through the gateway, alternating, and
// reports median and p95 per request and the gateway's added median.
// Target: the gateway adds under 1 ms at the median.
func BenchmarkSequentialSTOW(b *testing.B) {
	o, s := benchSetup(b)
	copies := benchCopies(b, ctImage, ctImageSOP)
	direct, gw := o.Client(), s.Client()
	const n, warmup = 100, 5

	next := 0
	body := func() harness.Body {
		next++
		return harness.Multipart(harness.Part{ContentType: harness.MediaTypeDICOM,
			Data: copies.Copy(next)})
	}
	send := func(c *harness.Client) time.Duration {
		resp := c.STOW(b, "/dicom-web/studies", body())
		resp.RequireStatus(b, http.StatusOK)
		return resp.Duration
	}

	for b.Loop() {
		for range warmup {
			send(direct)
			send(gw)
		}
		var d, g []time.Duration
		for range n {
			d = append(d, send(direct))
			g = append(g, send(gw))
		}
		b.ReportMetric(ms(quantile(d, 0.5)), "direct-median-ms")
		b.ReportMetric(ms(quantile(d, 0.95)), "direct-p95-ms")
		b.ReportMetric(ms(quantile(g, 0.5)), "gateway-median-ms")
		b.ReportMetric(ms(quantile(g, 0.95)), "gateway-p95-ms")
		b.ReportMetric(ms(quantile(g, 0.5)-quantile(d, 0.5)), "added-median-ms")
	}
}

// BenchmarkBulkSTOW sends one STOW-RS request of 200 CT images (7.8 MB)
// directly and through the gateway, three times each, and reports the
// median throughput both ways and their ratio. Target: the gateway keeps at
// least 90% of direct throughput.
func BenchmarkBulkSTOW(b *testing.B) {
	o, s := benchSetup(b)
	copies := benchCopies(b, ctImage, ctImageSOP)
	direct, gw := o.Client(), s.Client()
	const n, rounds = 200, 3

	next := 0
	request := func(c *harness.Client) (time.Duration, int) {
		parts := make([]harness.Part, n)
		for i := range parts {
			next++
			parts[i] = harness.Part{ContentType: harness.MediaTypeDICOM, Data: copies.Copy(next)}
		}
		body := harness.Multipart(parts...)
		resp := c.STOW(b, "/dicom-web/studies", body)
		resp.RequireStatus(b, http.StatusOK)
		return resp.Duration, len(body.Data)
	}

	for b.Loop() {
		var d, g []time.Duration
		size := 0
		for range rounds {
			var took time.Duration
			took, size = request(direct)
			d = append(d, took)
			took, _ = request(gw)
			g = append(g, took)
		}
		mbps := func(t time.Duration) float64 { return float64(size) / 1e6 / t.Seconds() }
		dm, gm := quantile(d, 0.5), quantile(g, 0.5)
		b.ReportMetric(ms(dm), "direct-ms")
		b.ReportMetric(ms(gm), "gateway-ms")
		b.ReportMetric(mbps(dm), "direct-MB/s")
		b.ReportMetric(mbps(gm), "gateway-MB/s")
		b.ReportMetric(float64(dm)/float64(gm), "gateway/direct")
	}
}

// BenchmarkLargeSTOW streams one STOW-RS request of about 500 MB of CT
// images (526 KB each, not SEGs) through the gateway and reports the
// gateway's peak resident set size (VmHWM) before and after, and Orthanc's
// for comparison. Target: gateway peak RSS under 100 MB.
func BenchmarkLargeSTOW(b *testing.B) {
	o, s := benchSetup(b)
	copies := benchCopies(b, liverSources[0], liverSourceSOPs[0])
	count := 500_000_000/copies.Size() + 1
	if v := os.Getenv("QCGATE_BENCH_LARGE_MB"); v != "" {
		mb, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("QCGATE_BENCH_LARGE_MB=%q: %v", v, err)
		}
		count = mb*1_000_000/copies.Size() + 1
	}

	for b.Loop() {
		before := s.PeakRSS(b)
		body := harness.NewStreamBody(count, copies.Size(), copies.Copy)
		resp := s.Client().PostStream(b, "/dicom-web/studies", body.ContentType, body, body.Size)
		resp.RequireStatus(b, http.StatusOK)
		a := resp.Dataset(b).Items(harness.TagReferencedSOPSequence)
		if len(a) != count {
			b.Fatalf("answer lists %d stored instances, want %d", len(a), count)
		}
		b.ReportMetric(float64(body.Size)/1e6, "body-MB")
		b.ReportMetric(resp.Duration.Seconds(), "seconds")
		b.ReportMetric(float64(before)/1e6, "gateway-peak-RSS-before-MB")
		b.ReportMetric(float64(s.PeakRSS(b))/1e6, "gateway-peak-RSS-MB")
		if rss, err := orthancPeakRSS(o); err == nil {
			b.ReportMetric(float64(rss)/1e6, "orthanc-peak-RSS-MB")
		}
	}
}

// orthancPeakRSS reads Orthanc's VmHWM in bytes.
func orthancPeakRSS(o *harness.Orthanc) (int64, error) {
	kb, err := harness.ProcStatusKB(o.PID(), "VmHWM")
	if err != nil {
		return 0, fmt.Errorf("reading Orthanc's peak RSS: %w", err)
	}
	return kb * 1024, nil
}
