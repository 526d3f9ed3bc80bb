package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/store"
)

// Options configures [New]. Only Config is required.
type Options struct {
	// Config holds the settings; New validates it. Required.
	Config *Config
	// Logger receives the access records and the gateway's own events.
	// Nil means a logger that discards everything.
	Logger *slog.Logger
	// Store keeps the reports. Nil means the store Config.Store names,
	// opened by New and closed by [Server.Close]; a store given here is
	// not closed by the server.
	Store store.Store
	// Profile is the QC profile. Nil means the file Config.Profile names,
	// or the built-in default when that is empty.
	Profile *qc.Profile
	// Transport sends every upstream request. Nil means a transport built
	// from Config (UpstreamTimeout bounds the wait for answer headers).
	Transport http.RoundTripper
	// Registry receives the metrics. Nil means a new registry, with the
	// Go and process collectors, served at /metrics.
	Registry *prometheus.Registry
}

// Server is the gateway. Build it with [New]; it is safe for concurrent
// use.
type Server struct {
	cfg       *Config
	log       *slog.Logger
	store     store.Store
	ownStore  bool
	engine    *qc.Engine
	client    *dicomweb.Client
	transport http.RoundTripper
	upstream  *url.URL
	wadoURI   *url.URL
	public    *url.URL
	proxy     *httputil.ReverseProxy
	metrics   *metrics
	sources   *metadataCache
	tagger    *tagger
	handler   http.Handler

	// stowWG counts STOW-RS requests in flight, so Close can wait for
	// their reports and tags.
	stowWG sync.WaitGroup
}

// New builds a gateway from opts: it validates the configuration, opens
// the store and loads the profile when they are not given, and sets up the
// routes. It starts no goroutine and no listener.
func New(opts Options) (*Server, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, fmt.Errorf("%w: no config", ErrConfig)
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := &Server{cfg: cfg, log: opts.Logger, store: opts.Store, transport: opts.Transport}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if err := s.resolveURLs(); err != nil {
		return nil, err
	}
	if s.transport == nil {
		s.transport = newTransport(cfg)
	}

	profile := opts.Profile
	if profile == nil && cfg.Profile != "" {
		p, err := qc.LoadProfile(cfg.Profile)
		if err != nil {
			return nil, fmt.Errorf("loading profile: %w", err)
		}
		profile = p
	}
	s.engine = qc.NewEngine(profile)

	client, err := dicomweb.NewClient(dicomweb.ClientOptions{
		BaseURL:     cfg.Upstream,
		User:        cfg.UpstreamUser,
		Password:    string(cfg.UpstreamPassword),
		OrthancRoot: s.orthancRoot(),
		HTTP:        &http.Client{Transport: s.transport},
		Timeout:     cfg.UpstreamTimeout,
	})
	if err != nil {
		return nil, fmt.Errorf("upstream client: %w", err)
	}
	s.client = client

	if s.store == nil {
		st, err := store.Open(context.Background(), cfg.Store)
		if err != nil {
			return nil, fmt.Errorf("opening report store: %w", err)
		}
		s.store, s.ownStore = st, true
	}

	s.metrics = newMetrics(opts.Registry)
	s.sources = newMetadataCache(cfg.MetadataCacheSize, cfg.MetadataCacheTTL, time.Now)
	s.tagger = newTagger(s.client, s, cfg.TaggingEnabled())
	s.proxy = s.newProxy()
	s.handler = s.routes()
	return s, nil
}

// resolveURLs parses the upstream, WADO-URI and public URLs.
func (s *Server) resolveURLs() error {
	var err error
	if s.upstream, err = url.Parse(strings.TrimRight(s.cfg.Upstream, "/")); err != nil {
		return fmt.Errorf("%w: upstream: %w", ErrConfig, err)
	}
	wado := s.cfg.UpstreamWADOURI
	if wado == "" {
		wado = s.upstream.Scheme + "://" + s.upstream.Host + wadoURIPath
	}
	if s.wadoURI, err = url.Parse(wado); err != nil {
		return fmt.Errorf("%w: upstream_wado_uri: %w", ErrConfig, err)
	}
	if s.cfg.PublicURL != "" {
		if s.public, err = url.Parse(strings.TrimRight(s.cfg.PublicURL, "/")); err != nil {
			return fmt.Errorf("%w: public_url: %w", ErrConfig, err)
		}
	}
	return nil
}

// orthancRoot returns the root of Orthanc's REST API: the configured one,
// or the upstream URL without its last path segment ("/dicom-web").
func (s *Server) orthancRoot() string {
	if s.cfg.OrthancRoot != "" {
		return strings.TrimRight(s.cfg.OrthancRoot, "/")
	}
	u := *s.upstream
	if i := strings.LastIndex(u.Path, "/"); i >= 0 {
		u.Path = u.Path[:i]
	}
	return u.String()
}

// newTransport returns the transport of upstream requests: the default
// transport's dialing and TLS settings, with a bound on the wait for answer
// headers instead of one on the whole exchange, so long uploads and
// downloads can stream.
func newTransport(cfg *Config) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.ResponseHeaderTimeout = cfg.UpstreamTimeout
	t.MaxIdleConnsPerHost = 32
	t.DialContext = (&net.Dialer{Timeout: min(cfg.UpstreamTimeout, 10*time.Second),
		KeepAlive: 30 * time.Second}).DialContext
	return t
}

// routes builds the gin engine. gin's path cleaning and redirects are off:
// DICOMweb paths are checked on their raw form by classifyPath, and
// anything gin does not route goes there.
func (s *Server) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	e.HandleMethodNotAllowed = false
	e.RemoveExtraSlash = false
	e.ContextWithFallback = true

	e.Use(s.accessLog)
	e.GET("/healthz", s.wrap(s.serveHealthz))
	e.GET("/readyz", s.wrap(s.serveReadyz))
	e.GET("/metrics", gin.WrapH(s.metrics.handler()))
	e.GET("/qc/v1/reports", s.wrap(s.serveReportList))
	e.GET("/qc/v1/reports/:uid", s.wrap(s.serveReport))
	e.NoRoute(s.wrap(s.serveDICOMweb))
	return e
}

// Handler returns the gateway's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// ListenAndServe serves on the configured address until ctx ends, then
// shuts down gracefully: it stops accepting connections and waits up to
// ShutdownTimeout for in-flight requests, such as a STOW-RS upload, to
// finish. It returns nil after a clean shutdown.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Listen)
	if err != nil {
		return fmt.Errorf("listening on %s: %w", s.cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve is [Server.ListenAndServe] on a listener the caller made; it
// closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: s.cfg.ReadHeaderTimeout,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("listening", "addr", ln.Addr().String())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serving: %w", err)
	case <-ctx.Done():
	}

	s.log.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		hs.Close()
		return fmt.Errorf("shutting down: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serving: %w", err)
	}
	return nil
}

// Close waits for STOW-RS requests and tagging in progress, then closes
// the store if New opened it. Call it after the HTTP server has stopped.
func (s *Server) Close() error {
	s.stowWG.Wait()
	s.tagger.wait()
	if s.ownStore {
		if err := s.store.Close(); err != nil {
			return fmt.Errorf("closing report store: %w", err)
		}
	}
	return nil
}

// writeJSON writes v as a JSON answer with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

// drain reads what is left of r, up to limit bytes, so a connection can be
// reused.
func drain(r io.Reader, limit int64) {
	io.Copy(io.Discard, io.LimitReader(r, limit))
}
