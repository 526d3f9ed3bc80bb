package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/qcgate/qcgate/qc"
)

// setHeader makes the browser send header name with value on every
// request.
func (b *browser) setHeader(t *testing.T, name, value string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	set := func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		if _, err := cdp.Call(ctx, tg, network.Enable, network.EnableParams{}); err != nil {
			return chromedp.Void{}, err
		}
		_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders,
			network.SetExtraHTTPHeadersParams{Headers: network.Headers{name: value}})
		return chromedp.Void{}, err
	}
	if err := chromedp.Do(ctx, set); err != nil {
		t.Fatalf("setting the %s header: %v", name, err)
	}
}

// signIn signs in to the dashboard with token through its login form and
// waits for the SEG list.
func (b *browser) signIn(t *testing.T, base, token string) {
	t.Helper()
	b.pollText(t, base+"/qc/login", `document.querySelector('#token') ? 'y' : ''`,
		10*time.Second)
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS("#token"), token)); err != nil {
		t.Fatalf("filling in the token: %v", err)
	}
	// RunResponse waits for the page the form's answer leads to.
	res, err := chromedp.RunResponse(ctx,
		chromedp.Click(chromedp.CSS(`form.login button[type="submit"]`)))
	if err != nil || res.Status != http.StatusOK {
		t.Fatalf("signing in: %v, %+v", err, res)
	}
	got := b.pollText(t, "", `location.pathname === '/qc/' &&
		document.querySelector('table') ? 'y' : ''`, 10*time.Second)
	if got != "y" {
		t.Fatalf("after signing in the browser is not on the SEG list")
	}
}

// waitReview waits up to 10 s for the review of sop to reach state.
func (e *env) waitReview(t *testing.T, sop, state string) {
	t.Helper()
	last := ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		res := e.people[reviewer].Get(t, "/qc/v1/reviews/"+sop, nil)
		if res.Status == http.StatusOK {
			var body struct {
				Review struct {
					State string `json:"state"`
				} `json:"review"`
			}
			if err := json.Unmarshal(res.Body, &body); err != nil {
				t.Fatalf("decoding review: %v", err)
			}
			if last = body.Review.State; last == state {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("review of %s is %q after 10 s, want %q", sop, last, state)
}

// checkLiverPicture fetches the picture of the liver SEG's frame (1-based)
// as the dashboard's user and checks it against the SEG: the outline
// pixels, worked out here from the decoded mask, are the liver's colour
// and no others are; the rest is grey in the abdomen window of the source
// (Window Center 40, Width 400): air black, liver mid-grey.
func checkLiverPicture(t *testing.T, e *env, frame int) {
	t.Helper()
	path := "/qc/seg/" + liverSOP + "/frames/" + strconv.Itoa(frame) + ".png"
	res := e.people[user].Get(t, path, http.Header{
		"Cookie": {"qcgate_session=" + e.tokens[user]}})
	res.RequireStatus(t, http.StatusOK)
	if ct, cc := res.Header.Get("Content-Type"), res.Header.Get("Cache-Control"); ct !=
		"image/png" || !strings.HasPrefix(cc, "private") {
		t.Errorf("GET %s: Content-Type %q, Cache-Control %q; want image/png, private", path,
			ct, cc)
	}
	img, err := png.Decode(bytes.NewReader(res.Body))
	if err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}

	b, err := os.ReadFile(liverSEG)
	if err != nil {
		t.Fatalf("reading SEG: %v", err)
	}
	seg, err := qc.ParseSegmentation(b)
	if err != nil {
		t.Fatalf("parsing SEG: %v", err)
	}
	m := qc.NewMask(seg.Rows, seg.Columns)
	if err := seg.FrameMask(frame-1, 1, m); err != nil {
		t.Fatalf("decoding frame %d: %v", frame, err)
	}

	// The dcmqi liver colour 41661\41167\40792 is 3D Slicer's liver,
	// sRGB 221, 130, 101.
	liver := color.RGBA{221, 130, 101, 255}
	edges, coloured, wrong, inside := 0, 0, 0, 0
	insideGrey := 0.0
	for r := range seg.Rows {
		for c := range seg.Columns {
			px := color.RGBAModel.Convert(img.At(c, r)).(color.RGBA)
			set := m.At(r, c)
			edge := set && (!m.At(r-1, c) || !m.At(r+1, c) || !m.At(r, c-1) || !m.At(r, c+1))
			switch {
			case edge:
				edges++
				if px == liver {
					coloured++
				}
			case px.R != px.G || px.G != px.B:
				wrong++
			case set:
				inside++
				insideGrey += float64(px.R)
			}
		}
	}
	if edges == 0 || coloured != edges || wrong != 0 {
		t.Errorf("picture of frame %d: %d of %d outline pixels in the liver colour, %d "+
			"other pixels not grey; want all and none", frame, coloured, edges, wrong)
	}
	// Liver is about 40 to 80 HU: grey 128 to 153 in the window; allow
	// for vessels and partial volume.
	if mean := insideGrey / float64(max(inside, 1)); mean < 110 || mean > 170 {
		t.Errorf("mean grey inside the liver = %.1f over %d pixels, want 110 to 170", mean,
			inside)
	}
	if px := color.RGBAModel.Convert(img.At(0, 0)).(color.RGBA); px !=
		(color.RGBA{0, 0, 0, 255}) {
		t.Errorf("corner pixel (air) = %v, want black", px)
	}
	t.Logf("frame %d: %d outline pixels, %d inside, mean inside grey %.1f", frame, edges,
		inside, insideGrey/float64(max(inside, 1)))
}
