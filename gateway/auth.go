package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/auth"
)

// Roles of the routes (see [auth.Role] for what each role implies):
//
//	/healthz, /readyz                      none, no token is read
//	/metrics                               auditor; none with auth.metrics_public
//	QIDO-RS, WADO-RS, WADO-URI (GET, HEAD) viewer
//	STOW-RS (POST)                         annotator
//	/qc/v1/reports, /qc/v1/reports/{uid}   viewer
//
// Routes added later declare theirs with [Server.authenticate] followed by
// [Server.requireRole], for example reviewer for a review action.

// roleFor returns the role a DICOMweb request needs once its path is
// classified: annotator to store, viewer for everything else.
func roleFor(route dicomwebRoute, method string) auth.Role {
	if route.Kind == kindSTOW && method == http.MethodPost {
		return auth.RoleAnnotator
	}
	return auth.RoleViewer
}

// authenticate is the middleware of every route but /healthz and /readyz:
// it verifies the request's bearer token before anything else is done with
// the request (no path is classified, no body read, nothing sent
// upstream), applies the client's rate limit, and puts the principal in
// the request's context for [Server.requireRole] and the handlers. A
// missing or bad token is answered 401 with a WWW-Authenticate challenge.
func (s *Server) authenticate(c *gin.Context) {
	r := c.Request
	p, err := s.verifier.Verify(r.Context(), r)
	st := stateFrom(r.Context())

	// The rate limit's client is the token's subject when there is one,
	// else the address the request came from: with authentication off
	// every request has the same anonymous subject.
	key := "ip:" + clientIP(r)
	if err == nil && !s.verifier.Disabled() {
		key = "sub:" + p.Subject
		st.subject = auth.SubjectHash(p.Subject)
	}
	if err := s.limiter.allow(key); err != nil {
		s.fail(c.Writer, r, err)
		c.Abort()
		return
	}
	if err != nil {
		s.fail(c.Writer, r, err)
		c.Abort()
		return
	}
	c.Request = r.WithContext(auth.NewContext(r.Context(), p))
	c.Next()
}

// requireRole returns middleware that lets a request through only when
// the principal [Server.authenticate] found holds role (directly or by a
// role implying it), else answers 403. Without a principal it answers 403
// too: it never lets a request through that was not authenticated.
func (s *Server) requireRole(role auth.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := auth.FromContext(c.Request.Context()).Require(role); err != nil {
			s.fail(c.Writer, c.Request, err)
			c.Abort()
			return
		}
		c.Next()
	}
}

// authorize checks that the request's principal holds role, for handlers
// that know the role only after looking at the request.
func authorize(r *http.Request, role auth.Role) error {
	if err := auth.FromContext(r.Context()).Require(role); err != nil {
		return fmt.Errorf("authorizing: %w", err)
	}
	return nil
}

// clientIP returns the host of the request's remote address. Forwarding
// headers are not trusted: behind a reverse proxy every client has the
// proxy's address, and only authenticated clients are told apart.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// authHTTPError maps an authentication or authorization failure to its
// status and client-safe message, or returns nil when err is not one.
func authHTTPError(err error) *Error {
	ae, ok := errors.AsType[*auth.Error](err)
	if !ok {
		return nil
	}
	return httpError(ae.StatusCode(), ae.Description, err)
}
