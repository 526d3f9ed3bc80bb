package gateway

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	tStudy    = "1.2.840.113619.2.55.3"
	tSeries   = "1.2.840.113619.2.55.3.4"
	tInstance = "1.2.840.113619.2.55.3.4.5"
)

func TestClassifyPathAccepts(t *testing.T) {
	inst := "/studies/" + tStudy + "/series/" + tSeries + "/instances/" + tInstance
	tmplInst := "/dicom-web/studies/{study}/series/{series}/instances/{instance}"
	tests := []struct {
		method, path string
		want         dicomwebRoute
	}{
		{"GET", "/dicom-web/studies", dicomwebRoute{kindSTOW, "/dicom-web/studies",
			"/studies", ""}},
		{"POST", "/dicom-web/studies", dicomwebRoute{kindSTOW, "/dicom-web/studies",
			"/studies", ""}},
		{"GET", "/dicom-web/series", dicomwebRoute{kindQIDO, "/dicom-web/series",
			"/series", ""}},
		{"HEAD", "/dicom-web/instances", dicomwebRoute{kindQIDO, "/dicom-web/instances",
			"/instances", ""}},
		{"POST", "/dicom-web/studies/" + tStudy, dicomwebRoute{kindSTOW,
			"/dicom-web/studies/{study}", "/studies/" + tStudy, tStudy}},
		{"GET", "/dicom-web/studies/" + tStudy + "/metadata", dicomwebRoute{kindWADO,
			"/dicom-web/studies/{study}/metadata", "/studies/" + tStudy + "/metadata",
			tStudy}},
		{"GET", "/dicom-web/studies/" + tStudy + "/series", dicomwebRoute{kindQIDO,
			"/dicom-web/studies/{study}/series", "/studies/" + tStudy + "/series", tStudy}},
		{"GET", "/dicom-web/studies/" + tStudy + "/instances", dicomwebRoute{kindQIDO,
			"/dicom-web/studies/{study}/instances", "/studies/" + tStudy + "/instances",
			tStudy}},
		{"GET", "/dicom-web/studies/" + tStudy + "/series/" + tSeries, dicomwebRoute{
			kindWADO, "/dicom-web/studies/{study}/series/{series}",
			"/studies/" + tStudy + "/series/" + tSeries, tStudy}},
		{"GET", "/dicom-web/studies/" + tStudy + "/series/" + tSeries + "/rendered",
			dicomwebRoute{kindWADO, "/dicom-web/studies/{study}/series/{series}/rendered",
				"/studies/" + tStudy + "/series/" + tSeries + "/rendered", tStudy}},
		{"GET", "/dicom-web/studies/" + tStudy + "/series/" + tSeries + "/instances",
			dicomwebRoute{kindQIDO, "/dicom-web/studies/{study}/series/{series}/instances",
				"/studies/" + tStudy + "/series/" + tSeries + "/instances", tStudy}},
		{"GET", "/dicom-web" + inst, dicomwebRoute{kindWADO, tmplInst, inst, tStudy}},
		{"GET", "/dicom-web" + inst + "/metadata", dicomwebRoute{kindWADO,
			tmplInst + "/metadata", inst + "/metadata", tStudy}},
		{"GET", "/dicom-web" + inst + "/thumbnail", dicomwebRoute{kindWADO,
			tmplInst + "/thumbnail", inst + "/thumbnail", tStudy}},
		{"GET", "/dicom-web" + inst + "/frames/1,2,3", dicomwebRoute{kindWADO,
			tmplInst + "/frames/{frames}", inst + "/frames/1,2,3", tStudy}},
		{"GET", "/dicom-web" + inst + "/frames/1%2C2", dicomwebRoute{kindWADO,
			tmplInst + "/frames/{frames}", inst + "/frames/1,2", tStudy}},
		{"GET", "/dicom-web" + inst + "/frames/7/rendered", dicomwebRoute{kindWADO,
			tmplInst + "/frames/{frames}/rendered", inst + "/frames/7/rendered", tStudy}},
		{"GET", "/dicom-web" + inst + "/bulk/7fe00010", dicomwebRoute{kindWADO,
			tmplInst + "/bulk/{path}", inst + "/bulk/7fe00010", tStudy}},
		{"GET", "/dicom-web" + inst + "/bulk/00400275/0/00321064", dicomwebRoute{kindWADO,
			tmplInst + "/bulk/{path}", inst + "/bulk/00400275/0/00321064", tStudy}},
		{"GET", "/dicom-web" + inst + "/bulkdata/7FE00010", dicomwebRoute{kindWADO,
			tmplInst + "/bulkdata/{path}", inst + "/bulkdata/7FE00010", tStudy}},
		{"GET", "/wado", dicomwebRoute{kindWADOURI, "/wado", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			got, err := classifyPath(tt.method, tt.path)
			if err != nil {
				t.Fatalf("classifyPath(%s, %s) error = %v", tt.method, tt.path, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("classifyPath(%s, %s) mismatch (-want +got):\n%s",
					tt.method, tt.path, diff)
			}
		})
	}
}

// attackPaths are paths that must never reach the upstream: Orthanc's REST
// API in plain, encoded, dot-segment and double-slash forms, and malformed
// DICOMweb paths.
var attackPaths = []string{
	"/tools/execute-script",
	"/instances",
	"/system",
	"/app/explorer.html",
	"/",
	"",
	"/dicom-web",
	"/dicom-web/",
	"/dicom-web/servers",
	"/dicom-web/servers/x/get",
	"/dicom-web/../tools/execute-script",
	"/dicom-web/./studies",
	"/dicom-web/studies/..",
	"/dicom-web/studies/../../system",
	"/dicom-web/%2e%2e/tools/execute-script",
	"/dicom-web/%2E%2E/system",
	"/dicom-web/studies/%2e%2e%2f%2e%2e%2fsystem",
	"/dicom-web/studies%2f..%2f..%2fsystem",
	"/dicom-web/studies/1.2%2f..%2f..%2f..%2finstances",
	"/dicom-web/studies/1.2%5c..%5c..%5csystem",
	"/dicom-web//studies",
	"//dicom-web/studies",
	"/dicom-web/studies//1.2",
	"/dicom-web/studies/",
	"/dicom-web\\..\\system",
	"/dicom-web/studies\\1.2",
	"/dicom-web/studies;x=1",
	"/dicom-web/studies/1.2;/../../system",
	"/dicom-web/studies/1.2\x00",
	"/dicom-web/studies/1.2%00",
	"/dicom-web/studies/abc",
	"/dicom-web/studies/1..2",
	"/dicom-web/studies/.1",
	"/dicom-web/studies/1.",
	"/dicom-web/studies/" + strings.Repeat("1", 65),
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/0",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/1,,2",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/1%2c",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/frames",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/bulk",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/bulk/../../../../tools",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/bulk/zz",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/metadata/x",
	"/dicom-web/series/1.2",
	"/dicom-web/instances/1.2",
	"/dicom-web/studies/1.2/archive",
	"/dicom-web/STUDIES",
	"/wado/",
	"/wado/../system",
	"/WADO",
	"/dicom-web/studies/1.2/series/3.4/instances/5.6/bulk/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17",
}

func TestClassifyPathRejects(t *testing.T) {
	for _, p := range attackPaths {
		for _, m := range []string{"GET", "POST"} {
			t.Run(m+" "+p, func(t *testing.T) {
				if got, err := classifyPath(m, p); !errors.Is(err, ErrNotDICOMweb) {
					t.Errorf("classifyPath(%s, %q) = %+v, %v, want ErrNotDICOMweb",
						m, p, got, err)
				}
			})
		}
	}
}

func TestClassifyPathMethods(t *testing.T) {
	inst := "/dicom-web/studies/1.2/series/3.4/instances/5.6"
	tests := []struct {
		method, path string
		wantStatus   int
	}{
		{"POST", "/dicom-web/series", http.StatusMethodNotAllowed},
		{"POST", inst, http.StatusMethodNotAllowed},
		{"POST", "/wado", http.StatusMethodNotAllowed},
		{"DELETE", "/dicom-web/studies/1.2", http.StatusMethodNotAllowed},
		{"PUT", "/dicom-web/studies", http.StatusMethodNotAllowed},
		{"PATCH", inst + "/metadata", http.StatusMethodNotAllowed},
		{"OPTIONS", "/dicom-web/studies", http.StatusMethodNotAllowed},
		{"GET", inst, 0},
		{"HEAD", inst, 0},
		{"POST", "/dicom-web/studies/1.2", 0},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			_, err := classifyPath(tt.method, tt.path)
			status := 0
			if e, ok := errors.AsType[*Error](err); ok {
				status = e.Status
			} else if err != nil {
				t.Fatalf("classifyPath(%s, %s) = %v, want an *Error", tt.method, tt.path, err)
			}
			if status != tt.wantStatus {
				t.Errorf("classifyPath(%s, %s) status = %d, want %d",
					tt.method, tt.path, status, tt.wantStatus)
			}
		})
	}
}

