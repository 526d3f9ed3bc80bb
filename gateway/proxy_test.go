package gateway

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// rawRequest sends a request line as written, without the client's path
// cleaning, and returns the status.
func rawRequest(t *testing.T, addr, method, target string) int {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: gw.test\r\nContent-Length: 0\r\n"+
		"Connection: close\r\n\r\n", method, target)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("reading answer to %s %q: %v", method, target, err)
	}
	res.Body.Close()
	return res.StatusCode
}

func TestGuardNeverReachesUpstream(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	addr := strings.TrimPrefix(g.ts.URL, "http://")

	for _, p := range attackPaths {
		if p == "" || strings.ContainsAny(p, "\x00 ") {
			continue // not a request target net/http would read
		}
		for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
			t.Run(m+" "+p, func(t *testing.T) {
				got := rawRequest(t, addr, m, p)
				if got != http.StatusNotFound && got != http.StatusBadRequest {
					t.Errorf("%s %q = %d, want 404 (or net/http's 400)", m, p, got)
				}
			})
		}
	}
	if reqs := up.requests(); len(reqs) != 0 {
		t.Errorf("upstream received %d requests, want none; first: %s %s",
			len(reqs), reqs[0].Method, reqs[0].Path)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	res, _ := g.do(t, http.MethodDelete, "/dicom-web/studies/1.2.3", nil, nil)
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("DELETE study = %d, want 405", res.StatusCode)
	}
	if got := res.Header.Get("Allow"); got != "GET, HEAD, POST" {
		t.Errorf("Allow = %q, want GET, HEAD, POST", got)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream received %d requests, want none", n)
	}
}

