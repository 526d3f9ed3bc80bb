package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/dicomweb"
)

// proxyKey is the context key of the proxyInfo of a proxied request.
type proxyKey struct{}

// proxyInfo is what the proxy's hooks need to know of the client's request.
type proxyInfo struct {
	route dicomwebRoute
	// base is the gateway's external base URL for this request.
	base *url.URL
	// includeRejected: the client asked for SEGs rejected in review too
	// (reviews_qido.go).
	includeRejected bool
}

// serveDICOMweb handles every path gin does not route: it checks the raw
// path, then intercepts STOW-RS or passes the request through.
func (s *Server) serveDICOMweb(c *gin.Context) error {
	r := c.Request
	project, path, err := s.splitProject(rawPath(r))
	if err != nil {
		return err
	}
	route, err := classifyPath(r.Method, path)
	if err != nil {
		return err
	}
	if project != "" {
		route.Template = projectPrefix + "{project}" + route.Template
	}
	st := stateFrom(r.Context())
	st.route = route.Template
	if err := authorize(r, roleFor(route, r.Method)); err != nil {
		return err
	}
	if route.Kind == kindSTOW && r.Method == http.MethodPost {
		return s.serveSTOW(c, route, project)
	}
	base, err := s.gatewayBase(r)
	if err != nil {
		return err
	}
	if route.Kind == kindSTOW {
		// GET /studies is a search, GET /studies/{uid} a retrieval.
		route.Kind = kindWADO
		if route.Study == "" {
			route.Kind = kindQIDO
		}
	}
	ctx := context.WithValue(r.Context(), proxyKey{}, proxyInfo{route: route, base: base,
		includeRejected: asksIncludeRejected(r.URL.RawQuery)})
	s.proxy.ServeHTTP(c.Writer, r.WithContext(ctx))
	return nil
}

// rawPath returns the path of r as the client sent it, before any
// percent-decoding.
func rawPath(r *http.Request) string {
	if strings.HasPrefix(r.RequestURI, "/") {
		p, _, _ := strings.Cut(r.RequestURI, "?")
		return p
	}
	return r.URL.EscapedPath()
}

