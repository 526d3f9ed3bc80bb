package harness

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Default locations of the Debian packages orthanc and orthanc-dicomweb.
const (
	DefaultOrthancBinary  = "/usr/sbin/Orthanc"
	DefaultDICOMwebPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
)

// Orthanc user metadata the gateway writes on accepted SEGs. The ids are
// the ones the harness registers in Orthanc's configuration (UserMetadata,
// ids from 1024 up).
const (
	MetadataQCDecision = "QCDecision"
	MetadataQCReport   = "QCReport"
	// MetadataQCReview is the review state of a SEG in the review workflow.
	MetadataQCReview = "QCReview"
)

// EnvOrthancUser is the environment variable that holds the registered
// user's name in Orthanc's environment, so a configuration can name it with
// Orthanc's ${...} substitution (for example the SEG filter's GatewayUser).
const EnvOrthancUser = "QCGATE_TEST_ORTHANC_USER"

// Readiness polling of a started server.
const (
	readyTimeout  = 30 * time.Second
	readyInterval = 50 * time.Millisecond
	startAttempts = 3
)

// OrthancOptions configures [StartOrthanc]. The zero value starts the
// Debian package's Orthanc with its DICOMweb plugin.
type OrthancOptions struct {
	// Binary is the Orthanc executable. Empty means the environment variable
	// QCGATE_TEST_ORTHANC, else DefaultOrthancBinary.
	Binary string
	// Plugin is the DICOMweb plugin library. Empty means
	// DefaultDICOMwebPlugin.
	Plugin string
	// Config holds top-level configuration keys that replace the harness's
	// own, for example "HttpCompressionEnabled". Nil adds nothing.
	Config map[string]any
}

// Orthanc is a running Orthanc server started by [StartOrthanc]. It stops
// when the test that started it ends.
type Orthanc struct {
	// URL is Orthanc's REST root on the loopback address, without a
	// trailing slash, for example "http://127.0.0.1:41234".
	URL string
	// DICOMwebURL is the DICOMweb root, URL + "/dicom-web".
	DICOMwebURL string
	// Port is the HTTP port Orthanc listens on, on all addresses.
	Port int
	// User and Password are the random credentials Orthanc requires.
	User     string
	Password string
	// ConfigPath is the generated configuration file.
	ConfigPath string

	proc *process
}

// StartOrthanc starts an Orthanc server for the test and waits until it
// answers. It skips the test when Orthanc or its DICOMweb plugin is not
// installed, unless the CI environment variable is set.
//
// TODO(integration): StartOrthanc only runs a local binary. Starting the
// same Orthanc in a container (testcontainers-go) where a Docker engine is
// reachable is not written: no test machine has an engine to run it on, so
// machines without the Debian packages skip the end-to-end tests.
func StartOrthanc(t testing.TB, opts OrthancOptions) *Orthanc {
	t.Helper()
	bin := opts.Binary
	if bin == "" {
		bin = os.Getenv("QCGATE_TEST_ORTHANC")
	}
	if bin == "" {
		bin = DefaultOrthancBinary
	}
	plugin := opts.Plugin
	if plugin == "" {
		plugin = DefaultDICOMwebPlugin
	}
	const install = "install the Debian packages orthanc and orthanc-dicomweb"
	requireTool(t, bin, install)
	requireTool(t, plugin, install)

	// The port is free when chosen but may be taken before Orthanc binds
	// it: then Orthanc exits at once and another port is tried.
	var lastErr error
	for range startAttempts {
		o, err := startOrthancOnce(t, bin, plugin, opts)
		if err == nil {
			return o
		}
		lastErr = err
	}
	t.Fatalf("starting Orthanc: %v", lastErr)
	return nil
}

// startOrthancOnce makes one attempt to start Orthanc on a free port.
func startOrthancOnce(t testing.TB, bin, plugin string, opts OrthancOptions) (*Orthanc, error) {
	t.Helper()
	dir := t.TempDir()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	o := &Orthanc{
		URL:      "http://127.0.0.1:" + strconv.Itoa(port),
		Port:     port,
		User:     "qcgate-test-" + randomHex(4),
		Password: randomHex(16),
	}
	o.DICOMwebURL = o.URL + "/dicom-web"

	o.ConfigPath = filepath.Join(dir, "orthanc.json")
	cfg := orthancConfig(dir, port, plugin, o.User, o.Password)
	maps.Copy(cfg, opts.Config)
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding Orthanc config: %w", err)
	}
	if err := os.WriteFile(o.ConfigPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("writing Orthanc config: %w", err)
	}

	env := []string{EnvOrthancUser + "=" + o.User}
	o.proc, err = startProcess("orthanc", dir, bin, []string{o.ConfigPath}, env, "")
	if err != nil {
		return nil, err
	}
	if err := waitReady(o.proc, o.URL+"/system", o.User, o.Password); err != nil {
		_, _ = o.proc.stop()
		return nil, fmt.Errorf("%w; log:\n%s", err, o.proc.logTail())
	}
	o.proc.cleanup(t)
	return o, nil
}

