package gateway

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// readyTimeout bounds each readiness check.
const readyTimeout = 5 * time.Second

// serveHealthz answers 200 while the process serves HTTP.
func (s *Server) serveHealthz(c *gin.Context) error {
	writeJSON(c.Writer, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readiness is the body of /readyz.
type readiness struct {
	// Status is "ready" or "not ready".
	Status string `json:"status"`
	// Upstream and Store are "ok" or what failed.
	Upstream string `json:"upstream"`
	Store    string `json:"store"`
	// Auth is "ok", "off" or why tokens cannot be verified yet (a JWK Set
	// not fetched).
	Auth string `json:"auth"`
	// Tagging is "off", "ok" or the last tagging failure, which does not
	// make the gateway unready: the SEGs are stored and their reports kept.
	Tagging string `json:"tagging"`
	// TaggingFailedAt is when the last tagging failure happened.
	TaggingFailedAt *time.Time `json:"tagging_failed_at,omitempty"`
}

// serveReadyz answers 200 when the upstream answers and the store can be
// read, else 503, with what was found in the body.
func (s *Server) serveReadyz(c *gin.Context) error {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()

	body := readiness{Status: "ready", Upstream: "ok", Store: "ok", Auth: "ok",
		Tagging: "off"}
	if s.verifier.Disabled() {
		body.Auth = "off"
	} else if err := s.verifier.Ready(ctx); err != nil {
		body.Status, body.Auth = "not ready", err.Error()
	}
	if err := s.pingUpstream(ctx); err != nil {
		body.Status, body.Upstream = "not ready", s.redact(err.Error())
	}
	if err := s.store.Ping(ctx); err != nil {
		body.Status, body.Store = "not ready", s.redact(err.Error())
	}
	if s.tagger.enabled {
		body.Tagging = "ok"
		if msg, at := s.tagger.lastFailure(); msg != "" {
			body.Tagging, body.TaggingFailedAt = msg, &at
		}
	}
	status := http.StatusOK
	if body.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(c.Writer, status, body)
	return nil
}

// pingUpstream sends the cheapest DICOMweb request there is, a study
// search for one result, with the gateway's credentials.
func (s *Server) pingUpstream(ctx context.Context) error {
	if err := s.client.Ping(ctx); err != nil {
		return fmt.Errorf("upstream check: %w", err)
	}
	return nil
}
