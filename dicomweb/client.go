package dicomweb

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout bounds a metadata, search or tagging request of a [Client]
// whose Timeout is zero.
const DefaultTimeout = 30 * time.Second

// mediaDICOMJSON is the media type of DICOM JSON (PS3.18 8.7.3).
const mediaDICOMJSON = "application/dicom+json"

// ClientOptions configures [NewClient].
type ClientOptions struct {
	// BaseURL is the upstream DICOMweb root, for example
	// "http://127.0.0.1:8042/dicom-web". Required; http or https.
	BaseURL string
	// User and Password are HTTP Basic credentials sent with every request;
	// empty User means none.
	User, Password string
	// OrthancRoot is the root of Orthanc's REST API, used only by the
	// Orthanc extensions (orthanc.go). Empty means BaseURL without its last
	// path segment, which fits Orthanc's default DicomWeb.Root
	// "/dicom-web/".
	OrthancRoot string
	// HTTP sends the requests. Nil means a client of its own with a clone
	// of http.DefaultTransport and no overall timeout, since STOW-RS
	// uploads may take long.
	HTTP *http.Client
	// Timeout bounds each request but STOW-RS: metadata, searches and
	// tagging. Zero means [DefaultTimeout]; negative means none, leaving it
	// to the context.
	Timeout time.Duration
}

// Client talks to an upstream DICOMweb server (PS3.18), with Orthanc's REST
// API as an extension for tagging. Its methods are safe for concurrent use.
//
// Transport failures are returned wrapping [ErrUpstreamUnreachable] (no
// connection, or it broke before an answer) or [ErrUpstreamTimeout] (a
// deadline passed); a cancelled context comes back as context.Canceled.
// An unexpected HTTP status is a [*StatusError]; 404 also matches
// [ErrNotFound].
type Client struct {
	// Base is the upstream DICOMweb root, without a trailing slash.
	Base *url.URL
	// User and Password are HTTP Basic credentials; empty User means none.
	User, Password string
	// HTTP sends the requests; nil means http.DefaultClient.
	HTTP *http.Client
	// OrthancRoot is the root of Orthanc's REST API; nil means Base
	// without its last path segment.
	OrthancRoot *url.URL
	// Timeout is as in [ClientOptions]; zero means [DefaultTimeout].
	Timeout time.Duration
}

