package browser

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/qcgate/qcgate/integration/harness"
)

// realData is the repository's copy of the real public SEG cases (see its
// MANIFEST.md for the facts used below).
const realData = "../../qc/testdata/real"

// The CT of highdicom-ct-binary-single-frame, whose StudyDescription is
// "e+1"; the liver case (a BINARY SEG of one segment over three CT slices,
// accepted); the GBM SEG whose sources are nowhere (rejected).
const (
	ctStudy            = "1.3.6.1.4.1.5962.1.2.1.20040119072730.12322"
	ctStudyDescription = "e+1"
	liverSOP           = "1.2.276.0.7230010.3.1.4.0.42154.1458337731.665796"
	liverStudy         = "1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1"
	gbmSOP             = "1.2.276.0.7230010.3.1.4.8323329.356949.1540933411.360229"
)

var (
	ctImage  = filepath.Join(realData, "highdicom-ct-binary-single-frame", "source", "ct_image.dcm")
	liverSEG = filepath.Join(realData, "dcmqi-ct-liver-binary", "liver.dcm")
	gbmSEG   = filepath.Join(realData, "orthanc-tcga-gbm-brats-3seg-source-missing",
		"DicomSeg.dcm")
	liverSources = []string{
		filepath.Join(realData, "dcmqi-ct-liver-binary", "source", "ct-3slice-01.dcm"),
		filepath.Join(realData, "dcmqi-ct-liver-binary", "source", "ct-3slice-02.dcm"),
		filepath.Join(realData, "dcmqi-ct-liver-binary", "source", "ct-3slice-03.dcm"),
	}
)

// need skips the test for a missing prerequisite, or fails it under CI.
func need(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// chromiumPath returns the browser to drive.
func chromiumPath(t *testing.T) string {
	t.Helper()
	name := os.Getenv("QCGATE_CHROMIUM")
	if name == "" {
		name = "chromium"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		need(t, "no %s to drive (apt-get install chromium): %v", name, err)
	}
	return p
}

// ohifDir returns OHIF's dist/ folder.
func ohifDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("QCGATE_OHIF_DIR")
	if dir == "" {
		dir = filepath.Join("..", "..", "third_party", "ohif", "dist")
	}
	abs, err := filepath.Abs(dir)
	if err == nil {
		_, err = os.Stat(filepath.Join(abs, "index.html"))
	}
	if err != nil {
		need(t, "no OHIF dist/ folder at %s (run scripts/fetch-ohif.sh): %v", dir, err)
	}
	return abs
}

// browser is a headless Chromium tab.
type browser struct {
	ctx context.Context
}

// newBrowser starts Chromium with a new empty profile for the test; it
// stops when the test ends, after saving a screenshot if the test failed.
func newBrowser(t *testing.T, exe string) *browser {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("starting %s: %v", exe, err)
	}
	b := &browser{ctx: ctx}
	t.Cleanup(func() {
		if t.Failed() {
			b.screenshot(t)
		}
		cancel()
		cancelAlloc()
	})
	return b
}

// screenshot saves the page as a PNG and logs where.
func (b *browser) screenshot(t *testing.T) {
	t.Helper()
	dir := os.Getenv("QCGATE_SCREENSHOT_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "qcgate-browser-"); err != nil {
			t.Logf("no folder for a screenshot: %v", err)
			return
		}
	}
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	if err != nil {
		t.Logf("taking a screenshot: %v", err)
		return
	}
	name := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+".png")
	if err := os.WriteFile(name, png, 0o644); err != nil {
		t.Logf("saving screenshot: %v", err)
		return
	}
	t.Logf("screenshot of the failed page: %s", name)
}

// pollText navigates to url and waits, up to timeout, until expr (a
// JavaScript expression) gives a non-empty string, which it returns.
func (b *browser) pollText(t *testing.T, url, expr string, timeout time.Duration) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if url != "" {
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			t.Fatalf("navigating to %s: %v", url, err)
		}
	}
	s, err := chromedp.Run(ctx, chromedp.Poll[string](expr,
		chromedp.WithPollingInterval(200*time.Millisecond)))
	if err != nil {
		t.Fatalf("waiting for %s on %s: %v", expr, url, err)
	}
	return s
}

// Subjects of the tokens the tests use: the SEGs' uploader, the peer
// reviewer and the senior QA who approve the liver SEG, three people as the
// review workflow's four-eyes rules want, and the user of the browser.
const (
	uploader = "annotator-1"
	reviewer = "reviewer-1"
	seniorQA = "senior-1"
	user     = "browser-1"
)

// env is the gateway, with OHIF and the review workflow, in front of an
// Orthanc holding the CT study, the liver case with its accepted SEG, and
// a report of the rejected GBM SEG.
type env struct {
	gw     *harness.Gateway
	people map[string]*harness.Client
	tokens map[string]string
}

