package dicomweb

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxQueryCount is the largest limit or offset [CheckQuery] accepts:
// PS3.18 8.3.4.4 sets no bound, and Orthanc 1.10 reads both as a 32-bit
// signed integer, answering 400 or 500 past it.
const MaxQueryCount = 1<<31 - 1

// QueryError is a QIDO-RS query parameter that [CheckQuery] refuses.
type QueryError struct {
	// Param is the parameter's name as sent, cut to 40 bytes.
	Param string
	// Reason says what is wrong, in words meant for the client.
	Reason string
}

// Error implements error.
func (e *QueryError) Error() string {
	return fmt.Sprintf("query parameter %q: %s", e.Param, e.Reason)
}

// CheckQuery checks the raw query of a QIDO-RS request (PS3.18 8.3.4)
// for what an origin server would misread: a name or value whose
// percent-encoding is malformed (RFC 3986 2.1), which Orthanc 1.10
// ignores, so the search matches everything; and a limit or offset
// (PS3.18 8.3.4.4) that is not an unsigned integer up to
// [MaxQueryCount], which Orthanc answers with 400 or 500. It returns a
// [*QueryError] for the first bad parameter, or nil.
func CheckQuery(rawQuery string) error {
	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name, err := url.QueryUnescape(rawName)
		if err != nil {
			return &QueryError{Param: clipString(rawName),
				Reason: "malformed percent-encoding in the name"}
		}
		value, err := url.QueryUnescape(rawValue)
		if err != nil {
			return &QueryError{Param: clipString(name),
				Reason: "malformed percent-encoding in the value"}
		}
		if !strings.EqualFold(name, "limit") && !strings.EqualFold(name, "offset") {
			continue
		}
		if !isCount(value) {
			return &QueryError{Param: clipString(name), Reason: fmt.Sprintf("must be an "+
				"unsigned integer from 0 to %d (PS3.18 8.3.4.4)", MaxQueryCount)}
		}
	}
	return nil
}

// isCount reports whether s is the decimal form of an integer from 0 to
// MaxQueryCount, digits only.
func isCount(s string) bool {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return err == nil && n <= MaxQueryCount
}

// RepairQuery rewrites the raw query of a QIDO-RS request (PS3.18 8.3.4) so
// that Orthanc 1.10 with its DICOMweb plugin 1.7 matches what the client
// asked for.
//
// Orthanc 1.10 does not percent-decode query values: includefield=
// 00081030%2C00080060, PatientName=Doe%5EJohn or StudyDescription=Liver%2A
// reach its matcher with the escapes in them, match nothing and still
// answer 200. (Comma-separated UID lists are the one place where it
// understands %2C.) OHIF always sends includefield with %2C, so behind a
// plain proxy its study list shows no descriptions.
//
// RepairQuery therefore decodes every name and value (with "+" as a space,
// as HTML forms and Python's urlencode write it) and writes them back with
// every character Orthanc takes literally left unescaped: letters, digits
// and "-._~!$'()*,;:@/?^". It splits includefield on commas into one
// includefield parameter per attribute (PS3.18 8.3.4.3).
//
// Some characters have no form that Orthanc 1.10 both accepts and decodes,
// so they become wildcards (PS3.4 C.2.2.2.4), which match what was asked
// and possibly more, where the original matched nothing:
//   - a space or control character, not valid raw in a request line,
//     becomes "?": StudyDescription=Liver%20CT* becomes
//     StudyDescription=Liver?CT*;
//   - a run of non-ASCII characters becomes "*": raw UTF-8 makes Orthanc
//     answer 400, and "?" does not match such a character in its matcher,
//     so PatientName=M%C3%BCller becomes PatientName=M*ller.
//
// Characters that would change the query's structure ("&", "=", "+", "#",
// "%") stay escaped, and so match nothing in Orthanc, as before. A
// parameter whose escapes are malformed is kept as it came; [CheckQuery]
// tells a caller to refuse such a query instead.
// Other than an includefield without attributes, nothing is removed, and the
// order of parameters is kept.
//
// RepairQuery is idempotent: repairing a repaired query changes nothing.
func RepairQuery(rawQuery string) string {
	var b strings.Builder
	b.Grow(len(rawQuery))
	add := func(s string) {
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(s)
	}

	for pair := range strings.SplitSeq(rawQuery, "&") {
		if pair == "" {
			continue
		}
		rawName, rawValue, hasValue := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(rawName)
		value, err2 := url.QueryUnescape(rawValue)
		if err1 != nil || err2 != nil {
			add(pair)
			continue
		}

		if strings.EqualFold(name, "includefield") {
			// An includefield naming no attribute asks for nothing; it
			// is dropped.
			for field := range strings.SplitSeq(value, ",") {
				if field = strings.TrimSpace(field); field != "" {
					add(literalEscape(name) + "=" + literalEscape(field))
				}
			}
			continue
		}

		if !hasValue {
			add(literalEscape(name))
			continue
		}
		add(literalEscape(name) + "=" + literalEscape(value))
	}
	return b.String()
}

// literalEscape escapes s for a query in the form Orthanc 1.10 reads
// literally; see [RepairQuery].
func literalEscape(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c <= ' ' || c == 0x7f:
			b.WriteByte('?')
		case c >= 0x80:
			// One "*" for a run of non-ASCII bytes.
			b.WriteByte('*')
			for i+1 < len(s) && s[i+1] >= 0x80 {
				i++
			}
		case isQueryLiteral(c):
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0xf])
		}
	}
	return b.String()
}

// isQueryLiteral reports whether the ASCII byte c is written unescaped.
func isQueryLiteral(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!$'()*,;:@/?^", c) >= 0
}
