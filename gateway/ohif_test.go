package gateway

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// newOHIFDir writes a minimal OHIF dist/ folder.
func newOHIFDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"index.html":          "<!doctype html><title>OHIF</title>",
		"app.bundle.1234.js":  "console.log('app')",
		"assets/logo.svg":     "<svg/>",
		"app-config.js":       "window.config = {upstream: 'the package default'}",
		"../outside-dist.txt": "secret",
	}
	for name, body := range files {
		p := filepath.Join(dir, "dist", name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatalf("mkdir: %v", err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatalf("writing %s: %v", name, err)
		}
	}
	return filepath.Join(dir, "dist")
}

func TestOHIFServing(t *testing.T) {
	up := newFakeOrthanc(t)
	dir := newOHIFDir(t)
	g := newTestGateway(t, up.dicomWebURL(), func(c *Config) { c.OHIFDir = dir })

	tests := []struct {
		path       string
		wantStatus int
		wantBody   string
	}{
		{"/", 200, "<title>OHIF</title>"},
		{"/viewer?StudyInstanceUIDs=1.2.3", 200, "<title>OHIF</title>"},
		{"/segmentation/x", 200, "<title>OHIF</title>"},
		{"/app.bundle.1234.js", 200, "console.log('app')"},
		{"/assets/logo.svg", 200, "<svg/>"},
		{"/missing.bundle.js", 404, ""},
		{"/app-config.js", 200, "qidoRoot: window.location.origin + \"/dicom-web\""},
		{"/../outside-dist.txt", 404, ""},
		{"/%2e%2e/outside-dist.txt", 404, ""},
		// The gateway's own paths are never the viewer's.
		{"/healthz", 200, "ok"},
		{"/qc/", 200, "Checked segmentations"},
		{"/dicom-web", 404, "not found"},
		{"/projects/none/dicom-web/studies", 404, "not found"},
		{"/tools/execute-script", 200, "<title>OHIF</title>"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			res, b := g.do(t, http.MethodGet, tt.path, nil, nil)
			if res.StatusCode != tt.wantStatus || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("GET %s = %d %q, want %d containing %q", tt.path, res.StatusCode,
					b, tt.wantStatus, tt.wantBody)
			}
		})
	}
	for _, r := range up.requests() {
		t.Errorf("upstream got %s %s, want no request", r.Method, r.Path)
	}
	t.Run("POST is not the viewer's", func(t *testing.T) {
		res, _ := g.do(t, http.MethodPost, "/viewer", nil, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("POST /viewer = %d, want 404", res.StatusCode)
		}
	})
}

func TestAppConfig(t *testing.T) {
	cfg := DefaultConfig()
	cfg.OHIFOIDCIssuer = "https://idp.example/realms/r"
	cfg.OHIFOIDCClientID = `ohif"viewer`
	b, err := renderAppConfig(cfg)
	if err != nil {
		t.Fatalf("renderAppConfig = %v", err)
	}
	for _, want := range []string{
		`wadoUriRoot: window.location.origin + "/wado"`,
		`authority: "https://idp.example/realms/r"`,
		`client_id: "ohif\"viewer"`,
		`httpErrorHandler: function qcgateHTTPErrorHandler(error)`,
		`getResponseHeader('Warning')`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("app-config.js lacks %s", want)
		}
	}
	cfg.OHIFOIDCIssuer, cfg.OHIFOIDCClientID = "", ""
	if b, _ = renderAppConfig(cfg); strings.Contains(string(b), "oidc") {
		t.Errorf("app-config.js without a provider has oidc settings")
	}
}
