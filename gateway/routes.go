package gateway

import (
	"net/http"
	"regexp"
	"strings"
)

// routeKind says how the gateway handles a DICOMweb request.
type routeKind int

const (
	// kindQIDO is a search (PS3.18 10.6): passed through, query repaired.
	kindQIDO routeKind = iota + 1
	// kindWADO is a retrieval (PS3.18 10.4): passed through, streamed.
	kindWADO
	// kindSTOW is a store (PS3.18 10.5): intercepted.
	kindSTOW
	// kindWADOURI is a WADO-URI retrieval (PS3.18 9): passed through.
	kindWADOURI
)

// dicomwebPrefix is where the gateway serves DICOMweb, whatever the
// upstream's root path is.
const dicomwebPrefix = "/dicom-web"

// wadoURIPath is where the gateway serves WADO-URI.
const wadoURIPath = "/wado"

// dicomwebRoute is a request path that passed the guard.
type dicomwebRoute struct {
	// Kind is how the request is handled.
	Kind routeKind
	// Template is the path with its UIDs replaced by names, for logs and
	// metrics, for example "/dicom-web/studies/{study}/metadata".
	Template string
	// Path is the canonical path below the DICOMweb root, for example
	// "/studies/1.2.3/metadata", rebuilt from the checked segments only.
	Path string
	// Study is the Study Instance UID in the path, or "".
	Study string
}

var (
	// uidPattern is a UID (PS3.5 9.1): dot-separated digit groups, at most
	// 64 characters (the length is checked apart).
	uidPattern = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)
	// framesPattern is a frame list (PS3.18 10.4.1.1.5): 1-based numbers
	// separated by commas.
	framesPattern = regexp.MustCompile(`^[1-9][0-9]{0,8}(,[1-9][0-9]{0,8})*$`)
	// bulkPattern is one segment of a bulk data path: Orthanc writes
	// BulkDataURIs as .../instances/{uid}/bulk/{tag}[/{item}/{tag}...],
	// tags as 8 hex digits and items as decimal indexes.
	bulkPattern = regexp.MustCompile(`^[0-9A-Fa-f]{1,8}$`)
)

// Limits of the path guard.
const (
	maxUIDLength    = 64
	maxFramesLength = 4096
	maxBulkDepth    = 16
)

// classifyPath checks a request's method and raw path (as sent, before
// percent-decoding) against the DICOMweb resources of PS3.18 10.4 to 10.6
// and WADO-URI. It accepts only paths built from literal resource names,
// UIDs, frame lists and bulk data tags, so no encoded slash or dot, dot
// segment, double slash, backslash or parameter can take a request to
// another resource of the upstream. It returns ErrNotDICOMweb for any
// other path (404), and a 405 [*Error] for a known path with a method the
// gateway does not pass.
func classifyPath(method, rawPath string) (dicomwebRoute, error) {
	if rawPath == wadoURIPath {
		r := dicomwebRoute{Kind: kindWADOURI, Template: wadoURIPath}
		return r, checkMethod(method, r)
	}
	rest, ok := strings.CutPrefix(rawPath, dicomwebPrefix+"/")
	if !ok || len(rest) > 2048 {
		return dicomwebRoute{}, ErrNotDICOMweb
	}
	r, ok := matchSegments(strings.Split(rest, "/"))
	if !ok {
		return dicomwebRoute{}, ErrNotDICOMweb
	}
	return r, checkMethod(method, r)
}

// checkMethod allows GET and HEAD on retrievals and searches, and POST on
// the two STOW-RS targets.
func checkMethod(method string, r dicomwebRoute) error {
	switch {
	case r.Kind == kindSTOW && method == http.MethodPost:
		return nil
	case r.Kind == kindSTOW && (method == http.MethodGet || method == http.MethodHead):
		return nil
	case r.Kind != kindSTOW && (method == http.MethodGet || method == http.MethodHead):
		return nil
	}
	allow := "GET, HEAD"
	if r.Kind == kindSTOW {
		allow = "GET, HEAD, POST"
	}
	return &Error{Status: http.StatusMethodNotAllowed, Message: "method not allowed",
		Cause: methodError{allow: allow}}
}

// methodError carries the Allow header of a 405 answer.
type methodError struct{ allow string }

func (e methodError) Error() string { return "method not allowed; allow " + e.allow }

// pathBuilder accumulates the canonical path and template of a route.
type pathBuilder struct {
	path, tmpl strings.Builder
}

