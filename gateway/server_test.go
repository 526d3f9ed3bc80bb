package gateway

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/auth"
)

func TestGracefulShutdownFinishesSTOW(t *testing.T) {
	up := newFakeOrthanc(t)
	up.delay = 500 * time.Millisecond
	g := newTestGateway(t, up.dicomWebURL(), func(c *Config) {
		c.ShutdownTimeout = 10 * time.Second
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.srv.Serve(ctx, ln) }()

	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		body := multipartBody(dicomPart(t, liverCTFile1))
		res, err := http.Post(url+"/dicom-web/studies", stowContentType, bytes.NewReader(body))
		if err != nil {
			done <- result{err: err}
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		done <- result{status: res.StatusCode}
	}()

	// Shut down while the upstream holds the STOW-RS answer back.
	deadline := time.Now().Add(5 * time.Second)
	for len(up.stowRequests()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()

	r := <-done
	if r.err != nil || r.status != http.StatusOK {
		t.Errorf("STOW in flight during shutdown = %d, %v, want 200", r.status, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after a clean shutdown", err)
	}
	if _, err := http.Get(url + "/healthz"); err == nil {
		t.Errorf("GET after shutdown succeeded, want a refused connection")
	}
	if recs := g.log.records(t, "shutting down"); len(recs) != 1 {
		t.Errorf("%d shutdown records, want 1", len(recs))
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"no config", Options{}},
		{"invalid config", Options{Config: &Config{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := New(tt.opts); !errors.Is(err, ErrConfig) {
				t.Errorf("New = %v, want ErrConfig", err)
			}
		})
	}
	cfg := defaultsWithUpstream()
	cfg.Store = t.TempDir() + "/r.db"
	cfg.Profile = "/nonexistent/profile.yaml"
	cfg.Auth = auth.Config{Disabled: true}
	if _, err := New(Options{Config: cfg}); err == nil ||
		!strings.Contains(err.Error(), "profile") {
		t.Errorf("New with a missing profile = %v, want an error naming the profile", err)
	}
}

func TestPanicIsA500(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	// A handler that panics behind the gateway's own middleware.
	e := gin.New()
	e.Use(g.srv.accessLog)
	e.GET("/boom", func(*gin.Context) { panic("boom") })
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/boom", nil))

	if rec.Code != http.StatusInternalServerError ||
		!strings.Contains(rec.Body.String(), `"error":"internal error"`) {
		t.Errorf("panic answer = %d %s, want 500 internal error", rec.Code, rec.Body)
	}
	if strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("panic answer shows the panic value: %s", rec.Body)
	}
	if n := len(g.log.records(t, "panic serving request")); n != 1 {
		t.Errorf("%d panic records, want 1", n)
	}
	recs := g.log.records(t, "request")
	if len(recs) != 1 || recs[0]["status"] != float64(500) {
		t.Errorf("access records = %v, want one with status 500", recs)
	}
}
