package gateway

import (
	"cmp"
	"fmt"
	"net/http"
	"strings"
)

// statusOptions returns what the QC status adds to the answer of route.
func (s *Server) statusOptions(info proxyInfo) annotateOptions {
	o := annotateOptions{target: targetOf(info.route), base: info.base,
		private: s.cfg.QCStatusPrivate == nil || *s.cfg.QCStatusPrivate}
	if s.cfg.QCStatusDescription == nil || *s.cfg.QCStatusDescription {
		o.format = cmp.Or(s.cfg.QCStatusFormat, DefaultQCStatusFormat)
	}
	return o
}

// addQCStatus adds the QC status of SEG series and instances to a
// series or instance search or a metadata answer (see annotateDICOMJSON).
// It buffers the answer, up to maxStatusBody; a gzip answer is
// decompressed and goes out plain. When the answer is larger, is not a
// DICOM JSON array, or the store cannot be read, the answer passes
// unchanged: a viewer is better served without status than without data.
func (s *Server) addQCStatus(res *http.Response, info proxyInfo) error {
	o := s.statusOptions(info)
	if o.target == targetNone || (o.format == "" && !o.private) ||
		res.StatusCode != http.StatusOK || !isDICOMJSON(res.Header.Get("Content-Type")) {
		return nil
	}

	src := statusSource{reports: s.store, reviews: s.reviewLookup}
	err := rewriteJSON(res, func(buf []byte) ([]byte, error) {
		out, changed, err := annotateDICOMJSON(res.Request.Context(), buf, src, o)
		if err != nil {
			s.log.Warn("qc status lookup failed", "err", err)
		}
		if !changed {
			return buf, nil
		}
		return out, nil
	})
	if err != nil {
		return fmt.Errorf("adding QC status: %w", err)
	}
	return nil
}

// isDICOMJSON reports whether a Content-Type is a single JSON document
// (application/dicom+json or application/json), not a multipart one.
func isDICOMJSON(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.Contains(ct, "json") && !strings.HasPrefix(ct, "multipart/")
}