// FuzzClassifyPath checks that every path the guard accepts is built only
// of safe characters, starts with the DICOMweb prefix, and that its
// canonical form is accepted again unchanged.
func FuzzClassifyPath(f *testing.F) {
	for _, p := range attackPaths {
		f.Add(p)
	}
	f.Add("/dicom-web/studies/1.2/series/3.4/instances/5.6/frames/1%2C2/rendered")
	f.Add("/dicom-web/studies/1.2/series/3.4/instances/5.6/bulk/7fe00010")
	f.Fuzz(func(t *testing.T, p string) {
		r, err := classifyPath("GET", p)
		if err != nil {
			return
		}
		if r.Kind == kindWADOURI {
			if p != "/wado" {
				t.Fatalf("classifyPath(%q) = WADO-URI, want only /wado", p)
			}
			return
		}
		if !strings.HasPrefix(p, "/dicom-web/") {
			t.Fatalf("classifyPath(%q) accepted a path outside /dicom-web/", p)
		}
		for _, bad := range []string{"..", "//", "%", "\\", ";", "\x00", "?", "#"} {
			if strings.Contains(r.Path, bad) {
				t.Fatalf("classifyPath(%q).Path = %q holds %q", p, r.Path, bad)
			}
		}
		for _, seg := range strings.Split(r.Path[1:], "/") {
			if seg == "" || seg == "." {
				t.Fatalf("classifyPath(%q).Path = %q has segment %q", p, r.Path, seg)
			}
		}
		again, err := classifyPath("GET", dicomwebPrefix+r.Path)
		if err != nil || again != r {
			t.Fatalf("classifyPath(canonical %q) = %+v, %v, want %+v", r.Path, again, err, r)
		}
	})
}
