package dicomweb

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestRepairQuery(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"OHIF includefield", "includefield=00081030%2C00080060&limit=101&offset=0",
			"includefield=00081030&includefield=00080060&limit=101&offset=0"},
		{"raw comma includefield", "includefield=00081030,00080060",
			"includefield=00081030&includefield=00080060"},
		{"includefield spaces and empties", "includefield=%2000081030%2C%2C+00080060%2C",
			"includefield=00081030&includefield=00080060"},
		{"includefield empty dropped", "includefield=&includefield=%2C&limit=1", "limit=1"},
		{"caret and wildcard", "PatientName=Doe%5EJ%2A", "PatientName=Doe^J*"},
		{"space becomes single wildcard", "StudyDescription=Liver%20CT%5EContrast",
			"StudyDescription=Liver?CT^Contrast"},
		{"plus is space", "StudyDescription=Liver+CT*", "StudyDescription=Liver?CT*"},
		{"UID list", "StudyInstanceUID=1.2.3%2C1.2.4", "StudyInstanceUID=1.2.3,1.2.4"},
		{"date range", "StudyDate=20200101%2D20201231", "StudyDate=20200101-20201231"},
		{"structural characters stay escaped", "X=a%26b%3Dc%2Bd%23e%25f",
			"X=a%26b%3Dc%2Bd%23e%25f"},
		{"non-ASCII becomes wildcard", "PatientName=M%C3%BCller%5EJ%C3%BCrg%C3%A9n",
			"PatientName=M*ller^J*rg*n"},
		{"raw UTF-8", "PatientName=\xe7\x8e\x8b\xe5\xb0\x8f", "PatientName=*"},
		{"control character", "X=a%0Ab", "X=a?b"},
		{"malformed escape kept", "PatientName=%ZZ&limit=5", "PatientName=%ZZ&limit=5"},
		{"name without value", "fuzzymatching&limit=", "fuzzymatching&limit="},
		{"empty pairs", "&&a=1&&", "a=1"},
		{"escaped name", "include%66ield=a%2Cb", "includefield=a&includefield=b"},
		{"backslash escaped", "ModalitiesInStudy=CT%5CMR", "ModalitiesInStudy=CT%5CMR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := RepairQuery(tt.in)
			if got != tt.want {
				t.Errorf("RepairQuery(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := RepairQuery(got); again != got {
				t.Errorf("RepairQuery(%q) = %q, not idempotent", got, again)
			}
		})
	}
}

// TestRepairQueryKeepsMeaning checks with net/url's decoder that the
// repaired query holds the same names and values, spaces aside.
func TestRepairQueryKeepsMeaning(t *testing.T) {
	in := "PatientName=Doe%5EJ%2A&StudyDate=2020%2D2021&X=a%26b&includefield=00100020"
	got, err := url.ParseQuery(RepairQuery(in))
	if err != nil {
		t.Fatalf("url.ParseQuery(RepairQuery(%q)) = %v", in, err)
	}
	want, _ := url.ParseQuery(in)
	for k, v := range want {
		if got.Get(k) != v[0] {
			t.Errorf("RepairQuery(%q): %s = %q, want %q", in, k, got.Get(k), v[0])
		}
	}
}

// FuzzRepairQuery checks that RepairQuery never panics, is idempotent and
// writes no space, control character, non-ASCII byte or "#" that the input
// did not hold raw.
func FuzzRepairQuery(f *testing.F) {
	for _, s := range []string{
		"includefield=00081030%2C00080060&limit=101&offset=0&fuzzymatching=false",
		"PatientName=Doe%5EJ%2A&StudyDescription=Liver+CT%20x",
		"StudyInstanceUID=1.2.3%2C1.2.4&X=%ZZ&&y",
		"includefield=%2C&X=a%26b%3Dc%2Bd%23e%25f%0A",
		"PatientName=M%C3%BCller%FF",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := RepairQuery(in)
		if again := RepairQuery(got); again != got {
			t.Fatalf("RepairQuery not idempotent: %q -> %q -> %q", in, got, again)
		}
		for i := 0; i < len(got); i++ {
			if c := got[i]; (c == '#' || c <= ' ' || c >= 0x7f) && !containsRaw(in, c) {
				t.Fatalf("RepairQuery(%q) = %q holds byte %#x", in, got, c)
			}
		}
	})
}

// containsRaw reports whether in holds c itself, which RepairQuery keeps in
// a parameter whose escapes are malformed.
func containsRaw(in string, c byte) bool {
	for i := 0; i < len(in); i++ {
		if in[i] == c {
			return true
		}
	}
	return false
}

func TestCheckQuery(t *testing.T) {
	tests := []struct {
		name, in string
		// wantParam names the refused parameter; "" means the query passes.
		wantParam string
	}{
		{"empty", "", ""},
		{"OHIF study list", "limit=101&offset=0&fuzzymatching=false&includefield=" +
			"00081030%2C00080060", ""},
		{"largest limit Orthanc takes", "limit=2147483647", ""},
		{"leading zeros", "offset=007", ""},
		{"limit 0", "limit=0", ""},
		{"malformed escape in a value", "PatientName=%ZZ", "PatientName"},
		{"malformed escape in a name", "%ZZ=1", "%ZZ"},
		{"cut escape", "StudyDescription=Liver%2", "StudyDescription"},
		{"negative limit", "limit=-1", "limit"},
		{"negative offset", "offset=-5", "offset"},
		{"limit past 32 bits", "limit=99999999999999999999", "limit"},
		{"limit one past Orthanc's", "limit=2147483648", "limit"},
		{"offset one past Orthanc's", "includefield=all&offset=2147483648", "offset"},
		{"plus sign", "limit=%2B5", "limit"},
		{"empty limit", "limit=", "limit"},
		{"limit without value", "limit", "limit"},
		{"limit with a space", "limit=1+0", "limit"},
		{"upper case name", "LIMIT=x", "LIMIT"},
		{"decimal", "offset=1.5", "offset"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckQuery(tt.in)
			var qe *QueryError
			switch {
			case tt.wantParam == "" && err != nil:
				t.Errorf("CheckQuery(%q) = %v, want nil", tt.in, err)
			case tt.wantParam != "" && !errors.As(err, &qe):
				t.Errorf("CheckQuery(%q) = %v, want a *QueryError", tt.in, err)
			case tt.wantParam != "" && qe.Param != tt.wantParam:
				t.Errorf("CheckQuery(%q) names %q, want %q", tt.in, qe.Param, tt.wantParam)
			}
		})
	}
}

// FuzzCheckQuery checks that a query CheckQuery passes decodes with
// net/url (semicolons aside, which net/url refuses and Orthanc takes
// literally) and has limit and offset values that parse as small
// unsigned integers.
func FuzzCheckQuery(f *testing.F) {
	for _, s := range []string{"limit=101&offset=0", "%ZZ=1", "limit=-1",
		"PatientName=Doe%5EJ%2A", "limit=99999999999999999999", "a&&b=&=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if CheckQuery(q) != nil {
			return
		}
		vals, err := url.ParseQuery(strings.ReplaceAll(q, ";", "%3B"))
		if err != nil {
			t.Fatalf("CheckQuery(%q) = nil, but url.ParseQuery: %v", q, err)
		}
		for k, vs := range vals {
			if !strings.EqualFold(k, "limit") && !strings.EqualFold(k, "offset") {
				continue
			}
			for _, v := range vs {
				if n, err := strconv.ParseUint(v, 10, 31); err != nil || n > MaxQueryCount {
					t.Fatalf("CheckQuery(%q) = nil with %s=%q", q, k, v)
				}
			}
		}
	})
}
