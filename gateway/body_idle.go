package gateway

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/gin-gonic/gin"
)

// errBodyIdle means a request body sent no byte for body_idle_timeout.
var errBodyIdle = errors.New("request body stalled")

// watchBody bounds each read of a request body to body_idle_timeout: a
// client that stops sending mid-body is cut off with 408, while a long
// upload that keeps moving is never cut, since every read pushes the
// deadline on. It works through the connection's read deadline
// ([http.ResponseController]), the only way to end a read blocked on a
// client that sends nothing.
func (s *Server) watchBody(c *gin.Context) {
	r := c.Request
	if d := s.cfg.BodyIdleTimeout; d > 0 && r.Body != nil && r.Body != http.NoBody {
		r.Body = &idleBody{rc: r.Body, ctl: http.NewResponseController(c.Writer), idle: d}
	}
	c.Next()
}

// idleBody sets the connection's read deadline before each read of a
// request body, and clears it once the body ends: net/http then reads
// the connection in the background to notice a client that goes away,
// and a deadline passing there would cancel the request.
type idleBody struct {
	rc   io.ReadCloser
	ctl  *http.ResponseController
	idle time.Duration
	// off is set once the body ended or the writer has no deadlines.
	off bool
}

func (b *idleBody) Read(p []byte) (int, error) {
	if b.off {
		return b.rc.Read(p)
	}
	if err := b.ctl.SetReadDeadline(time.Now().Add(b.idle)); err != nil {
		// A writer without deadlines (a test recorder) gets no bound.
		b.off = true
		return b.rc.Read(p)
	}
	n, err := b.rc.Read(p)
	if err == nil {
		return n, nil
	}
	b.off = true
	b.ctl.SetReadDeadline(time.Time{})
	if isTimeout(err) {
		return n, fmt.Errorf("%w: no byte for %s: %w", errBodyIdle, b.idle, err)
	}
	return n, err
}

func (b *idleBody) Close() error { return b.rc.Close() }

// isTimeout reports whether err is a read deadline that passed.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
}
