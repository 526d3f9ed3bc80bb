package gateway

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gin-gonic/gin"
)

// webUI is what the gateway serves to browsers: the OHIF viewer at the
// root, when configured, and the QC dashboard at /qc/.
type webUI struct {
	// ohif serves the viewer; nil when ohif_dir is empty.
	ohif *ohifHandler
	// reviews is the review workflow; nil until [Server.SetReviewWorkflow].
	reviews reviewWorkflow
}

// newWebUI checks the web settings and loads the viewer's files list.
func (s *Server) newWebUI() (*webUI, error) {
	var errs []error
	if f := s.cfg.QCStatusFormat; f != "" && !strings.Contains(f, "{status}") {
		errs = append(errs, fmt.Errorf("qc_status_format %q: must contain {status}", f))
	}
	if (s.cfg.OHIFOIDCIssuer == "") != (s.cfg.OHIFOIDCClientID == "") {
		errs = append(errs, errors.New("ohif_oidc_issuer and ohif_oidc_client_id: "+
			"set both or neither"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	w := &webUI{}
	if s.cfg.OHIFDir != "" {
		h, err := newOHIFHandler(s.cfg)
		if err != nil {
			return nil, fmt.Errorf("%w: ohif_dir: %w", ErrConfig, err)
		}
		w.ohif = h
	}
	return w, nil
}

// webRoutes adds the viewer and the dashboard to e. The viewer is a
// middleware, not a route: it answers GET and HEAD requests for any path
// outside the gateway's own (see isGatewayPath) with a file of its dist/
// folder, or index.html for the viewer's client-side routes.
func (s *Server) webRoutes(e *gin.Engine) {
	if s.web.ohif != nil {
		e.Use(s.web.ohif.serve)
	}
	s.dashboardRoutes(e)
}
