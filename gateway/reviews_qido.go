package gateway

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// includeRejectedParam is the QIDO-RS query parameter with which a client
// asks for SEGs rejected in review too ("includerejected=true"). It is the
// gateway's own: it is taken out of the query before the upstream sees it.
const includeRejectedParam = "includerejected"

// asksIncludeRejected reports whether a raw query asks for rejected SEGs.
func asksIncludeRejected(rawQuery string) bool {
	for kv := range strings.SplitSeq(rawQuery, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if isIncludeRejected(k) {
			b, err := strconv.ParseBool(v)
			return err == nil && b
		}
	}
	return false
}

// isIncludeRejected reports whether a raw query key is includerejected,
// in any case and percent-encoding.
func isIncludeRejected(rawKey string) bool {
	k, err := url.QueryUnescape(rawKey)
	return err == nil && strings.EqualFold(k, includeRejectedParam)
}

// stripIncludeRejected returns a raw query without the includerejected
// parameter; the other parameters keep their order and encoding.
func stripIncludeRejected(rawQuery string) string {
	if rawQuery == "" {
		return rawQuery
	}
	var kept []string
	for kv := range strings.SplitSeq(rawQuery, "&") {
		if k, _, _ := strings.Cut(kv, "="); !isIncludeRejected(k) {
			kept = append(kept, kv)
		}
	}
	return strings.Join(kept, "&")
}

// hideRejected removes from a QIDO-RS answer the SEG instances rejected in
// review, and the SEG series whose every reviewed SEG was rejected, the
// way dcm4chee-arc hides instances a rejection note (PS3.3 KOS, 113001
// DCM) references, unless the client asked for them with
// includerejected=true. It buffers the answer up to maxStatusBody; a gzip
// answer goes out plain. An answer larger than that, or in XML
// (multipart/related; type=application/dicom+xml), passes unfiltered.
// When the review store cannot be read the request fails (502) rather
// than show a rejected SEG.
func (s *Server) hideRejected(res *http.Response, info proxyInfo) error {
	if s.reviews == nil || info.route.Kind != kindQIDO || info.includeRejected ||
		res.StatusCode != http.StatusOK || !isDICOMJSON(res.Header.Get("Content-Type")) {
		return nil
	}
	err := rewriteJSON(res, func(buf []byte) ([]byte, error) {
		// An empty answer (Orthanc sends "[]", some servers nothing) has
		// nothing to hide.
		if len(bytes.TrimSpace(buf)) == 0 {
			return buf, nil
		}
		return s.reviews.filterQIDO(res.Request.Context(), buf)
	})
	if err != nil {
		return fmt.Errorf("hiding rejected SEGs: %w", err)
	}
	return nil
}