// NewClient returns a client for opts. It checks the URLs and makes no
// request.
func NewClient(opts ClientOptions) (*Client, error) {
	base, err := parseBaseURL(opts.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("upstream URL: %w", err)
	}
	c := &Client{
		Base:     base,
		User:     opts.User,
		Password: opts.Password,
		HTTP:     opts.HTTP,
		Timeout:  opts.Timeout,
	}
	if opts.OrthancRoot != "" {
		if c.OrthancRoot, err = parseBaseURL(opts.OrthancRoot); err != nil {
			return nil, fmt.Errorf("orthanc root URL: %w", err)
		}
	}
	if c.HTTP == nil {
		c.HTTP = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
	return c, nil
}

func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q is not an absolute http or https URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q has a query, fragment or user info", s)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// SeriesMetadata returns the WADO-RS metadata of every instance of a series
// (PS3.18 10.4.1.1.2): GET {base}/studies/{study}/series/{series}/metadata.
// With an empty study it first finds the series' study with
// [Client.FindSeriesStudy], since Orthanc 1.10 has no /series/{uid}/metadata.
// A series the upstream does not know, or one without instances, gives an
// error wrapping [ErrNotFound]. UIDs that are not UIDs give [ErrInvalidUID]
// and no request.
func (c *Client) SeriesMetadata(ctx context.Context, study, series string) ([]Dataset, error) {
	if err := checkUID(series); err != nil {
		return nil, err
	}
	if study == "" {
		var err error
		if study, err = c.FindSeriesStudy(ctx, series); err != nil {
			return nil, err
		}
	} else if err := checkUID(study); err != nil {
		return nil, err
	}

	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	u := c.Base.JoinPath("studies", study, "series", series, "metadata")
	dss, err := c.getDatasets(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("fetching metadata of series %s: %w", series, err)
	}
	if len(dss) == 0 {
		return nil, fmt.Errorf("fetching metadata of series %s: no instances: %w", series,
			ErrNotFound)
	}
	return dss, nil
}

// FindSeriesStudy returns the Study Instance UID of a series with a QIDO-RS
// search (PS3.18 10.6): GET {base}/series?SeriesInstanceUID={series}. A
// series the upstream does not know gives an error wrapping [ErrNotFound].
func (c *Client) FindSeriesStudy(ctx context.Context, series string) (string, error) {
	if err := checkUID(series); err != nil {
		return "", err
	}
	dss, err := c.Search(ctx, "series",
		"SeriesInstanceUID="+series+"&includefield=0020000D")
	if err != nil {
		return "", fmt.Errorf("finding the study of series %s: %w", series, err)
	}
	for _, ds := range dss {
		if study := ds.String("0020000D"); study != "" {
			return study, nil
		}
	}
	return "", fmt.Errorf("finding the study of series %s: %w", series, ErrNotFound)
}

// Search sends a QIDO-RS search (PS3.18 10.6) for resource, a path below the
// DICOMweb root such as "studies" or "studies/{uid}/series", with rawQuery
// as it is: pass it through [RepairQuery] first for Orthanc 1.10. An answer
// of 204 gives no data sets and no error.
func (c *Client) Search(ctx context.Context, resource, rawQuery string) ([]Dataset, error) {
	segs, err := resourcePath(resource)
	if err != nil {
		return nil, err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	u := c.Base.JoinPath(segs...)
	u.RawQuery = rawQuery
	dss, err := c.getDatasets(ctx, u)
	if err != nil {
		return nil, fmt.Errorf("searching %s: %w", resource, err)
	}
	return dss, nil
}

// resourcePath splits a resource path into segments, refusing anything
// that could leave the DICOMweb root.
func resourcePath(resource string) ([]string, error) {
	segs := strings.Split(strings.Trim(resource, "/"), "/")
	for _, s := range segs {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "%?#\\") {
			return nil, fmt.Errorf("resource path %q is not a DICOMweb path", resource)
		}
	}
	return segs, nil
}

// getDatasets GETs u as DICOM JSON and decodes the array it answers.
func (c *Client) getDatasets(ctx context.Context, u *url.URL) ([]Dataset, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", mediaDICOMJSON)

	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		return nil, statusError(resp)
	}

	body, err := decodedBody(resp)
	if err != nil {
		return nil, err
	}
	dss, err := DecodeDatasets(body)
	if err != nil {
		return nil, c.readError(ctx, err)
	}
	return dss, nil
}

// Store sends a STOW-RS request (PS3.18 10.5): POST {base}/studies, or
// {base}/studies/{study} when study is not empty, with the given
// Content-Type (for example [StowWriter.ContentType]) and body. The body is
// streamed as it is read, chunked unless it is a bytes or strings reader,
// and no Expect header is sent: Orthanc never answers 100-continue. Store
// is bounded by ctx only, not by the client's Timeout.
//
// For an answer of 200, 202, 400 or 409 it returns the parsed answer, the
// status and no error: Orthanc answers 400 to a mix of good and bad parts
// after storing the good ones, and the answer lists them. Any other status
// gives a nil answer, the status and a [*StatusError]. A failure of the
// transport gives status 0; one of body itself (such as [ErrTruncated] from
// a [PartReader] feeding it) is returned wrapped as it is, not as the
// upstream's fault.
func (c *Client) Store(ctx context.Context, study, contentType string, body io.Reader) (*StoreResponse, int, error) {
	u := c.Base.JoinPath("studies")
	if study != "" {
		if err := checkUID(study); err != nil {
			return nil, 0, err
		}
		u = u.JoinPath(study)
	}

	tracked := &trackedReader{r: body}
	var reqBody io.Reader = tracked
	switch body.(type) {
	case *bytes.Buffer, *bytes.Reader, *strings.Reader:
		// Keep the length known to net/http, for a Content-Length.
		reqBody = body
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), reqBody)
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("Accept", mediaDICOMJSON)

	resp, err := c.Do(req)
	if err != nil {
		if berr := tracked.error(); berr != nil {
			return nil, 0, fmt.Errorf("storing instances: reading request body: %w", berr)
		}
		return nil, 0, fmt.Errorf("storing instances: %w", err)
	}
	defer resp.Body.Close()

	switch resp.StatusCode {
	case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusConflict:
	default:
		return nil, resp.StatusCode, fmt.Errorf("storing instances: %w", statusError(resp))
	}
	rb, err := decodedBody(resp)
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("storing instances: %w", err)
	}
	sr, err := ParseStoreResponse(rb, resp.Header.Get("Content-Type"))
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("storing instances: %w", c.readError(ctx, err))
	}
	return sr, resp.StatusCode, nil
}