// newEnv starts Orthanc and the gateway, with authentication and the
// review workflow on, and sends the test data through the gateway as the
// uploader.
func newEnv(t *testing.T, ohif string) *env {
	t.Helper()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	gw := harness.StartGateway(t, o, harness.GatewayOptions{Settings: map[string]string{
		"ohif_dir": ohif, "review_enabled": "true"}})
	e := &env{gw: gw, people: map[string]*harness.Client{}, tokens: map[string]string{}}
	for sub, roles := range map[string][]string{
		uploader: {"annotator"},
		reviewer: {"reviewer"},
		seniorQA: {"senior_qa"},
		user:     {"viewer", "annotator"},
	} {
		e.tokens[sub] = gw.Tokens.Token(t, sub, roles...)
		e.people[sub] = &harness.Client{BaseURL: gw.URL, Header: http.Header{
			"Authorization": {"Bearer " + e.tokens[sub]}}}
	}
	c := e.people[uploader]
	stow := func(want int, files ...string) {
		t.Helper()
		res := c.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FileParts(t,
			files...)...))
		if res.Status != want {
			t.Fatalf("STOW of %v = %d, want %d: %s", files, res.Status, want, res.Snippet())
		}
	}
	stow(http.StatusOK, ctImage)
	stow(http.StatusOK, liverSources...)
	stow(http.StatusOK, liverSEG)
	stow(http.StatusConflict, gbmSEG)
	return e
}

// report is the part of a QC report the tests read.
type report struct {
	Decision string `json:"decision"`
	Findings []struct {
		Severity string `json:"severity"`
	} `json:"findings"`
}

// expectedStatus returns the status words of a SEG from its report as the
// report API gives it: ok, "n warning(s)" or rejected.
func (e *env) expectedStatus(t *testing.T, sop string) string {
	t.Helper()
	res := e.people[uploader].Get(t, "/qc/v1/reports/"+sop, nil)
	res.RequireStatus(t, http.StatusOK)
	var r report
	if err := json.Unmarshal(res.Body, &r); err != nil {
		t.Fatalf("decoding report: %v", err)
	}
	n := 0
	for _, f := range r.Findings {
		if f.Severity == "warning" {
			n++
		}
	}
	switch {
	case r.Decision == "rejected":
		return "rejected"
	case r.Decision == "accepted":
		return "ok"
	case n == 1:
		return "1 warning"
	}
	return fmt.Sprintf("%d warnings", n)
}

