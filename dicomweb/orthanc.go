package dicomweb

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// This file holds extensions that use Orthanc's own REST API, not DICOMweb
// (https://orthanc.uclouvain.be/book/users/rest.html). They work only when
// the upstream is Orthanc and the client's credentials may use that API.

// maxOrthancAnswer bounds the Orthanc REST answers read here, in bytes.
const maxOrthancAnswer = 1 << 20

// orthancRoot returns the root of Orthanc's REST API.
func (c *Client) orthancRoot() *url.URL {
	if c.OrthancRoot != nil {
		return c.OrthancRoot
	}
	root := *c.Base
	if i := strings.LastIndexByte(root.Path, '/'); i >= 0 {
		root.Path = root.Path[:i]
	}
	return &root
}

// OrthancInstanceID returns Orthanc's identifier of the instance with a SOP
// Instance UID, from POST {root}/tools/lookup. An instance Orthanc does not
// hold gives an error wrapping [ErrNotFound].
func (c *Client) OrthancInstanceID(ctx context.Context, sopInstanceUID string) (string, error) {
	if err := checkUID(sopInstanceUID); err != nil {
		return "", err
	}
	ctx, cancel := c.withTimeout(ctx)
	defer cancel()

	u := c.orthancRoot().JoinPath("tools", "lookup")
	var found []struct {
		ID   string `json:"ID"`
		Type string `json:"Type"`
	}
	if err := c.orthancCall(ctx, http.MethodPost, sopInstanceUID, u, &found); err != nil {
		return "", fmt.Errorf("looking up instance %s in orthanc: %w", sopInstanceUID, err)
	}
	for _, f := range found {
		if f.Type == "Instance" && isOrthancID(f.ID) {
			return f.ID, nil
		}
	}
	return "", fmt.Errorf("looking up instance %s in orthanc: %w", sopInstanceUID, ErrNotFound)
}

// OrthancSetMetadata sets the user metadata name of an instance to value in
// Orthanc: the instance is found with POST {root}/tools/lookup, then written
// with PUT {root}/instances/{id}/metadata/{name}. The name must be declared
// in Orthanc's UserMetadata configuration (ids from 1024). An instance
// Orthanc does not hold gives an error wrapping [ErrNotFound].
func (c *Client) OrthancSetMetadata(ctx context.Context, sopInstanceUID, name, value string) error {
	if !isMetadataName(name) {
		return fmt.Errorf("orthanc metadata name %q is not a plain name", clipString(name))
	}
	id, err := c.OrthancInstanceID(ctx, sopInstanceUID)
	if err != nil {
		return err
	}

	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	u := c.orthancRoot().JoinPath("instances", id, "metadata", name)
	if err := c.orthancCall(ctx, http.MethodPut, value, u, nil); err != nil {
		return fmt.Errorf("setting orthanc metadata %s of instance %s: %w", name,
			sopInstanceUID, err)
	}
	return nil
}

// OrthancMetadata returns the user metadata name of an instance in Orthanc,
// from GET {root}/instances/{id}/metadata/{name}. Metadata that is not set
// gives an error wrapping [ErrNotFound].
func (c *Client) OrthancMetadata(ctx context.Context, sopInstanceUID, name string) (string, error) {
	if !isMetadataName(name) {
		return "", fmt.Errorf("orthanc metadata name %q is not a plain name", clipString(name))
	}
	id, err := c.OrthancInstanceID(ctx, sopInstanceUID)
	if err != nil {
		return "", err
	}

	ctx, cancel := c.withTimeout(ctx)
	defer cancel()
	u := c.orthancRoot().JoinPath("instances", id, "metadata", name)
	var value string
	if err := c.orthancCall(ctx, http.MethodGet, "", u, &value); err != nil {
		return "", fmt.Errorf("reading orthanc metadata %s of instance %s: %w", name,
			sopInstanceUID, err)
	}
	return value, nil
}

// orthancCall sends a request with a text body to Orthanc's REST API and
// reads the answer into out: JSON for a slice or struct, the raw text for a
// *string, nothing for nil.
func (c *Client) orthancCall(ctx context.Context, method, body string, u *url.URL, out any) error {
	var rb io.Reader
	if body != "" {
		rb = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rb)
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "text/plain")
	}

	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return statusError(resp)
	}

	ab, err := decodedBody(resp)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(ab, maxOrthancAnswer))
	if err != nil {
		return c.readError(ctx, err)
	}
	switch out := out.(type) {
	case nil:
		return nil
	case *string:
		*out = string(data)
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decoding orthanc answer: %w", err)
	}
	return nil
}

// isOrthancID reports whether id looks like an Orthanc identifier: groups
// of hexadecimal digits separated by dashes.
func isOrthancID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && c != '-' {
			return false
		}
	}
	return true
}

// isMetadataName reports whether name is a plain metadata name or number.
func isMetadataName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			c == '_' || c == '-') {
			return false
		}
	}
	return true
}
