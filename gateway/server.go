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

	"github.com/qcgate/qcgate/auth"
	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/review"
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
	// ReviewLookup gives the review states shown in QC status and on the
	// dashboard. Nil means QC decisions only.
	ReviewLookup ReviewLookup
	// Registry receives the metrics. Nil means a new registry, with the
	// Go and process collectors, served at /metrics.
	Registry *prometheus.Registry
	// Verifier checks the bearer tokens of requests. Nil means one built
	// from Config.Auth by New, whose JWK Set refresh, when a JWKS URL is
	// configured, runs until [Server.Close]. Config.Auth is not validated
	// when a Verifier is given.
	Verifier *auth.Verifier
	// Reviews, when not nil, turns the review workflow on with these
	// options; its store is not closed by the server. Nil means the
	// workflow Config.Review describes: off unless review.enabled, else
	// with a store New opens and [Server.Close] closes.
	Reviews *ReviewOptions
}

// Server is the gateway. Build it with [New]; it is safe for concurrent
// use.
type Server struct {
	// reviewLookup gives review states; nil without one.
	reviewLookup ReviewLookup
	// web serves the OHIF viewer and the QC dashboard (web.go).
	web *webUI
	// reviews serves the review workflow (reviews.go); nil when it is off.
	reviews *reviewAPI
	// ownReviews is the review store New opened, closed by Close.
	ownReviews review.Store

	cfg       *Config
	log       *slog.Logger
	store     store.Store
	ownStore  bool
	engine    *qc.Engine
	profiles  *qc.ProfileSet
	engines   map[*qc.Profile]*qc.Engine
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
	verifier  *auth.Verifier
	limiter   *rateLimiter
	// held bounds the SEG bytes held by all STOW-RS requests at once.
	held *heldBudget
	// stopAuth ends the JWK Set refresh of a verifier New built.
	stopAuth context.CancelFunc

	// stowWG counts STOW-RS requests in flight, so Close can wait for
	// their reports and tags.
	stowWG sync.WaitGroup
}

// New builds a gateway from opts: it validates the configuration, builds
// the token verifier, opens the store and loads the profile when they are
// not given, and sets up the routes. It starts no listener, and no
// goroutine but the JWK Set refresh of a verifier it builds with a JWKS URL.
// With no key configured and authentication not disabled it fails: there
// is no open default.
func New(opts Options) (*Server, error) {
	cfg := opts.Config
	if cfg == nil {
		return nil, fmt.Errorf("%w: no config", ErrConfig)
	}
	if err := cfg.validate(opts.Verifier == nil); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	s := &Server{cfg: cfg, log: opts.Logger, store: opts.Store, transport: opts.Transport,
		verifier: opts.Verifier}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.verifier == nil {
		ctx, cancel := context.WithCancel(context.Background())
		v, err := auth.NewVerifier(ctx, cfg.Auth)
		if err != nil {
			cancel()
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		s.verifier, s.stopAuth = v, cancel
	}
	if s.verifier.Disabled() {
		s.log.Warn("authentication disabled", "setting", "auth.disabled")
	}
	s.limiter = newRateLimiter(cfg.RateLimit, cfg.RateBurst, time.Now)
	s.held = newHeldBudget(int64(cfg.MaxHeldBytes))
	if err := s.resolveURLs(); err != nil {
		return nil, err
	}
	if s.transport == nil {
		s.transport = newTransport(cfg)
	}

	if err := s.loadProfiles(opts.Profile); err != nil {
		s.stopVerifier()
		return nil, err
	}

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
			s.stopVerifier()
			return nil, fmt.Errorf("opening report store: %w", err)
		}
		s.store, s.ownStore = st, true
	}

	s.metrics = newMetrics(opts.Registry)
	s.sources = newMetadataCache(cfg.MetadataCacheSize, cfg.MetadataCacheTTL, time.Now)
	s.tagger = newTagger(s.client, s, cfg.TaggingEnabled())
	s.proxy = s.newProxy()
	s.reviewLookup = opts.ReviewLookup
	if s.web, err = s.newWebUI(); err != nil {
		return nil, err
	}
	if err := s.startReviews(opts); err != nil {
		s.stopVerifier()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// startReviews builds the review workflow of opts.Reviews, else of
// Config.Review, registers its metrics and gives it to the QC status and
// the dashboard. It does nothing when the workflow is off.
func (s *Server) startReviews(opts Options) error {
	ro := opts.Reviews
	if ro == nil {
		var err error
		if ro, err = s.cfg.reviewOptions(context.Background()); err != nil || ro == nil {
			return err
		}
		s.ownReviews = ro.Store
	}
	var err error
	if s.reviews, err = newReviewAPI(s, *ro); err != nil {
		return errors.Join(err, s.closeReviews())
	}
	if err := s.metrics.registry.Register(s.reviews.collector()); err != nil {
		return errors.Join(fmt.Errorf("registering review metrics: %w", err),
			s.closeReviews())
	}
	s.SetReviewWorkflow(s.reviews.wf)
	return nil
}

// closeReviews closes the review store New opened, if any.
func (s *Server) closeReviews() error {
	if s.ownReviews == nil {
		return nil
	}
	if err := s.ownReviews.Close(); err != nil {
		return fmt.Errorf("closing review store: %w", err)
	}
	return nil
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

	// Only the probes are open. Every other route authenticates first, so
	// an anonymous client gets 401 for any path and cannot probe which
	// exist; DICOMweb paths learn their role once classified.
	e.Use(s.accessLog, s.watchBody)
	s.webRoutes(e) // OHIF viewer and QC dashboard (web.go)
	e.GET("/healthz", s.wrap(s.serveHealthz))
	e.GET("/readyz", s.wrap(s.serveReadyz))
	metrics := []gin.HandlerFunc{gin.WrapH(s.metrics.handler())}
	if !s.cfg.Auth.MetricsPublic {
		metrics = append([]gin.HandlerFunc{s.authenticate,
			s.requireRole(auth.RoleAuditor)}, metrics...)
	}
	e.GET("/metrics", metrics...)
	qcAPI := e.Group("/qc/v1", s.authenticate, s.requireRole(auth.RoleViewer))
	qcAPI.GET("/reports", s.wrap(s.serveReportList))
	qcAPI.GET("/reports/:uid", s.wrap(s.serveReport))
	// Review, export, completeness and calibration: every role implies
	// viewer; each handler checks the role its action needs (reviews.go).
	s.reviews.register(s, e.Group("", s.authenticate, s.requireRole(auth.RoleViewer)))
	e.NoRoute(s.authenticate, s.checkQuery, s.wrap(s.serveDICOMweb))
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
		MaxHeaderBytes:    int(s.cfg.MaxHeaderBytes),
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
	s.reviews.wait()
	s.stopVerifier()
	errs := []error{s.closeReviews()}
	if s.ownStore {
		if err := s.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("closing report store: %w", err))
		}
	}
	return errors.Join(errs...)
}

// stopVerifier ends the JWK Set refresh of a verifier New built.
func (s *Server) stopVerifier() {
	if s.stopAuth != nil {
		s.stopAuth()
	}
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