func TestBrowser(t *testing.T) {
	exe := chromiumPath(t)
	ohif := ohifDir(t)
	e := newEnv(t, ohif)
	b := newBrowser(t, exe)
	base := e.gw.URL
	if got := e.expectedStatus(t, liverSOP); got != "ok" {
		t.Fatalf("QC status of the liver SEG's report = %q, want ok", got)
	}
	// The review opens after the STOW-RS answer; until it is approved
	// the SEG is in review.
	e.waitReview(t, liverSOP, "peer_review")
	const liverStatus = "in review"
	// OHIF sends no token of its own: the browser adds the user's to every
	// request, as a sign-in proxy in front of the gateway would.
	b.setHeader(t, "Authorization", "Bearer "+e.tokens[user])

	t.Run("study list shows the study description", func(t *testing.T) {
		// OHIF asks for StudyDescription with includefield=...%2C...,
		// which Orthanc 1.10 matches literally behind a plain proxy.
		got := b.pollText(t, base+"/", `[...document.querySelectorAll('td, div')]
			.map(e => e.textContent.trim()).find(s => s === `+jsString(ctStudyDescription)+`)
			|| ''`, 60*time.Second)
		if got != ctStudyDescription {
			t.Errorf("study list shows %q, want %q", got, ctStudyDescription)
		}
	})

	seriesLabel := func(t *testing.T) string {
		t.Helper()
		return b.pollText(t, base+"/viewer?StudyInstanceUIDs="+liverStudy,
			`[...document.querySelectorAll('[data-cy="series-description-label"]')]
			.map(e => e.textContent).find(s => s.startsWith('[QC ')) || ''`, 90*time.Second)
	}
	t.Run("series list shows the SEG's QC status", func(t *testing.T) {
		want := "[QC " + liverStatus + "]"
		got := seriesLabel(t)
		if !strings.HasPrefix(got, want) {
			t.Errorf("SEG series label = %q, want it to start with %q", got, want)
		}
		t.Logf("SEG series label: %q", got)
	})

	t.Run("dashboard lists accepted and rejected SEGs", func(t *testing.T) {
		b.signIn(t, base, e.tokens[user])
		statusOf := func(sop string) string {
			return `(document.querySelector('tr[data-sop="` + sop + `"] .badge') || {})` +
				`.textContent || ''`
		}
		got := b.pollText(t, base+"/qc/", statusOf(liverSOP), 20*time.Second)
		if got != liverStatus {
			t.Errorf("dashboard status of the liver SEG = %q, want %q", got, liverStatus)
		}
		got = b.pollText(t, "", statusOf(gbmSOP), 5*time.Second)
		if got != "rejected" {
			t.Errorf("dashboard status of the GBM SEG = %q, want rejected", got)
		}
		got = b.pollText(t, base+"/qc/seg/"+liverSOP,
			`document.querySelector('svg.chart') ?
			 document.querySelectorAll('svg.chart rect').length + ' bars' : ''`,
			20*time.Second)
		if got != "3 bars" {
			t.Errorf("liver SEG page chart = %q, want 3 bars (3 slices)", got)
		}
	})

	t.Run("SEG page draws the liver outline over the CT", func(t *testing.T) {
		// The liver SEG has no finding on a frame: its page shows the
		// middle of its three frames, loaded as a PNG the browser decodes.
		got := b.pollText(t, base+"/qc/seg/"+liverSOP, `(() => {
			const imgs = [...document.querySelectorAll('figure.picture a > img')];
			const i = imgs[0];
			return i && i.complete && i.naturalWidth ? imgs.length + ' ' + i.naturalWidth +
				'x' + i.naturalHeight + ' ' + i.closest('figure').id + ' ' +
				(i.alt.includes('Liver') ? 'alt' : 'no alt') : '';
		})()`, 30*time.Second)
		if want := "1 512x512 frame-2 alt"; got != want {
			t.Errorf("pictures on the liver SEG page = %q, want %q", got, want)
		}
		checkLiverPicture(t, e, 2)
	})

	t.Run("reviewer approves and the viewer shows it", func(t *testing.T) {
		// The peer reviewer signs in and approves on the dashboard's SEG
		// page; senior QA approves through the API (audit share 0: the
		// SEG is then approved).
		b.signIn(t, base, e.tokens[reviewer])
		b.pollText(t, base+"/qc/seg/"+liverSOP,
			`document.querySelector('button[value="approve"]') ? 'y' : ''`, 20*time.Second)
		ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
		defer cancel()
		err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.CSS("#comment"), "outline follows the liver"))
		if err != nil {
			t.Fatalf("writing the comment: %v", err)
		}
		if _, err := chromedp.RunResponse(ctx,
			chromedp.Click(chromedp.CSS(`button[value="approve"]`))); err != nil {
			t.Fatalf("approving on the dashboard: %v", err)
		}
		notice := b.pollText(t, "", `(document.querySelector('.notice[role="status"]') || {})
			.textContent || ''`, 10*time.Second)
		if notice != "Done: approve." {
			t.Fatalf("notice after approving = %q, want %q", notice, "Done: approve.")
		}
		e.waitReview(t, liverSOP, "senior_qa")

		res := e.people[seniorQA].Do(t, http.MethodPost, "/qc/v1/reviews/"+liverSOP,
			strings.NewReader(`{"action":"approve","comment":"agreed"}`),
			http.Header{"Content-Type": {"application/json"}})
		res.RequireStatus(t, http.StatusOK)
		e.waitReview(t, liverSOP, "approved")

		got := seriesLabel(t)
		if want := "[QC approved]"; !strings.HasPrefix(got, want) {
			t.Errorf("SEG series label after approval = %q, want it to start with %q", got,
				want)
		}
		t.Logf("SEG series label: %q", got)
	})

	t.Run("error handler shows the gateway's reason", func(t *testing.T) {
		// The handler OHIF 3.13 calls for a failed DICOMweb request (its
		// dicomweb-client errorInterceptor is app-config's
		// httpErrorHandler), given the answer of a real rejected STOW-RS.
		seg, err := os.ReadFile(gbmSEG)
		if err != nil {
			t.Fatalf("reading SEG: %v", err)
		}
		b.pollText(t, base+"/", `window.config && window.config.httpErrorHandler ? 'y' : ''`,
			30*time.Second)
		script := `(async () => {
			const seg = Uint8Array.from(atob(` + jsString(base64.StdEncoding.EncodeToString(seg)) +
			`), c => c.charCodeAt(0));
			const head = new TextEncoder().encode('--b1\r\nContent-Type: application/dicom\r\n\r\n');
			const tail = new TextEncoder().encode('\r\n--b1--\r\n');
			const body = new Uint8Array(head.length + seg.length + tail.length);
			body.set(head); body.set(seg, head.length); body.set(tail, head.length + seg.length);
			const xhr = new XMLHttpRequest();
			await new Promise(done => {
				xhr.onloadend = done;
				xhr.open('POST', '/dicom-web/studies');
				xhr.setRequestHeader('Content-Type',
					'multipart/related; type="application/dicom"; boundary=b1');
				xhr.send(body);
			});
			const error = new Error('request failed');
			error.request = xhr; error.response = xhr.response; error.status = xhr.status;
			window.config.httpErrorHandler(error);
			return String(xhr.status);
		})()`
		ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
		defer cancel()
		status, err := chromedp.Run(ctx, chromedp.Evaluate[string](script,
			func(p *runtime.EvaluateParams) { p.AwaitPromise = new(true) }))
		if err != nil || status != "409" {
			t.Fatalf("STOW from the page = %q, %v; want 409", status, err)
		}
		got := b.pollText(t, "", `(document.querySelector('#qcgate-error[role="alert"]') || {})
			.textContent || ''`, 5*time.Second)
		if !strings.Contains(got, "(409)") || !strings.Contains(got, "/qc/v1/reports/"+gbmSOP) {
			t.Errorf("alert = %q, want the 409 and the report URL from the Warning header", got)
		}
	})
}

// jsString returns s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