// hostPattern is a Host header the gateway will repeat in URLs: a name or
// address with an optional port, nothing that could break out of a URL or
// a Forwarded header.
var hostPattern = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:[0-9]{1,5})?$`)

// gatewayBase returns the gateway's external base URL for r: the
// configured public URL, else the scheme and Host of the request.
func (s *Server) gatewayBase(r *http.Request) (*url.URL, error) {
	if s.public != nil {
		return s.public, nil
	}
	if !hostPattern.MatchString(r.Host) {
		return nil, httpError(http.StatusBadRequest, "invalid Host header",
			fmt.Errorf("host %q", r.Host))
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return &url.URL{Scheme: scheme, Host: r.Host}, nil
}

// newProxy builds the pass-through reverse proxy for searches and
// retrievals.
func (s *Server) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        s.rewriteRequest,
		Transport:      s.transport,
		ModifyResponse: s.modifyResponse,
		ErrorHandler:   s.proxyError,
		// Flush every write at once: multipart retrievals stream frame by
		// frame and a viewer shows each as it comes.
		FlushInterval: -1,
		// The proxy's own messages (a client gone mid-answer) are details.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

// rewriteRequest builds the upstream request of a search or retrieval.
func (s *Server) rewriteRequest(pr *httputil.ProxyRequest) {
	info, _ := pr.In.Context().Value(proxyKey{}).(proxyInfo)
	route := info.route
	out := pr.Out

	// The target is rebuilt from the checked route only, never from the
	// client's path.
	target := *s.upstream
	if route.Kind == kindWADOURI {
		target = *s.wadoURI
	} else {
		target.Path = s.upstream.Path + route.Path
		target.RawPath = ""
	}
	target.RawQuery = pr.In.URL.RawQuery
	if route.Kind == kindQIDO {
		// Orthanc 1.10 does not percent-decode query values nor split
		// includefield on commas; dicomweb.RepairQuery does both.
		// includerejected is the gateway's own parameter (reviews_qido.go).
		target.RawQuery = dicomweb.RepairQuery(stripIncludeRejected(pr.In.URL.RawQuery))
	}
	out.URL = &target
	out.Host = ""

	// Orthanc never answers "Expect: 100-continue", which would cost a one
	// second stall; the client's credentials and cookies are for the
	// gateway, never for the upstream.
	for _, h := range []string{"Expect", "Authorization", "Proxy-Authorization", "Cookie",
		"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
		out.Header.Del(h)
	}
	if s.cfg.UpstreamUser != "" {
		out.SetBasicAuth(s.cfg.UpstreamUser, string(s.cfg.UpstreamPassword))
	}

	// Orthanc builds the absolute URLs of its answers from Forwarded. It
	// takes the values verbatim and does not unquote them (Orthanc 1.10,
	// DICOMweb plugin 1.7), so they are sent as bare tokens.
	if info.base != nil {
		out.Header.Set("Forwarded", "host="+info.base.Host+";proto="+info.base.Scheme)
	}
}

// rewritableType reports whether an answer of that Content-Type may carry
// absolute URLs to rewrite: DICOM JSON and XML, plain or in multipart.
func rewritableType(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.Contains(ct, "json") || strings.Contains(ct, "xml")
}

// modifyResponse rewrites the upstream's absolute URLs in JSON and XML
// answers to the gateway's, for upstreams that ignore Forwarded or when the
// gateway's public URL has a path. It streams: nothing is buffered whole.
func (s *Server) modifyResponse(res *http.Response) error {
	if res.Request == nil || !rewritableType(res.Header.Get("Content-Type")) {
		return nil
	}
	info, ok := res.Request.Context().Value(proxyKey{}).(proxyInfo)
	if !ok || info.base == nil {
		return nil
	}
	if err := s.hideRejected(res, info); err != nil { // reviews_qido.go
		return err
	}
	if err := s.addQCStatus(res, info); err != nil { // qcstatus_proxy.go
		return err
	}
	pairs := s.urlRewrites(info.base)
	if len(pairs) == 0 {
		return nil
	}

	// Rewriting needs the plain text; a gzip answer then goes out
	// uncompressed, and one in a coding the gateway cannot read as it is.
	body, ok, err := plainBody(res)
	if err != nil || !ok {
		return err
	}
	res.Body = newReplaceReader(body, pairs)
	res.ContentLength = -1
	res.Header.Del("Content-Length")
	return nil
}

// urlRewrites returns the prefixes to replace in an answer for a gateway
// at base: the upstream's own DICOMweb root, and the root Orthanc builds
// from Forwarded when it differs from the gateway's.
func (s *Server) urlRewrites(base *url.URL) []replacement {
	gw := base.String() + dicomwebPrefix
	var pairs []replacement
	if up := s.upstream.String(); up != gw {
		pairs = append(pairs, replacement{old: []byte(up), new: []byte(gw)})
	}
	fwd := base.Scheme + "://" + base.Host + s.upstream.Path
	if fwd != gw && fwd != s.upstream.String() {
		pairs = append(pairs, replacement{old: []byte(fwd), new: []byte(gw)})
	}
	return pairs
}

// proxyError answers a failed pass-through: 499 (recorded, not sent) when
// the client went away, 504 when the upstream was too slow, else 502.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	var status int
	var msg string
	var ne net.Error
	switch {
	case r.Context().Err() != nil:
		status, msg = StatusClientClosedRequest, "client closed request"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		status, msg = http.StatusGatewayTimeout, "upstream did not answer in time"
	default:
		status, msg = http.StatusBadGateway, "upstream unreachable"
	}
	gw, ok := w.(gin.ResponseWriter)
	if !ok {
		w.WriteHeader(status)
		return
	}
	s.fail(gw, r, httpError(status, msg, err))
}

// readCloser reads from one reader and closes another, such as a gzip
// reader over a response body.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }
