package harness

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"testing"
	"time"
)

// requestTimeout bounds every request a [Client] makes. STOW-RS of hundreds
// of megabytes into Orthanc on a slow disk is the longest.
const requestTimeout = 5 * time.Minute

// MediaTypeDICOMJSON is the media type of DICOM JSON (PS3.18 8.7.3).
const MediaTypeDICOMJSON = "application/dicom+json"

// Client sends HTTP requests to a gateway or an Orthanc server and reads
// whole answers. Its methods fail the test when the request cannot be made
// at all; statuses are the caller's to check.
type Client struct {
	// BaseURL is the server's root without a trailing slash, for example
	// "http://127.0.0.1:8080". Paths given to the methods are appended as
	// they are, so they may carry encoded or dot segments.
	BaseURL string
	// User and Password, when User is not empty, are sent as HTTP basic
	// authentication.
	User     string
	Password string
	// Header holds headers sent with every request, for example an
	// Authorization header. Nil sends none.
	Header http.Header
	// HTTP is the client used. Nil means one with a 5 minute timeout that
	// asks for and decodes gzip like most clients.
	HTTP *http.Client
}

// Response is an answer read whole.
type Response struct {
	// Status is the HTTP status code.
	Status int
	// Header holds the answer's headers.
	Header http.Header
	// Body is the answer's body, decompressed when it came gzipped in
	// answer to the client's own Accept-Encoding.
	Body []byte
	// Duration is the time from sending the request to reading the whole
	// body.
	Duration time.Duration
}

// Do sends a request with the client's credentials and headers plus h
// (which may be nil) and reads the answer.
func (c *Client) Do(t testing.TB, method, path string, body io.Reader, h http.Header) *Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, c.BaseURL+path, body)
	if err != nil {
		t.Fatalf("building %s %s: %v", method, path, err)
	}
	return c.send(t, req, h)
}

// Get sends a GET request.
func (c *Client) Get(t testing.TB, path string, header http.Header) *Response {
	t.Helper()
	return c.Do(t, http.MethodGet, path, nil, header)
}

// STOW posts a STOW-RS body to path, for example "/dicom-web/studies",
// asking for a DICOM JSON answer. An empty body.ContentType sends no
// Content-Type header.
func (c *Client) STOW(t testing.TB, path string, body Body) *Response {
	t.Helper()
	h := http.Header{"Accept": {MediaTypeDICOMJSON}}
	if body.ContentType != "" {
		h.Set("Content-Type", body.ContentType)
	}
	return c.Do(t, http.MethodPost, path, bytes.NewReader(body.Data), h)
}

// PostStream posts size bytes from r (size -1: unknown, sent chunked) with
// the media type ctype, for bodies too large to hold in memory.
func (c *Client) PostStream(t testing.TB, path, ctype string, r io.Reader, size int64) *Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, c.BaseURL+path, r)
	if err != nil {
		t.Fatalf("building POST %s: %v", path, err)
	}
	req.ContentLength = size
	h := http.Header{"Content-Type": {ctype}, "Accept": {MediaTypeDICOMJSON}}
	return c.send(t, req, h)
}

// QIDO sends a QIDO-RS query (PS3.18 10.6) and decodes the matches. A 204
// answer is no match. Any other status than 200 and 204 fails the test.
func (c *Client) QIDO(t testing.TB, path string) []Dataset {
	t.Helper()
	resp := c.Get(t, path, http.Header{"Accept": {MediaTypeDICOMJSON}})
	if resp.Status == http.StatusNoContent {
		return nil
	}
	resp.RequireStatus(t, http.StatusOK)
	return resp.Datasets(t)
}

// send adds credentials and headers and reads the whole answer.
func (c *Client) send(t testing.TB, req *http.Request, header http.Header) *Response {
	t.Helper()
	for k, v := range c.Header {
		req.Header[k] = slices.Clone(v)
	}
	for k, v := range header {
		req.Header[k] = slices.Clone(v)
	}
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: requestTimeout}
	}

	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.RequestURI(), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading answer: %v", req.Method, req.URL.RequestURI(), err)
	}
	return &Response{
		Status:   resp.StatusCode,
		Header:   resp.Header,
		Body:     data,
		Duration: time.Since(start),
	}
}

// Raw sends one HTTP/1.1 request on a new connection with target written
// as it is on the request line, so that encoded, dot-segment and
// double-slash paths reach the server exactly as given; clients and
// libraries would clean some of them. It sends no credentials or default
// headers of the client, only h.
func (c *Client) Raw(t testing.TB, method, target string, h http.Header, body []byte) *Response {
	t.Helper()
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		t.Fatalf("parsing base URL %q: %v", c.BaseURL, err)
	}
	conn, err := net.DialTimeout("tcp", u.Host, 5*time.Second)
	if err != nil {
		t.Fatalf("connecting to %s: %v", u.Host, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Minute))

	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, target, u.Host)
	if err := h.Write(&b); err != nil {
		t.Fatalf("writing headers: %v", err)
	}
	if body != nil {
		b.WriteString("Content-Length: " + strconv.Itoa(len(body)) + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)

	start := time.Now()
	if _, err := conn.Write(b.Bytes()); err != nil {
		t.Fatalf("sending %s %s: %v", method, target, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading answer to %s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer to %s %s: %v", method, target, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data,
		Duration: time.Since(start)}
}

// RequireStatus fails the test unless the status is one of want.
func (r *Response) RequireStatus(t testing.TB, want ...int) {
	t.Helper()
	if !slices.Contains(want, r.Status) {
		t.Fatalf("status = %d, want %v; body: %s", r.Status, want, r.Snippet())
	}
}

// Snippet is the start of the body, for failure messages.
func (r *Response) Snippet() string {
	const n = 2000
	if len(r.Body) <= n {
		return string(r.Body)
	}
	return string(r.Body[:n]) + "..."
}

// Datasets decodes the body as a DICOM JSON array (PS3.18 F.2).
func (r *Response) Datasets(t testing.TB) []Dataset {
	t.Helper()
	ds, err := DecodeDatasets(r.Body)
	if err != nil {
		t.Fatalf("decoding answer (status %d): %v; body: %s", r.Status, err, r.Snippet())
	}
	return ds
}

// Dataset decodes the body as one DICOM JSON object, or an array of
// exactly one, as STOW-RS answers are written (PS3.18 10.5.3).
func (r *Response) Dataset(t testing.TB) Dataset {
	t.Helper()
	ds, err := DecodeDatasets(r.Body)
	if err != nil {
		t.Fatalf("decoding answer (status %d): %v; body: %s", r.Status, err, r.Snippet())
	}
	if len(ds) != 1 {
		t.Fatalf("answer holds %d datasets, want 1; body: %s", len(ds), r.Snippet())
	}
	return ds[0]
}
