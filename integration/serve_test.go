package integration

import (
	"errors"
	"net"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/qcgate/qcgate/integration/harness"
)

// TestServeBinary runs the qcgate binary as users do, configured only by
// QCGATE_ environment variables with the upstream password and the token
// secret in files, and sends the liver case through it: without a token
// and with a viewer's token the STOW-RS request is refused, with an
// annotator's it is stored.
func TestServeBinary(t *testing.T) {
	t.Parallel()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	s := harness.StartServe(t, o, harness.ServeOptions{})
	e := &env{orthanc: o, gw: s.Client(), direct: o.Client()}
	files := append(slices.Clone(liverSources), liverSEG)
	body := harness.Multipart(harness.FileParts(t, files...)...)

	anonymous := &harness.Client{BaseURL: s.URL}
	resp := anonymous.STOW(t, "/dicom-web/studies", body)
	if resp.Status != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
		t.Errorf("STOW without a token = %d, WWW-Authenticate %q, want 401 and a challenge",
			resp.Status, resp.Header.Get("WWW-Authenticate"))
	}
	resp = s.ClientAs("viewer").STOW(t, "/dicom-web/studies", body)
	if resp.Status != http.StatusForbidden {
		t.Errorf("STOW with a viewer's token = %d, want 403", resp.Status)
	}
	if n := o.Statistics(t).CountInstances; n != 0 {
		t.Fatalf("Orthanc holds %d instances after refused requests, want 0", n)
	}

	e.requireStow(t, http.StatusOK, files...)
	checkLiverReport(t, e.report(t, liverSOP))

	for _, path := range []string{"/healthz", "/readyz"} {
		anonymous.Get(t, path, nil).RequireStatus(t, http.StatusOK)
	}
	if resp := e.gw.Get(t, "/metrics", nil); resp.Status != http.StatusForbidden {
		t.Errorf("/metrics with an annotator's token = %d, want 403", resp.Status)
	}
	metrics := s.ClientAs("auditor").Get(t, "/metrics", nil)
	metrics.RequireStatus(t, http.StatusOK)
	if !strings.Contains(string(metrics.Body), "# TYPE ") {
		t.Errorf("/metrics is not in the Prometheus text format: %s", metrics.Snippet())
	}

	log := s.Stop(t)
	if strings.Contains(log, o.Password) {
		t.Errorf("qcgate's log contains the upstream password")
	}
	if !s.ExitedCleanly() {
		t.Errorf("qcgate serve did not exit with status 0 after SIGTERM; log:\n%s", log)
	}
}

// TestServeBadConfig starts the binary with several bad settings: it exits
// with status 2 and names every problem at once.
func TestServeBadConfig(t *testing.T) {
	t.Parallel()
	bin := harness.BuildQcgate(t)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = t.TempDir()
	cmd.Env = append(cmd.Environ(),
		"QCGATE_LISTEN=not-a-host-port",
		"QCGATE_UPSTREAM=",
		"QCGATE_MAX_SEG_PART_BYTES=lots",
	)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("qcgate serve with bad settings: %v, want exit status 2; output:\n%s", err, out)
	}
	for _, want := range []string{"listen", "upstream", "max_seg_part_bytes"} {
		if !strings.Contains(strings.ToLower(string(out)), want) {
			t.Errorf("output does not name %q:\n%s", want, out)
		}
	}
}

// TestUpstreamFailures puts the gateway in front of a port where nothing
// listens (502) and one that accepts connections and never answers (504).
func TestUpstreamFailures(t *testing.T) {
	t.Parallel()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	closedURL := "http://" + closed.Addr().String() + "/dicom-web"
	closed.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	silentURL := "http://" + silent.Addr().String() + "/dicom-web"

	tests := []struct {
		name     string
		upstream string
		want     int
	}{
		{"unreachable", closedURL, http.StatusBadGateway},
		{"timeout", silentURL, http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := harness.StartGateway(t, o, harness.GatewayOptions{
				Upstream: tt.upstream,
				Settings: map[string]string{"upstream_timeout": "1s"},
			})
			c := g.Client()

			start := time.Now()
			resp := c.Get(t, "/dicom-web/studies", nil)
			if resp.Status != tt.want {
				t.Errorf("QIDO = %d, want %d; body: %s", resp.Status, tt.want, resp.Snippet())
			}
			resp = c.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, ctImage)))
			if resp.Status != tt.want {
				t.Errorf("STOW = %d, want %d; body: %s", resp.Status, tt.want, resp.Snippet())
			}
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("two requests took %v with a 1 s upstream timeout", took)
			}
			if resp := g.Anonymous().Get(t, "/readyz", nil); resp.Status == http.StatusOK {
				t.Errorf("/readyz = 200 with the upstream %s", tt.name)
			}

			// A SEG checked meanwhile has no report claiming it was stored.
			files := append(slices.Clone(liverSources), liverSEG)
			c.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FileParts(t, files...)...))
			resp = c.Get(t, "/qc/v1/reports/"+liverSOP, nil)
			if resp.Status == http.StatusOK {
				var r report
				decodeJSON(t, resp, &r)
				if r.Stored {
					t.Errorf("report of a SEG sent while the upstream was %s says stored",
						tt.name)
				}
			}

		})
	}
}
