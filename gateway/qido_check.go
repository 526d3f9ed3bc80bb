package gateway

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/dicomweb"
)

// checkQuery refuses with 400 a QIDO-RS search (PS3.18 10.6) whose query
// the upstream would misread ([dicomweb.CheckQuery]): malformed
// percent-encoding, which Orthanc 1.10 ignores and so matches everything,
// or a limit or offset that is not an unsigned integer, which it answers
// with 400 or 500. Every other request, and a search the client may not
// make, goes on to serveDICOMweb, which answers it.
func (s *Server) checkQuery(c *gin.Context) {
	r := c.Request
	if r.URL.RawQuery == "" || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return
	}
	project, path, err := s.splitProject(rawPath(r))
	if err != nil {
		return
	}
	route, err := classifyPath(r.Method, path)
	if err != nil || !isSearch(route) || authorize(r, roleFor(route, r.Method)) != nil {
		return
	}
	err = dicomweb.CheckQuery(r.URL.RawQuery)
	if qe, ok := errors.AsType[*dicomweb.QueryError](err); ok {
		st := stateFrom(r.Context())
		st.route = route.Template
		if project != "" {
			st.route = projectPrefix + "{project}" + route.Template
		}
		s.fail(c.Writer, r, httpError(http.StatusBadRequest, "invalid query: "+qe.Error(), err))
		c.Abort()
	}
}

// isSearch reports whether a GET or HEAD of route is a QIDO-RS search:
// GET /studies shares its route with STOW-RS, a study's path with its
// retrieval.
func isSearch(route dicomwebRoute) bool {
	return route.Kind == kindQIDO || (route.Kind == kindSTOW && route.Study == "")
}
