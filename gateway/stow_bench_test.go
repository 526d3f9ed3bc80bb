package gateway

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSTOWSmallCT measures the gateway's own cost for a STOW-RS of one
// small CT image (the 39 KB single-frame CT of the real test data) against
// an upstream that answers at once, next to a plain POST of the same body
// to that upstream.
func BenchmarkSTOWSmallCT(b *testing.B) {
	const ctFile = realData + "/highdicom-ct-binary-single-frame/source/ct_image.dcm"
	ct := readTestFile(b, ctFile)
	_, sop, _ := sopOf(ct)
	answer := fmt.Sprintf(`{"00081199":{"vr":"SQ","Value":[{"00081155":{"vr":"UI",`+
		`"Value":[%q]}}]}}`, sop)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/dicom+json")
		io.WriteString(w, answer)
	}))
	defer up.Close()
	body := multipartBody(part{"application/dicom", ct})

	post := func(b *testing.B, url string) {
		res, err := http.Post(url, stowContentType, bytes.NewReader(body))
		if err != nil {
			b.Fatalf("POST: %v", err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("POST = %d", res.StatusCode)
		}
	}
	b.Run("direct", func(b *testing.B) {
		cpu := cpuTime()
		for b.Loop() {
			post(b, up.URL+"/dicom-web/studies")
		}
		reportCPU(b, cpu)
	})
	b.Run("gateway", func(b *testing.B) {
		cfg := DefaultConfig()
		cfg.Upstream = up.URL + "/dicom-web"
		cfg.Store = b.TempDir() + "/r.db"
		cfg.Auth.Disabled = true // the cost of the STOW path, not of a token check
		cfg.RateLimit = 0
		srv, err := New(Options{Config: cfg})
		if err != nil {
			b.Fatalf("New: %v", err)
		}
		defer srv.Close()
		gw := httptest.NewServer(srv.Handler())
		defer gw.Close()
		cpu := cpuTime()
		for b.Loop() {
			post(b, gw.URL+"/dicom-web/studies")
		}
		reportCPU(b, cpu)
	})
}

// cpuTime returns the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start, a
// measure that a busy machine disturbs less than wall time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64((cpuTime()-start).Microseconds())/float64(b.N), "cpu-us/op")
}
