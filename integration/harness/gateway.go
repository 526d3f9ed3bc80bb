package harness

import (
	"context"
	"log/slog"
	"maps"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/qcgate/qcgate/gateway"
)

// gatewayStopTimeout bounds the graceful shutdown of an in-process gateway
// at the end of a test.
const gatewayStopTimeout = 30 * time.Second

// GatewayOptions configures [StartGateway]. The zero value puts a gateway
// with its default settings and a temporary report store in front of the
// Orthanc.
type GatewayOptions struct {
	// Upstream is the DICOMweb root the gateway forwards to. Empty means
	// the Orthanc's DICOMwebURL; a [Tap]'s URL + "/dicom-web" is the other
	// use.
	Upstream string
	// Settings are gateway settings by their configuration key (the YAML
	// keys of docker/qcgate.example.yaml, auth_ and a key for those of the
	// auth section), for example "max_seg_part_bytes": "64KiB". They win
	// over the harness's own. Nil sets nothing more.
	Settings map[string]string
	// NoAuth turns the gateway's authentication off (auth.disabled).
	// Default false: the gateway checks HS256 tokens that [Gateway.Tokens]
	// mints.
	NoAuth bool
}

// Gateway is a gateway running in the test process, built with
// [gateway.New] and served on a loopback port. It stops when the test
// ends.
type Gateway struct {
	// URL is the gateway's root, for example "http://127.0.0.1:41237".
	URL string
	// Orthanc is the Orthanc behind it.
	Orthanc *Orthanc
	// Server is the gateway itself.
	Server *gateway.Server
	// LogPath is the file the gateway logs to, at debug level.
	LogPath string
	// Tokens mints tokens the gateway accepts; nil with NoAuth.
	Tokens *Tokens

	tb testing.TB
}

// Client returns a client of the gateway that sends a token with
// [DefaultRoles] (none with NoAuth).
func (g *Gateway) Client() *Client { return g.Tokens.client(g.tb, g.URL, DefaultRoles...) }

// ClientAs returns a client of the gateway whose token has the given roles
// (no token with NoAuth).
func (g *Gateway) ClientAs(roles ...string) *Client {
	return g.Tokens.client(g.tb, g.URL, roles...)
}

// Anonymous returns a client of the gateway that sends no token.
func (g *Gateway) Anonymous() *Client { return &Client{BaseURL: g.URL} }

// StartGateway builds a gateway in front of o with [gateway.LoadConfig]
// and [gateway.New], with a report store in the test's temporary folder,
// and serves it on 127.0.0.1 until the test ends. Its log goes to a file
// that is printed when the test fails.
func StartGateway(t testing.TB, o *Orthanc, opts GatewayOptions) *Gateway {
	t.Helper()
	dir := t.TempDir()
	upstream := opts.Upstream
	if upstream == "" {
		upstream = o.DICOMwebURL
	}
	settings := map[string]string{
		"listen":        "127.0.0.1:0",
		"upstream":      upstream,
		"upstream_user": o.User,
		"store":         filepath.Join(dir, "reports.db"),
		"log_level":     "debug",
		"log_uids":      "true",
	}
	var tokens *Tokens
	if opts.NoAuth {
		settings["auth_disabled"] = "true"
	} else {
		tokens = newTokens(t, dir)
		settings["auth_hs256_secret_file"] = tokens.SecretFile
	}
	maps.Copy(settings, opts.Settings)
	cfg, err := gateway.LoadConfig(gateway.LoadOptions{
		Env:   []string{"QCGATE_UPSTREAM_PASSWORD=" + o.Password},
		Flags: settings,
	})
	if err != nil {
		t.Fatalf("gateway config: %v", err)
	}

	logPath := filepath.Join(dir, "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("creating gateway log: %v", err)
	}
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := gateway.New(gateway.Options{Config: cfg, Logger: logger})
	if err != nil {
		logFile.Close()
		t.Fatalf("gateway.New: %v", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listening: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()

	g := &Gateway{URL: "http://" + ln.Addr().String(), Orthanc: o, Server: srv,
		LogPath: logPath, Tokens: tokens, tb: t}
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("gateway shutdown: %v", err)
			}
		case <-time.After(gatewayStopTimeout):
			t.Errorf("gateway did not shut down within %v", gatewayStopTimeout)
		}
		if err := srv.Close(); err != nil {
			t.Errorf("closing gateway: %v", err)
		}
		logFile.Close()
		if t.Failed() {
			printLogTail(t, "gateway", logPath)
		}
	})
	return g
}
