package gateway

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/qcgate/qcgate/qc"
)

// projectProfiles is the folder of the repository's example profiles; the
// liver and spleen profile serves the project "abdomen".
const projectProfiles = "../docker/profiles"

func TestProjectRoutes(t *testing.T) {
	tests := []struct {
		name       string
		path       string
		wantStatus int
		// wantUpstream is the upstream path, "" for no upstream request.
		wantUpstream string
	}{
		{"project QIDO", "/projects/abdomen/dicom-web/studies", 200, "/dicom-web/studies"},
		{"project by profile name", "/projects/abdomen-ct-liver-spleen/dicom-web/series", 200,
			"/dicom-web/series"},
		{"project WADO-URI", "/projects/abdomen/wado?requestType=WADO", 200, "/wado"},
		{"unknown project", "/projects/thorax/dicom-web/studies", 404, ""},
		{"malformed project", "/projects/%2e%2e/dicom-web/studies", 404, ""},
		{"dot project", "/projects/../dicom-web/studies", 404, ""},
		{"no project", "/projects//dicom-web/studies", 404, ""},
		{"project without a service", "/projects/abdomen", 404, ""},
		{"project escaping", "/projects/abdomen/dicom-web/../../../tools/execute-script", 404,
			""},
		{"project encoded escape", "/projects/abdomen/dicom-web/%2e%2e/system", 404, ""},
		{"project twice", "/projects/abdomen/projects/abdomen/dicom-web/studies", 404, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), func(c *Config) {
				c.ProfilesDir = projectProfiles
			})
			res, b := g.do(t, http.MethodGet, tt.path, nil, nil)
			if res.StatusCode != tt.wantStatus {
				t.Errorf("GET %s = %d, want %d; %s", tt.path, res.StatusCode, tt.wantStatus, b)
			}
			reqs := up.requests()
			switch {
			case tt.wantUpstream == "" && len(reqs) != 0:
				t.Errorf("GET %s reached the upstream at %s", tt.path, reqs[0].Path)
			case tt.wantUpstream != "" && (len(reqs) != 1 || reqs[0].Path != tt.wantUpstream):
				t.Errorf("GET %s upstream requests = %+v, want one to %s", tt.path, reqs,
					tt.wantUpstream)
			}
		})
	}
}

func TestProjectProfileSelected(t *testing.T) {
	tests := []struct {
		name        string
		path        string
		wantProfile string
	}{
		{"plain DICOMweb", "/dicom-web/studies", qc.DefaultProfile().Name},
		{"abdomen project", "/projects/abdomen/dicom-web/studies", "abdomen-ct-liver-spleen"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), func(c *Config) {
				c.ProfilesDir = projectProfiles
			})
			body := multipartBody(dicomPart(t, liverCTFile1), dicomPart(t, liverCTFile2),
				dicomPart(t, liverCTFile3), dicomPart(t, liverSEGFile))
			res, b := g.stow(t, tt.path, stowContentType, body, nil)
			if res.StatusCode >= 500 {
				t.Fatalf("STOW to %s = %d; %.300s", tt.path, res.StatusCode, b)
			}
			_, b = g.do(t, http.MethodGet, "/qc/v1/reports/"+liverSEGSOP, nil, nil)
			var rep struct {
				Profile struct {
					Name string `json:"name"`
				} `json:"profile"`
			}
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatalf("report JSON: %v; %s", err, b)
			}
			if rep.Profile.Name != tt.wantProfile {
				t.Errorf("STOW to %s: report profile = %q, want %q", tt.path,
					rep.Profile.Name, tt.wantProfile)
			}
		})
	}
}

func TestProfilesConfigErrors(t *testing.T) {
	up := newFakeOrthanc(t)
	cfg := DefaultConfig()
	cfg.Upstream = up.dicomWebURL()
	cfg.Store = t.TempDir() + "/r.db"
	cfg.Auth.Disabled = true
	cfg.ProfilesDir = projectProfiles
	cfg.DefaultProfile = "no-such-profile"
	if _, err := New(Options{Config: cfg}); err == nil {
		t.Errorf("New with an unknown default profile = nil, want an error")
	}
}
