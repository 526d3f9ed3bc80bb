package dicomweb

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"time"
)

// ClientOptions configures [NewClient].
type ClientOptions struct {
	// BaseURL is the upstream DICOMweb root.
	BaseURL string
	// User and Password are HTTP Basic credentials; empty means none.
	User, Password string
	// OrthancRoot is the root of Orthanc's REST API.
	OrthancRoot string
	// HTTP is the HTTP client.
	HTTP *http.Client
	// Timeout bounds each metadata or lookup request.
	Timeout time.Duration
}

// Client talks to an upstream DICOMweb server.
type Client struct {
	// Base is the upstream DICOMweb root.
	Base *url.URL
	// User and Password are HTTP Basic credentials.
	User, Password string
	// HTTP sends the requests.
	HTTP *http.Client
	// OrthancRoot is the root of Orthanc's REST API.
	OrthancRoot *url.URL
}

// NewClient returns a client for opts.
func NewClient(opts ClientOptions) (*Client, error) { return &Client{}, nil }

// SeriesMetadata returns the WADO-RS metadata of every instance of a series.
func (c *Client) SeriesMetadata(ctx context.Context, study, series string) ([]Dataset, error) {
	return nil, nil
}

// FindSeriesStudy returns the Study Instance UID of a series.
func (c *Client) FindSeriesStudy(ctx context.Context, series string) (string, error) {
	return "", nil
}

// Store sends a STOW-RS request.
func (c *Client) Store(ctx context.Context, study, contentType string, body io.Reader) (*StoreResponse, int, error) {
	return nil, 0, nil
}