func (b *pathBuilder) literal(s string) {
	b.path.WriteString("/" + s)
	b.tmpl.WriteString("/" + s)
}

func (b *pathBuilder) param(value, name string) {
	b.path.WriteString("/" + value)
	b.tmpl.WriteString("/{" + name + "}")
}

func (b *pathBuilder) route(kind routeKind, study string) dicomwebRoute {
	return dicomwebRoute{Kind: kind, Template: dicomwebPrefix + b.tmpl.String(),
		Path: b.path.String(), Study: study}
}

// isUID reports whether s is a UID the guard lets through.
func isUID(s string) bool {
	return len(s) <= maxUIDLength && uidPattern.MatchString(s)
}

// matchSegments matches the path segments below /dicom-web/.
func matchSegments(segs []string) (dicomwebRoute, bool) {
	var b pathBuilder
	switch {
	case len(segs) == 1 && segs[0] == "studies":
		// Search for studies (GET) or store (POST): told apart by method.
		b.literal("studies")
		return b.route(kindSTOW, ""), true
	case len(segs) == 1 && (segs[0] == "series" || segs[0] == "instances"):
		b.literal(segs[0])
		return b.route(kindQIDO, ""), true
	case len(segs) < 2 || segs[0] != "studies" || !isUID(segs[1]):
		return dicomwebRoute{}, false
	}
	study := segs[1]
	b.literal("studies")
	b.param(study, "study")
	segs = segs[2:]

	switch {
	case len(segs) == 0:
		return b.route(kindSTOW, study), true
	case len(segs) == 1 && segs[0] == "instances":
		b.literal("instances")
		return b.route(kindQIDO, study), true
	case len(segs) == 1 && segs[0] == "series":
		b.literal("series")
		return b.route(kindQIDO, study), true
	case len(segs) == 1 && isRetrieveSuffix(segs[0]):
		b.literal(segs[0])
		return b.route(kindWADO, study), true
	case len(segs) < 2 || segs[0] != "series" || !isUID(segs[1]):
		return dicomwebRoute{}, false
	}
	b.literal("series")
	b.param(segs[1], "series")
	segs = segs[2:]

	switch {
	case len(segs) == 0:
		return b.route(kindWADO, study), true
	case len(segs) == 1 && segs[0] == "instances":
		b.literal("instances")
		return b.route(kindQIDO, study), true
	case len(segs) == 1 && isRetrieveSuffix(segs[0]):
		b.literal(segs[0])
		return b.route(kindWADO, study), true
	case len(segs) < 2 || segs[0] != "instances" || !isUID(segs[1]):
		return dicomwebRoute{}, false
	}
	b.literal("instances")
	b.param(segs[1], "instance")
	if !matchInstanceTail(&b, segs[2:]) {
		return dicomwebRoute{}, false
	}
	return b.route(kindWADO, study), true
}

// isRetrieveSuffix reports whether s names a representation of a study,
// series or instance (PS3.18 10.4.1).
func isRetrieveSuffix(s string) bool {
	return s == "metadata" || s == "rendered" || s == "thumbnail"
}

// matchInstanceTail matches what may follow /instances/{uid}: nothing, a
// representation, frames with an optional rendering, or bulk data.
func matchInstanceTail(b *pathBuilder, segs []string) bool {
	switch {
	case len(segs) == 0:
		return true
	case len(segs) == 1 && isRetrieveSuffix(segs[0]):
		b.literal(segs[0])
		return true
	case segs[0] == "frames" && (len(segs) == 2 || len(segs) == 3):
		// Some clients send the commas of a frame list encoded.
		list := strings.ReplaceAll(strings.ReplaceAll(segs[1], "%2C", ","), "%2c", ",")
		if len(list) > maxFramesLength || !framesPattern.MatchString(list) {
			return false
		}
		b.literal("frames")
		b.param(list, "frames")
		if len(segs) == 3 {
			if segs[2] != "rendered" && segs[2] != "thumbnail" {
				return false
			}
			b.literal(segs[2])
		}
		return true
	case (segs[0] == "bulk" || segs[0] == "bulkdata") && len(segs) >= 2 &&
		len(segs) <= maxBulkDepth+1:
		for _, s := range segs[1:] {
			if !bulkPattern.MatchString(s) {
				return false
			}
		}
		b.literal(segs[0])
		b.path.WriteString("/" + strings.Join(segs[1:], "/"))
		b.tmpl.WriteString("/{path}")
		return true
	}
	return false
}
