package luafilter

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qcgate/qcgate/integration/harness"
)

// Users of the test Orthanc: the gateway's user, whose SEGs the filter
// accepts, and any other registered user.
const (
	gatewayUser = "qcgate-gw"
	otherUser   = "annotator-tool"
	// calledAET is the test Orthanc's own AE title.
	calledAET = "QCGATETEST"
	// userEnv carries the gateway user into Orthanc's configuration through
	// Orthanc's ${...} substitution, the way a deployment would.
	userEnv = "QCGATE_TEST_SEG_FILTER_USER"
)

// filterScript is the filter under test, relative to this package.
const filterScript = "../../docker/orthanc-seg-filter.lua"

// orthanc is a running Orthanc with the SEG filter loaded.
type orthanc struct {
	url       string
	dicomPort int
	gw, other *harness.Client
	logPath   string
}

// need skips the test when a program is missing, or fails it under CI.
func need(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err == nil {
		return
	}
	msg := path + " not found: install the Debian packages orthanc, orthanc-dicomweb and dcmtk"
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
	}
	t.Skip(msg)
}

// startOrthanc starts Orthanc with the filter, the two users and a DICOM
// port. withUser false leaves the filter's setting out of the
// configuration.
func startOrthanc(t *testing.T, withUser bool) *orthanc {
	t.Helper()
	bin := os.Getenv("QCGATE_TEST_ORTHANC")
	if bin == "" {
		bin = harness.DefaultOrthancBinary
	}
	need(t, bin)
	need(t, harness.DefaultDICOMwebPlugin)
	script, err := filepath.Abs(filterScript)
	if err != nil {
		t.Fatalf("locating the filter: %v", err)
	}

	// A free port may be taken before Orthanc binds it: then try again.
	var lastErr error
	for range 3 {
		o, err := startOnce(t, bin, script, withUser)
		if err == nil {
			return o
		}
		lastErr = err
	}
	t.Fatalf("starting Orthanc: %v", lastErr)
	return nil
}

// startOnce makes one attempt to start Orthanc on free ports.
func startOnce(t *testing.T, bin, script string, withUser bool) (*orthanc, error) {
	dir := t.TempDir()
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	dicomPort, err := freePort()
	if err != nil {
		return nil, err
	}
	gwPass, otherPass := "gw-"+strconv.Itoa(httpPort), "other-"+strconv.Itoa(dicomPort)
	cfg := map[string]any{
		"Name":                  "qcgate-lua-filter-test",
		"HttpPort":              httpPort,
		"DicomServerEnabled":    true,
		"DicomPort":             dicomPort,
		"DicomAet":              calledAET,
		"StorageDirectory":      filepath.Join(dir, "storage"),
		"IndexDirectory":        filepath.Join(dir, "index"),
		"Plugins":               []string{harness.DefaultDICOMwebPlugin},
		"LuaScripts":            []string{script},
		"RemoteAccessAllowed":   true,
		"AuthenticationEnabled": true,
		"RegisteredUsers":       map[string]string{gatewayUser: gwPass, otherUser: otherPass},
		"DicomWeb": map[string]any{
			"Enable": true, "Root": "/dicom-web/", "EnableWado": true, "WadoRoot": "/wado",
		},
	}
	if withUser {
		cfg["QcgateSegFilter"] = map[string]any{"GatewayUser": "${" + userEnv + "}"}
	}
	data, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encoding config: %w", err)
	}
	cfgPath := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		return nil, fmt.Errorf("writing config: %w", err)
	}
	logPath := filepath.Join(dir, "orthanc.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating log: %w", err)
	}
	defer logFile.Close()

	cmd := exec.Command(bin, cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(os.Environ(), userEnv+"="+gatewayUser)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	base := "http://127.0.0.1:" + strconv.Itoa(httpPort)
	o := &orthanc{
		url:       base,
		dicomPort: dicomPort,
		gw:        &harness.Client{BaseURL: base, User: gatewayUser, Password: gwPass},
		other:     &harness.Client{BaseURL: base, User: otherUser, Password: otherPass},
		logPath:   logPath,
	}
	if err := waitReady(base+"/system", gatewayUser, gwPass, done); err != nil {
		stop(cmd, done)
		return nil, fmt.Errorf("%w; log:\n%s", err, o.log(t))
	}
	t.Cleanup(func() {
		stop(cmd, done)
		if t.Failed() {
			t.Logf("Orthanc log:\n%s", o.log(t))
		}
	})
	return o, nil
}

// waitReady polls url until it answers 200, Orthanc exits or 20 s pass.
func waitReady(url, user, password string, done <-chan error) error {
	client := &http.Client{Timeout: 2 * time.Second}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case err := <-done:
			return fmt.Errorf("orthanc ended while starting: %w", err)
		default:
		}
		req, err := http.NewRequest(http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("building request: %w", err)
		}
		req.SetBasicAuth(user, password)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("orthanc not ready after 20 s")
}

// stop ends Orthanc with SIGTERM, and kills it after 15 s.
func stop(cmd *exec.Cmd, done <-chan error) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// freePort returns a TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// log returns Orthanc's log so far.
func (o *orthanc) log(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(o.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(b)
}

// waitFor polls done for up to 10 s and reports whether it became true.
func (o *orthanc) waitFor(done func() bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if done() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// instanceID is Orthanc's id of the instance, by POST /tools/lookup; ""
// when Orthanc does not hold it.
func (o *orthanc) instanceID(t *testing.T, sopInstanceUID string) string {
	t.Helper()
	resp := o.gw.Do(t, http.MethodPost, "/tools/lookup", strings.NewReader(sopInstanceUID), nil)
	resp.RequireStatus(t, http.StatusOK)
	var found []struct{ ID, Type string }
	if err := json.Unmarshal(resp.Body, &found); err != nil {
		t.Fatalf("decoding lookup answer %q: %v", resp.Body, err)
	}
	for _, f := range found {
		if f.Type == "Instance" {
			return f.ID
		}
	}
	return ""
}

// stored reports whether Orthanc holds the instance.
func (o *orthanc) stored(t *testing.T, sopInstanceUID string) bool {
	t.Helper()
	return o.instanceID(t, sopInstanceUID) != ""
}

// remove deletes the instance from Orthanc.
func (o *orthanc) remove(t *testing.T, sopInstanceUID string) {
	t.Helper()
	id := o.instanceID(t, sopInstanceUID)
	o.gw.Do(t, http.MethodDelete, "/instances/"+id, nil, nil).RequireStatus(t, http.StatusOK)
}

// countInstances is Orthanc's instance count from GET /statistics.
func (o *orthanc) countInstances(t *testing.T) int {
	t.Helper()
	resp := o.gw.Get(t, "/statistics", nil)
	resp.RequireStatus(t, http.StatusOK)
	var s struct{ CountInstances int }
	if err := json.Unmarshal(resp.Body, &s); err != nil {
		t.Fatalf("decoding statistics %q: %v", resp.Body, err)
	}
	return s.CountInstances
}
