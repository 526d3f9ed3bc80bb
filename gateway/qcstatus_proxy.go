package gateway

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxStatusBody is the largest DICOM JSON answer the gateway buffers to
// add QC status; a larger one (a study's metadata with thousands of
// instances) passes unchanged.
const maxStatusBody = 64 << 20

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

	body := io.ReadCloser(res.Body)
	switch strings.ToLower(res.Header.Get("Content-Encoding")) {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return fmt.Errorf("reading gzip answer: %w", err)
		}
		body = readCloser{zr, res.Body}
		res.Header.Del("Content-Encoding")
		res.ContentLength = -1
		res.Header.Del("Content-Length")
	default:
		return nil
	}

	buf, err := io.ReadAll(io.LimitReader(body, maxStatusBody+1))
	if err != nil {
		body.Close()
		return fmt.Errorf("reading answer for QC status: %w", err)
	}
	if len(buf) > maxStatusBody {
		res.Body = readCloser{io.MultiReader(bytes.NewReader(buf), body), body}
		return nil
	}
	body.Close()

	src := statusSource{reports: s.store, reviews: s.reviewLookup}
	out, changed, err := annotateDICOMJSON(res.Request.Context(), buf, src, o)
	if err != nil {
		s.log.Warn("qc status lookup failed", "err", err)
	}
	if !changed {
		out = buf
	}
	res.Body = io.NopCloser(bytes.NewReader(out))
	res.ContentLength = int64(len(out))
	res.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}

// isDICOMJSON reports whether a Content-Type is a single JSON document
// (application/dicom+json or application/json), not a multipart one.
func isDICOMJSON(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.Contains(ct, "json") && !strings.HasPrefix(ct, "multipart/")
}
