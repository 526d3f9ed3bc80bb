package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path"
	"strings"
	"text/template"
	"time"

	"github.com/gin-gonic/gin"
)

// OHIFVersion is the version of the npm package @ohif/app whose dist/
// folder the gateway is written for; scripts/fetch-ohif.sh fetches it.
const OHIFVersion = "3.13.2"

// gatewayPaths are the path prefixes the gateway serves itself; the
// viewer never answers for them, so a viewer route can never shadow
// DICOMweb, the QC API or the probes.
var gatewayPaths = []string{dicomwebPrefix, wadoURIPath, "/qc", "/healthz", "/readyz",
	"/metrics", strings.TrimSuffix(projectPrefix, "/")}

// isGatewayPath reports whether p is, or lies below, one of gatewayPaths.
func isGatewayPath(p string) bool {
	for _, g := range gatewayPaths {
		if p == g || strings.HasPrefix(p, g+"/") {
			return true
		}
	}
	return false
}

// appConfigTemplate is the viewer's app-config.js (web/ohif).
var appConfigTemplate = template.Must(template.ParseFS(webFiles,
	"web/ohif/app-config.js.tmpl"))

// ohifHandler serves the files of OHIF's dist/ folder, a generated
// app-config.js in place of the package's own, and index.html for every
// other path, which the viewer routes itself (/viewer, /segmentation...).
type ohifHandler struct {
	files     fs.FS
	index     []byte
	appConfig []byte
	modTime   time.Time
}

// oidcSettings are the viewer's OpenID Connect settings, JSON-encoded.
type oidcSettings struct {
	Issuer, ClientID string
}

// newOHIFHandler checks cfg.OHIFDir and generates app-config.js.
func newOHIFHandler(cfg *Config) (*ohifHandler, error) {
	dir := os.DirFS(cfg.OHIFDir)
	index, err := fs.ReadFile(dir, "index.html")
	if err != nil {
		return nil, fmt.Errorf("not an OHIF dist folder: %w", err)
	}
	conf, err := renderAppConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &ohifHandler{files: dir, index: index, appConfig: conf, modTime: time.Now()}, nil
}

// renderAppConfig returns the viewer's app-config.js for cfg.
func renderAppConfig(cfg *Config) ([]byte, error) {
	js := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	data := struct {
		Version, DICOMwebRoot, WADOURIRoot string
		OIDC                               *oidcSettings
	}{Version: OHIFVersion, DICOMwebRoot: js(dicomwebPrefix), WADOURIRoot: js(wadoURIPath)}
	if cfg.OHIFOIDCIssuer != "" {
		data.OIDC = &oidcSettings{Issuer: js(cfg.OHIFOIDCIssuer),
			ClientID: js(cfg.OHIFOIDCClientID)}
	}
	var b bytes.Buffer
	if err := appConfigTemplate.Execute(&b, data); err != nil {
		return nil, fmt.Errorf("generating app-config.js: %w", err)
	}
	return b.Bytes(), nil
}

// serve is a gin middleware: it answers GET and HEAD requests outside the
// gateway's own paths and lets every other request through.
func (h *ohifHandler) serve(c *gin.Context) {
	r := c.Request
	p := r.URL.Path
	if (r.Method != http.MethodGet && r.Method != http.MethodHead) || isGatewayPath(p) {
		c.Next()
		return
	}
	stateFrom(r.Context()).route = "/{viewer}"
	c.Abort()
	w := c.Writer
	w.Header().Set("X-Content-Type-Options", "nosniff")

	name := strings.TrimPrefix(path.Clean("/"+p), "/")
	switch {
	case name == "app-config.js":
		w.Header().Set("Cache-Control", "no-cache")
		http.ServeContent(w, r, "app-config.js", h.modTime, bytes.NewReader(h.appConfig))
		return
	case name == "" || name == "index.html":
		h.serveIndex(c)
		return
	}
	f, err := h.files.Open(name)
	if err == nil {
		st, serr := f.Stat()
		if serr == nil && !st.IsDir() {
			defer f.Close()
			if rs, ok := f.(readSeeker); ok {
				http.ServeContent(w, r, st.Name(), st.ModTime(), rs)
				return
			}
		}
		f.Close()
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	// A missing file with an extension is a missing asset; anything else
	// is one of the viewer's own routes.
	if path.Ext(name) != "" {
		http.NotFound(w, r)
		return
	}
	h.serveIndex(c)
}

// readSeeker is what http.ServeContent needs of a file.
type readSeeker interface {
	Read([]byte) (int, error)
	Seek(int64, int) (int64, error)
}

// serveIndex answers with the viewer's index.html, never cached, so a new
// viewer version is picked up at once.
func (h *ohifHandler) serveIndex(c *gin.Context) {
	w := c.Writer
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, c.Request, "index.html", h.modTime, bytes.NewReader(h.index))
}