// orthancConfig is the configuration the harness gives Orthanc: HTTP only,
// no DICOM server, storage under dir, the DICOMweb plugin at its usual
// roots, and one registered user.
func orthancConfig(dir string, port int, plugin, user, password string) map[string]any {
	return map[string]any{
		"Name":                  "qcgate-test",
		"HttpPort":              port,
		"DicomServerEnabled":    false,
		"StorageDirectory":      filepath.Join(dir, "storage"),
		"IndexDirectory":        filepath.Join(dir, "index"),
		"Plugins":               []string{plugin},
		"RemoteAccessAllowed":   true,
		"AuthenticationEnabled": true,
		"RegisteredUsers":       map[string]string{user: password},
		"UserMetadata": map[string]int{
			MetadataQCDecision: 1024,
			MetadataQCReport:   1025,
			MetadataQCReview:   1026,
		},
		"DicomWeb": map[string]any{
			"Enable":     true,
			"Root":       "/dicom-web/",
			"EnableWado": true,
			"WadoRoot":   "/wado",
		},
	}
}

// waitReady polls url until it answers 200, the process ends or
// readyTimeout passes.
func waitReady(p *process, url, user, password string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	var last string
	for time.Now().Before(deadline) {
		if p.exited() {
			return fmt.Errorf("%s ended while starting: %w", p.name, p.exitErr())
		}
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("building readiness request: %w", err)
		}
		if user != "" {
			req.SetBasicAuth(user, password)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(readyInterval)
	}
	return fmt.Errorf("%s not ready after %v (last: %s)", p.name, readyTimeout, last)
}

// PID is the process ID of the Orthanc server.
func (o *Orthanc) PID() int { return o.proc.PID() }

// Client returns a client of Orthanc's REST API with its credentials.
func (o *Orthanc) Client() *Client {
	return &Client{BaseURL: o.URL, User: o.User, Password: o.Password}
}

// Statistics are the counters of Orthanc's GET /statistics.
type Statistics struct {
	CountPatients  int
	CountStudies   int
	CountSeries    int
	CountInstances int
}

// Statistics asks Orthanc how many resources it holds.
func (o *Orthanc) Statistics(t testing.TB) Statistics {
	t.Helper()
	resp := o.Client().Get(t, "/statistics", nil)
	resp.RequireStatus(t, http.StatusOK)
	var s Statistics
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		t.Fatalf("decoding Orthanc statistics %q: %v", resp.Body, err)
	}
	return s
}

// InstanceID is the Orthanc id of the instance with that SOP Instance UID,
// from POST /tools/lookup; "" when Orthanc does not hold it.
func (o *Orthanc) InstanceID(t testing.TB, sopInstanceUID string) string {
	t.Helper()
	resp := o.Client().Do(t, http.MethodPost, "/tools/lookup",
		strings.NewReader(sopInstanceUID), nil)
	resp.RequireStatus(t, http.StatusOK)
	var found []struct {
		ID   string
		Type string
	}
	if err := json.Unmarshal(resp.Body, &found); err != nil {
		t.Fatalf("decoding Orthanc lookup %q: %v", resp.Body, err)
	}
	for _, f := range found {
		if f.Type == "Instance" {
			return f.ID
		}
	}
	return ""
}

// Metadata reads an instance's metadata item by name; ok is false when
// Orthanc answers 404 (the item is not set).
func (o *Orthanc) Metadata(t testing.TB, instanceID, name string) (value string, ok bool) {
	t.Helper()
	path := "/instances/" + url.PathEscape(instanceID) + "/metadata/" + url.PathEscape(name)
	resp := o.Client().Get(t, path, nil)
	if resp.Status == http.StatusNotFound {
		return "", false
	}
	resp.RequireStatus(t, http.StatusOK)
	return string(resp.Body), true
}

// randomHex returns n random bytes in hexadecimal.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24).
	return hex.EncodeToString(b)
}
