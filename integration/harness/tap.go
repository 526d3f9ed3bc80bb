package harness

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
)

// Tap is a recording reverse proxy between the gateway and Orthanc: tests
// put it in the gateway's upstream URL and then read which requests reached
// the upstream, to show that a request did not, or that a client's header
// was not passed on. It forwards everything unchanged, the Host header
// included, so Orthanc's answers look as they would without it.
type Tap struct {
	// URL is the tap's root, standing for Orthanc's root, for example
	// "http://127.0.0.1:41236"; the gateway's upstream is URL + "/dicom-web".
	URL string

	mu       sync.Mutex
	requests []TapRequest
}

// TapRequest is one request that passed the tap.
type TapRequest struct {
	// Method is the request's method.
	Method string
	// RequestURI is the request target as it came on the request line,
	// not decoded or cleaned.
	RequestURI string
	// Header holds the request's headers.
	Header http.Header
}

// NewTap starts a tap in front of target (Orthanc's root URL) for the
// test's duration.
func NewTap(t testing.TB, target string) *Tap {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatalf("parsing tap target %q: %v", target, err)
	}
	tp := &Tap{}
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			pr.Out.Host = pr.In.Host
		},
		FlushInterval: -1,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tp.mu.Lock()
		tp.requests = append(tp.requests, TapRequest{
			Method:     r.Method,
			RequestURI: r.RequestURI,
			Header:     r.Header.Clone(),
		})
		tp.mu.Unlock()
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	tp.URL = srv.URL
	return tp
}

// Requests returns the requests that passed so far, oldest first.
func (tp *Tap) Requests() []TapRequest {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return slices.Clone(tp.requests)
}

// Reset forgets the requests recorded so far.
func (tp *Tap) Reset() {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	tp.requests = nil
}
