package gateway

import (
	"net/http"
	"strings"
	"testing"
)

func TestQIDOQueryCheck(t *testing.T) {
	tests := []struct {
		name, target string
		want         int
		// wantMsg is in the error body of a refused query.
		wantMsg string
	}{
		{"negative limit", "/dicom-web/studies?limit=-1", 400, `\"limit\": must be`},
		{"negative offset", "/dicom-web/studies/1.2.3/series?offset=-5", 400,
			`\"offset\": must be`},
		{"limit past 32 bits", "/dicom-web/instances?limit=99999999999999999999", 400,
			`\"limit\"`},
		{"malformed escape", "/dicom-web/studies?%ZZ=1", 400, "malformed percent-encoding"},
		{"project search", "/projects/abdomen/dicom-web/series?offset=x", 400, `\"offset\"`},
		{"good search", "/dicom-web/studies?limit=101&offset=0&includefield=00081030", 200,
			""},
		// Only searches are checked: a retrieval's query is the upstream's.
		{"retrieval", "/dicom-web/studies/1.2.3/series/1.2.4/metadata?%ZZ=1", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := newFakeOrthanc(t)
			g := newTestGateway(t, up.dicomWebURL(), func(c *Config) {
				c.ProfilesDir = projectProfiles
			})
			res, b := g.do(t, http.MethodGet, tt.target, nil, nil)
			reached := len(up.requests()) > 0
			if tt.want == http.StatusBadRequest {
				if res.StatusCode != tt.want || !strings.Contains(string(b), tt.wantMsg) {
					t.Errorf("GET %s = %d %s, want 400 naming %s", tt.target, res.StatusCode,
						b, tt.wantMsg)
				}
				if reached {
					t.Errorf("GET %s reached the upstream: %v", tt.target, up.requests())
				}
				return
			}
			if tt.want != 0 && res.StatusCode != tt.want {
				t.Errorf("GET %s = %d %s, want %d", tt.target, res.StatusCode, b, tt.want)
			}
			if !reached {
				t.Errorf("GET %s did not reach the upstream", tt.target)
			}
		})
	}
}
