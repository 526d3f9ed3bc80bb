package harness

import (
	"testing"
)

// GatewayOptions configures [StartGateway]. The zero value puts a gateway
// with its default settings and a temporary report store in front of the
// Orthanc.
type GatewayOptions struct {
	// Upstream is the DICOMweb root the gateway forwards to. Empty means
	// the Orthanc's DICOMwebURL; a [Tap]'s URL + "/dicom-web" is the other
	// use.
	Upstream string
	// Settings are gateway settings by their configuration key (the YAML
	// keys of docker/qcgate.example.yaml), for example
	// "max_seg_part_bytes": "64KiB". They win over the harness's own. Nil
	// sets nothing more.
	Settings map[string]string
}

// Gateway is a gateway started by [StartGateway], stopped when the test
// ends.
type Gateway struct {
	// URL is the gateway's root, for example "http://127.0.0.1:41237".
	URL string
	// Orthanc is the Orthanc behind it.
	Orthanc *Orthanc
}

// Client returns a client of the gateway, without credentials.
func (g *Gateway) Client() *Client { return &Client{BaseURL: g.URL} }

// StartGateway starts a gateway in front of o.
func StartGateway(t testing.TB, o *Orthanc, opts GatewayOptions) *Gateway {
	t.Helper()
	var env []string
	for k, v := range opts.Settings {
		env = append(env, "QCGATE_"+upper(k)+"="+v)
	}
	s := StartServe(t, o, ServeOptions{Upstream: opts.Upstream, Env: env})
	return &Gateway{URL: s.URL, Orthanc: o}
}

// upper is strings.ToUpper for ASCII keys.
func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