// Ping checks that the upstream answers DICOMweb with the client's
// credentials: a QIDO-RS search for at most one study.
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.Search(ctx, "studies", "limit=1")
	return err
}

// Do sends req with the client's credentials and maps transport failures
// to [ErrUpstreamUnreachable] and [ErrUpstreamTimeout]. Any credentials req
// carries are replaced. The caller closes the body and handles
// Content-Encoding when it asked for one itself.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	req.Header.Del("Authorization")
	if c.User != "" {
		req.SetBasicAuth(c.User, c.Password)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}

	resp, err := hc.Do(req)
	if err != nil {
		return nil, transportError(req.Context(), err)
	}
	return resp, nil
}

// transportError classifies an error of http.Client.Do.
func transportError(ctx context.Context, err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", ErrUpstreamTimeout, err)
	case errors.Is(err, context.Canceled) || ctx.Err() != nil:
		return err
	case errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%w: %w", ErrUpstreamTimeout, err)
	}
	return fmt.Errorf("%w: %w", ErrUpstreamUnreachable, err)
}

// readError classifies an error met while reading an answer's body: a
// deadline is a timeout, a cut or broken connection makes the upstream
// unreachable, and anything else, such as malformed content, passes.
func (c *Client) readError(ctx context.Context, err error) error {
	var ne net.Error
	if ctx.Err() != nil || errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
		return transportError(ctx, err)
	}
	return err
}

func (c *Client) withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	d := c.Timeout
	if d == 0 {
		d = DefaultTimeout
	}
	if d < 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// statusError reads the start of an unexpected answer into a [StatusError].
func statusError(resp *http.Response) error {
	body, err := decodedBody(resp)
	if err != nil {
		return &StatusError{Status: resp.StatusCode}
	}
	data, _ := io.ReadAll(io.LimitReader(body, maxStatusBody))
	return &StatusError{Status: resp.StatusCode, Body: strings.TrimSpace(string(data))}
}

// decodedBody returns the body of resp without its content coding. The
// transport removes gzip it asked for itself; this handles gzip it did not
// ask for, or when compression is disabled in it. Orthanc gzips when asked.
func decodedBody(resp *http.Response) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(resp.Header.Get("Content-Encoding"))) {
	case "", "identity":
		return resp.Body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(resp.Body)
		if err != nil {
			return nil, fmt.Errorf("reading gzip answer: %w", err)
		}
		return zr, nil
	}
	return nil, fmt.Errorf("answer has unsupported content coding %q",
		resp.Header.Get("Content-Encoding"))
}

// trackedReader records the first error other than io.EOF of the reader it
// wraps, to tell a failing request body from a failing upstream.
type trackedReader struct {
	r   io.Reader
	mu  sync.Mutex
	err error
}

func (t *trackedReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.mu.Lock()
		if t.err == nil {
			t.err = err
		}
		t.mu.Unlock()
	}
	return n, err
}

func (t *trackedReader) error() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// maxUIDLen is the length limit of a UID (PS3.5 9.1).
const maxUIDLen = 64

// checkUID reports an error wrapping [ErrInvalidUID] unless uid has the form
// of PS3.5 9.1: digits in components separated by single dots, at most 64
// characters. It keeps UIDs from a DICOM file or a request from being
// anything else in an upstream URL path.
func checkUID(uid string) error {
	if uid == "" || len(uid) > maxUIDLen || uid[0] == '.' || uid[len(uid)-1] == '.' ||
		strings.Contains(uid, "..") {
		return fmt.Errorf("%w: %q", ErrInvalidUID, clipString(uid))
	}
	for i := 0; i < len(uid); i++ {
		if c := uid[i]; (c < '0' || c > '9') && c != '.' {
			return fmt.Errorf("%w: %q", ErrInvalidUID, clipString(uid))
		}
	}
	return nil
}

// ValidUID reports whether uid has the form of a UID (PS3.5 9.1).
func ValidUID(uid string) bool { return checkUID(uid) == nil }
