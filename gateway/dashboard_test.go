package gateway

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
)

// rowPattern finds the SOP Instance UID and status badge of each list row.
var rowPattern = regexp.MustCompile(`(?s)<tr data-sop="([0-9.]+)">.*?<span class="badge [a-z_]*">` +
	`([^<]*)</span>`)

// listedStatus returns the status of each SEG of a dashboard list page.
func listedStatus(page []byte) map[string]string {
	out := map[string]string{}
	for _, m := range rowPattern.FindAllSubmatch(page, -1) {
		out[string(m[1])] = string(m[2])
	}
	return out
}

func TestDashboardList(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	putReport(t, g, "1.1", "9.1", "8.1", qc.DecisionAccepted)
	putReport(t, g, "1.2", "9.1", "8.2", qc.DecisionRejected)
	putReport(t, g, "1.3", "9.2", "8.3", qc.DecisionAccepted)
	putReport(t, g, "1.3", "9.2", "8.3", qc.DecisionRejected)

	tests := []struct {
		query string
		want  map[string]string
	}{
		{"", map[string]string{"1.1": "ok", "1.2": "rejected", "1.3": "rejected"}},
		{"?decision=rejected", map[string]string{"1.2": "rejected", "1.3": "rejected"}},
		{"?study=9.1", map[string]string{"1.1": "ok", "1.2": "rejected"}},
		{"?study=9.1&decision=accepted", map[string]string{"1.1": "ok"}},
		{"?study=7.7", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			res, b := g.do(t, http.MethodGet, "/qc/"+tt.query, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET /qc/%s = %d, want 200", tt.query, res.StatusCode)
			}
			if diff := cmp.Diff(tt.want, listedStatus(b)); diff != "" {
				t.Errorf("listed SEGs mismatch (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("bad decision", func(t *testing.T) {
		res, _ := g.do(t, http.MethodGet, "/qc/?decision=maybe", nil, nil)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /qc/?decision=maybe = %d, want 400", res.StatusCode)
		}
	})
	t.Run("SEG page", func(t *testing.T) {
		res, b := g.do(t, http.MethodGet, "/qc/seg/1.2", nil, nil)
		if res.StatusCode != http.StatusOK ||
			!strings.Contains(string(b), "QC decision <strong>rejected") {
			t.Errorf("GET /qc/seg/1.2 = %d, want 200 with the decision\n%s", res.StatusCode, b)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("Content-Security-Policy = %q, want default-src 'none'", csp)
		}
		res, _ = g.do(t, http.MethodGet, "/qc/seg/4.4", nil, nil)
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("GET /qc/seg/4.4 = %d, want 404", res.StatusCode)
		}
	})
}

func TestDashboardSession(t *testing.T) {
	f := newAuthFixture(t)
	up := newFakeOrthanc(t)
	g := newAuthGateway(t, up, f, nil)
	putReport(t, g, "1.1", "9.1", "8.1", qc.DecisionAccepted)
	viewer := f.token(t, "val", "viewer")
	form := func(tok string) *strings.Reader {
		return strings.NewReader(url.Values{"token": {tok}}.Encode())
	}
	formHeader := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}

	res, b := g.do(t, http.MethodGet, "/qc/", nil, nil)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(string(b), `name="token"`) {
		t.Fatalf("GET /qc/ without session = %d, want 401 with the login form", res.StatusCode)
	}
	res, _ = g.do(t, http.MethodPost, "/qc/login", formHeader, form(viewer+"x"))
	if res.StatusCode != http.StatusUnauthorized || len(res.Cookies()) != 0 {
		t.Errorf("login with a bad token = %d with %d cookies, want 401 and none",
			res.StatusCode, len(res.Cookies()))
	}
	cross := http.Header{"Content-Type": formHeader["Content-Type"],
		"Sec-Fetch-Site": {"cross-site"}}
	res, _ = g.do(t, http.MethodPost, "/qc/login", cross, form(viewer))
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site login = %d, want 403", res.StatusCode)
	}

	// The test client does not follow the redirect: it has no cookie jar.
	g.ts.Client().CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	res, _ = g.do(t, http.MethodPost, "/qc/login", formHeader, form(viewer))
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) != 1 {
		t.Fatalf("login = %d with %d cookies, want 303 and one", res.StatusCode,
			len(res.Cookies()))
	}
	ck := res.Cookies()[0]
	if ck.Name != sessionCookie || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode ||
		ck.Path != "/qc/" || ck.Value != viewer {
		t.Errorf("session cookie = %+v, want HttpOnly, SameSite=Strict, Path=/qc/", ck)
	}
	session := http.Header{"Cookie": {ck.Name + "=" + ck.Value}}
	res, b = g.do(t, http.MethodGet, "/qc/", session, nil)
	if res.StatusCode != http.StatusOK || listedStatus(b)["1.1"] != "ok" {
		t.Errorf("GET /qc/ with session = %d, want 200 listing 1.1 as ok", res.StatusCode)
	}
	if strings.Contains(string(b), "Annotator") {
		t.Errorf("a viewer's list shows the Annotator column")
	}
	// The cookie is for the dashboard only: the API and DICOMweb ignore it.
	for _, p := range []string{"/qc/v1/reports/1.1", "/dicom-web/studies"} {
		res, _ = g.do(t, http.MethodGet, p, session, nil)
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with the session cookie = %d, want 401", p, res.StatusCode)
		}
	}
	res, _ = g.do(t, http.MethodGet, "/qc/", http.Header{"Cookie": {sessionCookie + "=" +
		f.token(t, "ann", "annotator")[:20]}}, nil)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /qc/ with a broken session = %d, want 401", res.StatusCode)
	}
	reviewer := f.token(t, "rita", "reviewer")
	_, b = g.do(t, http.MethodGet, "/qc/", http.Header{"Cookie": {sessionCookie + "=" +
		reviewer}}, nil)
	if !strings.Contains(string(b), "Annotator") {
		t.Errorf("a reviewer's list has no Annotator column")
	}
}

func TestCountSlices(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "qc", "testdata", "real", "dcmqi-ct-liver-binary",
		"liver.dcm"))
	if err != nil {
		t.Fatalf("reading test SEG: %v", err)
	}
	seg, err := qc.ParseSegmentation(b)
	if err != nil {
		t.Fatalf("ParseSegmentation = %v", err)
	}
	sc, err := countSlices(seg)
	if err != nil {
		t.Fatalf("countSlices = %v", err)
	}
	// MANIFEST.md: frames at z -128.69, -127.69, -126.69 with 36233, 35645
	// and 35220 foreground pixels; axial slices (normal +z).
	if diff := cmp.Diff(map[uint16][]int{1: {36233, 35645, 35220}}, sc.Counts); diff != "" {
		t.Errorf("counts mismatch (-want +got):\n%s", diff)
	}
	if len(sc.Positions) != 3 || sc.Positions[0] > -128.6 || sc.Positions[0] < -128.8 {
		t.Errorf("positions = %v, want 3 from -128.69", sc.Positions)
	}
	if got := framesText(sc.Frames[1]); got != "1-3" {
		t.Errorf("framesText = %q, want 1-3", got)
	}
	c := newChart(sc.Positions, sc.Counts[1])
	if len(c.Bars) != 3 || c.Max != 36233 || c.Bars[0].H != 38 {
		t.Errorf("chart = %+v, want 3 bars, max 36233, the first full height", c)
	}
}