func TestProxyRequestHeaders(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	res, _ := g.do(t, http.MethodGet,
		"/dicom-web/studies?includefield=00081030%2C00080060&PatientName=Doe%5EJohn",
		http.Header{
			"Authorization":   {"Bearer client-token-123"},
			"Cookie":          {"session=abc"},
			"Expect":          {"100-continue"},
			"Forwarded":       {"host=evil.example;proto=https"},
			"X-Forwarded-For": {"10.9.9.9"},
			"Accept":          {"application/dicom+json"},
		}, nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("QIDO = %d, want 200", res.StatusCode)
	}
	reqs := up.requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream received %d requests, want 1", len(reqs))
	}
	got := reqs[0]

	wantAuth := "Basic " + base64.StdEncoding.EncodeToString(
		[]byte(testUser+":"+testPassword))
	gwHost := strings.TrimPrefix(g.ts.URL, "http://")
	checks := []struct{ name, got, want string }{
		{"path", got.Path, "/dicom-web/studies"},
		{"query", got.RawQuery,
			"includefield=00081030&includefield=00080060&PatientName=Doe^John"},
		{"Authorization", got.Header.Get("Authorization"), wantAuth},
		{"Cookie", got.Header.Get("Cookie"), ""},
		{"Expect", got.Header.Get("Expect"), ""},
		{"Forwarded", got.Header.Get("Forwarded"), "host=" + gwHost + ";proto=http"},
		{"X-Forwarded-For", got.Header.Get("X-Forwarded-For"), ""},
		{"Accept", got.Header.Get("Accept"), "application/dicom+json"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("upstream %s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

func TestProxyRoutesToUpstreamPaths(t *testing.T) {
	up := newFakeOrthanc(t)
	// An upstream root with another path than the gateway's /dicom-web.
	up.hook = func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }
	g := newTestGateway(t, up.URL+"/pacs/rs", nil)
	inst := "/studies/1.2/series/3.4/instances/5.6"
	tests := []struct{ path, wantPath, wantQuery string }{
		{"/dicom-web" + inst + "/frames/1%2C2", "/pacs/rs" + inst + "/frames/1,2", ""},
		{"/dicom-web" + inst + "/rendered?quality=90", "/pacs/rs" + inst + "/rendered",
			"quality=90"},
		{"/wado?requestType=WADO&objectUID=5.6", "/wado", "requestType=WADO&objectUID=5.6"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			before := len(up.requests())
			res, _ := g.do(t, http.MethodGet, tt.path, nil, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET %s = %d, want 200", tt.path, res.StatusCode)
			}
			got := up.requests()[before]
			if got.Path != tt.wantPath || got.RawQuery != tt.wantQuery {
				t.Errorf("upstream got %s?%s, want %s?%s", got.Path, got.RawQuery,
					tt.wantPath, tt.wantQuery)
			}
		})
	}
}

func TestProxyRewritesURLs(t *testing.T) {
	up := newFakeOrthanc(t)
	g := newTestGateway(t, up.dicomWebURL(), nil)
	gwHost := strings.TrimPrefix(g.ts.URL, "http://")

	// The upstream writes its own root, as a DICOMweb server ignoring
	// Forwarded does; the JSON is longer than one read of the rewriter.
	inst := "/studies/1.2/series/3.4/instances/5.6"
	var body strings.Builder
	body.WriteString("[")
	for i := range 2000 {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"00081190":{"vr":"UR","Value":["%s%s/%d"]}}`,
			up.dicomWebURL(), inst, i)
	}
	body.WriteString("]")
	plain := body.String()
	want := strings.ReplaceAll(plain, up.dicomWebURL(), "http://"+gwHost+"/dicom-web")

	tests := []struct {
		name, ctype string
		gzip        bool
		want        string
	}{
		{"json", "application/dicom+json", false, want},
		{"gzip json", "application/dicom+json", true, want},
		{"multipart xml", `multipart/related; type="application/dicom+xml"`, false, want},
		{"octet-stream untouched", "application/octet-stream", false, plain},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up.hook = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.ctype)
				if !tt.gzip {
					w.Header().Set("Content-Length", fmt.Sprint(len(plain)))
					io.WriteString(w, plain)
					return
				}
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				io.WriteString(zw, plain)
				zw.Close()
			}
			hdr := http.Header{}
			if tt.gzip {
				hdr.Set("Accept-Encoding", "gzip")
			}
			res, b := g.do(t, http.MethodGet, "/dicom-web"+inst+"/metadata", hdr, nil)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("GET metadata = %d, want 200", res.StatusCode)
			}
			if string(b) != tt.want {
				t.Errorf("answer differs from the rewritten upstream answer; got %d bytes, "+
					"want %d; start: %.200s", len(b), len(tt.want), b)
			}
			if enc := res.Header.Get("Content-Encoding"); enc != "" {
				t.Errorf("Content-Encoding = %q, want none", enc)
			}
		})
	}
}

func TestReplaceReaderBoundaries(t *testing.T) {
	pairs := []replacement{{old: []byte("http://up:8042/dicom-web"),
		new: []byte("https://gw/dicom-web")}, {old: []byte("abc"), new: []byte("X")}}
	in := strings.Repeat("x http://up:8042/dicom-web/studies abcab abc", 50)
	want := strings.ReplaceAll(strings.ReplaceAll(in, "http://up:8042/dicom-web",
		"https://gw/dicom-web"), "abc", "X")
	for _, chunk := range []int{1, 2, 3, 7, 23, 24, 25, 1000} {
		t.Run(fmt.Sprint(chunk), func(t *testing.T) {
			src := io.NopCloser(&chunkReader{data: []byte(in), n: chunk})
			got, err := io.ReadAll(newReplaceReader(src, pairs))
			if err != nil || string(got) != want {
				t.Errorf("replaced in chunks of %d = %q, %v, want %q", chunk, got, err, want)
			}
		})
	}
}

// chunkReader returns at most n bytes per read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[n:]
	return n, nil
}

func TestProxyStreamsAnswers(t *testing.T) {
	up := newFakeOrthanc(t)
	release := make(chan struct{})
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", `multipart/related; type="application/octet-stream"`)
		io.WriteString(w, "first frame")
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, " second frame")
	}
	g := newTestGateway(t, up.dicomWebURL(), nil)

	res, err := g.ts.Client().Get(g.ts.URL + "/dicom-web/studies/1.2/series/3.4/instances/" +
		"5.6/frames/1,2")
	if err != nil {
		t.Fatalf("GET frames: %v", err)
	}
	defer res.Body.Close()
	// The first frame must arrive while the upstream still holds the
	// second: the gateway does not buffer the answer.
	buf := make([]byte, len("first frame"))
	done := make(chan error, 1)
	go func() {
		_, err := io.ReadFull(res.Body, buf)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil || string(buf) != "first frame" {
			t.Fatalf("first read = %q, %v", buf, err)
		}
	case <-time.After(3 * time.Second):
		close(release)
		t.Fatalf("first frame not received before the upstream finished")
	}
	close(release)
	rest, _ := io.ReadAll(res.Body)
	if string(rest) != " second frame" {
		t.Errorf("rest = %q, want %q", rest, " second frame")
	}
}

func TestProxyStreamsUploadOfRetrieval(t *testing.T) {
	// A large answer passes through without the gateway holding it: the
	// bytes arrive unchanged.
	up := newFakeOrthanc(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	up.hook = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/dicom")
		w.Write(big)
	}
	g := newTestGateway(t, up.dicomWebURL(), nil)
	res, b := g.do(t, http.MethodGet, "/dicom-web/studies/1.2/series/3.4/instances/5.6",
		nil, nil)
	if res.StatusCode != http.StatusOK || !bytes.Equal(b, big) {
		t.Errorf("GET instance = %d with %d bytes, want 200 with the %d upstream bytes",
			res.StatusCode, len(b), len(big))
	}
}

func TestProxyUpstreamFailures(t *testing.T) {
	// A port where nothing listens.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	closedURL := "http://" + ln.Addr().String() + "/dicom-web"
	ln.Close()

	hanging := newFakeOrthanc(t)
	hanging.hook = func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}

	tests := []struct {
		name     string
		upstream string
		want     int
	}{
		{"unreachable", closedURL, http.StatusBadGateway},
		{"timeout", hanging.dicomWebURL(), http.StatusGatewayTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newTestGateway(t, tt.upstream, func(c *Config) {
				c.UpstreamTimeout = 300 * time.Millisecond
			})
			start := time.Now()
			res, b := g.do(t, http.MethodGet, "/dicom-web/studies", nil, nil)
			if res.StatusCode != tt.want {
				t.Errorf("QIDO = %d, want %d; body %s", res.StatusCode, tt.want, b)
			}
			if took := time.Since(start); took > 3*time.Second {
				t.Errorf("QIDO took %v with a 300ms upstream timeout", took)
			}
			if strings.Contains(string(b), "127.0.0.1") {
				t.Errorf("error body %s shows upstream internals", b)
			}
			recs := g.log.records(t, "request")
			if len(recs) != 1 || recs[0]["status"] != float64(tt.want) {
				t.Errorf("access records = %v, want one with status %d", recs, tt.want)
			}
		})
	}
}
