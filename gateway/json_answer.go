package gateway

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// maxStatusBody is the largest DICOM JSON answer the gateway buffers to
// rewrite (add QC status, hide rejected SEGs); a larger one (a study's
// metadata with thousands of instances) passes unchanged.
const maxStatusBody = 64 << 20

// plainBody returns the body of res without its content coding. A gzip
// answer is decompressed and then goes out plain, so Content-Encoding and
// the length are dropped from res. ok is false for any other coding,
// which the gateway cannot read: the answer must then pass as it is.
func plainBody(res *http.Response) (body io.ReadCloser, ok bool, err error) {
	switch strings.ToLower(res.Header.Get("Content-Encoding")) {
	case "":
		return res.Body, true, nil
	case "gzip":
		zr, err := gzip.NewReader(res.Body)
		if err != nil {
			return nil, false, fmt.Errorf("reading gzip answer: %w", err)
		}
		res.Header.Del("Content-Encoding")
		res.ContentLength = -1
		res.Header.Del("Content-Length")
		return readCloser{zr, res.Body}, true, nil
	}
	return nil, false, nil
}

// rewriteJSON replaces the body of res, a DICOM JSON answer, by what
// transform makes of it. It buffers the answer, up to maxStatusBody; a
// gzip answer is decompressed and goes out plain. An answer larger than
// that, or in a coding the gateway cannot read, passes without transform.
// An error of transform is returned as it is, and res is then not to be
// sent.
func rewriteJSON(res *http.Response, transform func([]byte) ([]byte, error)) error {
	body, ok, err := plainBody(res)
	if err != nil || !ok {
		return err
	}
	buf, err := io.ReadAll(io.LimitReader(body, maxStatusBody+1))
	if err != nil {
		body.Close()
		return fmt.Errorf("reading answer: %w", err)
	}
	if len(buf) > maxStatusBody {
		// Too large to buffer: what was read goes out first, then the rest.
		res.Body = readCloser{io.MultiReader(bytes.NewReader(buf), body), body}
		return nil
	}
	body.Close()

	out, err := transform(buf)
	if err != nil {
		return err
	}
	res.Body = io.NopCloser(bytes.NewReader(out))
	res.ContentLength = int64(len(out))
	res.Header.Set("Content-Length", strconv.Itoa(len(out)))
	return nil
}
