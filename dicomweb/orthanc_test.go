package dicomweb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Where the Debian packages orthanc and orthanc-dicomweb install.
const (
	orthancBinary = "/usr/sbin/Orthanc"
	orthancPlugin = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
)

// realDir is the repository's copy of the real test data.
const realDir = "../qc/testdata/real"

// startOrthanc starts a real Orthanc with its DICOMweb plugin on a free
// port, random credentials and storage in a temporary folder, and returns a
// client for it. It skips the test when Orthanc is not installed, unless the
// CI variable is set.
func startOrthanc(t *testing.T) *Client {
	t.Helper()
	for _, f := range []string{orthancBinary, orthancPlugin} {
		if _, err := os.Stat(f); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("orthanc is required under CI: %v", err)
			}
			t.Skipf("orthanc not installed (Debian packages orthanc, orthanc-dicomweb): %v", err)
		}
	}

	dir := t.TempDir()
	name, user, password := randomHex(t), randomHex(t), randomHex(t)
	port := freePort(t)
	cfg := map[string]any{
		"Name":                  name,
		"HttpPort":              port,
		"StorageDirectory":      filepath.Join(dir, "db"),
		"IndexDirectory":        filepath.Join(dir, "db"),
		"DicomServerEnabled":    false,
		"Plugins":               []string{orthancPlugin},
		"AuthenticationEnabled": true,
		"RegisteredUsers":       map[string]string{user: password},
		"RemoteAccessAllowed":   true,
		"UserMetadata":          map[string]int{"QCDecision": 1024, "QCReport": 1025},
		"DicomWeb": map[string]any{"Enable": true, "Root": "/dicom-web/",
			"EnableWado": true, "WadoRoot": "/wado"},
	}
	data, _ := json.Marshal(cfg)
	cfgPath := filepath.Join(dir, "orthanc.json")
	if err := os.WriteFile(cfgPath, data, 0o600); err != nil {
		t.Fatalf("writing orthanc config: %v", err)
	}

	var logs bytes.Buffer
	cmd := exec.Command(orthancBinary, cfgPath)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting orthanc: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})

	root := fmt.Sprintf("http://127.0.0.1:%d", port)
	c, err := NewClient(ClientOptions{BaseURL: root + "/dicom-web", User: user,
		Password: password})
	if err != nil {
		t.Fatalf("NewClient() = %v", err)
	}

	// Poll /system until this Orthanc, known by its name, answers.
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			t.Fatalf("orthanc exited: %v\n%s", err, logs.String())
		default:
		}
		if orthancName(c, root) == name {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("orthanc not ready after 20 s\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// orthancName returns the Name of the Orthanc answering at root, or "".
func orthancName(c *Client, root string) string {
	req, _ := http.NewRequest(http.MethodGet, root+"/system", nil)
	resp, err := c.Do(req)
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	var sys struct{ Name string }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&sys) != nil {
		return ""
	}
	return sys.Name
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random: %v", err)
	}
	return hex.EncodeToString(b)
}

// freePort returns a TCP port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// stowBody returns a STOW-RS body of the given files and its Content-Type.
func stowBody(t *testing.T, files ...string) (*bytes.Buffer, string) {
	t.Helper()
	var body bytes.Buffer
	sw := NewStowWriter(&body)
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(realDir, f))
		if err != nil {
			t.Fatalf("reading real test data (the qc package keeps it in testdata/real): %v",
				err)
		}
		w, err := sw.CreatePart()
		if err != nil {
			t.Fatalf("CreatePart() = %v", err)
		}
		w.Write(data)
	}
	if err := sw.Close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return &body, sw.ContentType()
}

// The CR image of the highdicom-cr-binary-no-frame-of-reference case, with
// values read by dcmdump from the file.
const (
	crFile        = "highdicom-cr-binary-no-frame-of-reference/source/CR1_6154.dcm"
	crStudyUID    = "1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.1"
	crSOP         = "1.3.6.1.4.1.5962.1.1.0.0.0.1196527414.5534.0.11"
	crDescription = "XR C Spine Comp Min 4 Views"
	ctFile        = "dcmqi-ct-liver-binary/source/ct-3slice-01.dcm"
)

// TestOrthanc runs the client against a real Orthanc 1.10 with its
// DICOMweb plugin.
func TestOrthanc(t *testing.T) {
	c := startOrthanc(t)
	ctx := context.Background()

	t.Run("store CT", func(t *testing.T) {
		body, ct := stowBody(t, ctFile)
		got, status, err := c.Store(ctx, "", ct, body)
		if err != nil || status != http.StatusOK {
			t.Fatalf("Store() = %d, %v, want 200", status, err)
		}
		if len(got.Referenced) != 1 || got.Referenced[0].SOPInstanceUID != ctSOP1 ||
			got.Referenced[0].SOPClassUID != ctImageSOP || len(got.Failed) != 0 {
			t.Fatalf("Store() answer = %+v, want %s stored", got, ctSOP1)
		}
		wantURL := "/dicom-web/studies/" + ctStudyUID + "/series/" + ctSeriesUID +
			"/instances/" + ctSOP1
		if !strings.HasSuffix(got.Referenced[0].RetrieveURL, wantURL) {
			t.Errorf("Retrieve URL = %q, want it to end in %q", got.Referenced[0].RetrieveURL,
				wantURL)
		}
	})

	t.Run("series metadata", func(t *testing.T) {
		got, err := c.SeriesMetadata(ctx, ctStudyUID, ctSeriesUID)
		if err != nil {
			t.Fatalf("SeriesMetadata() = %v", err)
		}
		if len(got) != 1 {
			t.Fatalf("SeriesMetadata() gave %d instances, want 1", len(got))
		}
		checkCTMetadata(t, got)

		got, err = c.SeriesMetadata(ctx, "", ctSeriesUID)
		if err != nil || len(got) != 1 {
			t.Fatalf("SeriesMetadata() without study = %d instances, %v, want 1", len(got), err)
		}
		_, err = c.SeriesMetadata(ctx, ctStudyUID, "1.2.3.999")
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("SeriesMetadata() of an unknown series = %v, want %v", err, ErrNotFound)
		}
		_, err = c.SeriesMetadata(ctx, "", "1.2.3.999")
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("SeriesMetadata() of an unknown series, no study = %v, want %v", err,
				ErrNotFound)
		}
	})

	t.Run("series metadata gzip", func(t *testing.T) {
		rt := &gzipAsker{}
		gc := *c
		gc.HTTP = &http.Client{Transport: rt}
		got, err := gc.SeriesMetadata(ctx, ctStudyUID, ctSeriesUID)
		if err != nil {
			t.Fatalf("SeriesMetadata() asking gzip itself = %v", err)
		}
		if rt.encoding != "gzip" {
			t.Errorf("orthanc answered with Content-Encoding %q, want gzip", rt.encoding)
		}
		checkCTMetadata(t, got)
	})

	t.Run("other study", func(t *testing.T) {
		body, ct := stowBody(t, crFile)
		got, status, err := c.Store(ctx, ctStudyUID, ct, body)
		if err != nil || status != http.StatusConflict {
			t.Fatalf("Store() to another study = %d, %v, want 409", status, err)
		}
		if len(got.Failed) != 1 || got.Failed[0].SOPInstanceUID != crSOP ||
			got.Failed[0].FailureReason != FailureProcessing {
			t.Errorf("Store() answer = %+v, want %s failed with 0110H", got, crSOP)
		}
	})

	t.Run("QIDO repair", func(t *testing.T) {
		body, ct := stowBody(t, crFile)
		if _, status, err := c.Store(ctx, "", ct, body); err != nil || status != 200 {
			t.Fatalf("Store() = %d, %v, want 200", status, err)
		}

		raw := "StudyInstanceUID=" + crStudyUID + "&includefield=00081030%2C00080060"
		if v := orthancVersion(t, c); strings.HasPrefix(v, "1.10.") {
			got, err := c.Search(ctx, "studies", raw)
			if err != nil || len(got) != 1 {
				t.Fatalf("Search(%q) = %d results, %v, want 1", raw, len(got), err)
			}
			if d := got[0].String("00081030"); d != "" {
				t.Errorf("orthanc %s gave StudyDescription %q without repair; the defect "+
					"RepairQuery works around seems gone", v, d)
			}
		}

		tests := []struct {
			query     string
			wantCount int
		}{
			{raw, 1},
			{"StudyDescription=XR%20C%20Spine%2A&includefield=00081030", 1},
			{"StudyDescription=XR+C+Spine*&includefield=00081030", 1},
			{"PatientName=Doe%5EArch%2A&includefield=00081030", 1},
			{"PatientName=Doe%5EArchibald&includefield=00081030", 1},
			{"StudyDescription=XR%20C%20Spine&includefield=00081030", 0},
		}
		for _, tt := range tests {
			q := RepairQuery(tt.query)
			got, err := c.Search(ctx, "studies", q)
			if err != nil {
				t.Fatalf("Search(%q) = %v", q, err)
			}
			if len(got) != tt.wantCount {
				t.Errorf("Search(RepairQuery(%q)) = %d results, want %d", tt.query, len(got),
					tt.wantCount)
				continue
			}
			if tt.wantCount == 1 && got[0].String("00081030") != crDescription {
				t.Errorf("Search(RepairQuery(%q)) StudyDescription = %q, want %q", tt.query,
					got[0].String("00081030"), crDescription)
			}
		}
	})

	t.Run("tag metadata", func(t *testing.T) {
		if err := c.OrthancSetMetadata(ctx, ctSOP1, "QCDecision", "accepted"); err != nil {
			t.Fatalf("OrthancSetMetadata() = %v", err)
		}
		if err := c.OrthancSetMetadata(ctx, ctSOP1, "QCReport", "/qc/v1/reports/x"); err != nil {
			t.Fatalf("OrthancSetMetadata() = %v", err)
		}
		got, err := c.OrthancMetadata(ctx, ctSOP1, "QCDecision")
		if err != nil || got != "accepted" {
			t.Errorf("OrthancMetadata(QCDecision) = %q, %v, want accepted", got, err)
		}
		err = c.OrthancSetMetadata(ctx, "1.2.3.999", "QCDecision", "accepted")
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("OrthancSetMetadata() of an unknown instance = %v, want %v", err,
				ErrNotFound)
		}
	})

	t.Run("wrong credentials", func(t *testing.T) {
		bad := *c
		bad.Password = "wrong"
		err := bad.Ping(ctx)
		var se *StatusError
		if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
			t.Errorf("Ping() with a wrong password = %v, want a StatusError 401", err)
		}
		if err := c.Ping(ctx); err != nil {
			t.Errorf("Ping() = %v", err)
		}
	})
}

// orthancVersion returns the version Orthanc reports in /system.
func orthancVersion(t *testing.T, c *Client) string {
	t.Helper()
	root := c.orthancRoot().String()
	req, _ := http.NewRequest(http.MethodGet, root+"/system", nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET /system: %v", err)
	}
	defer resp.Body.Close()
	var sys struct{ Version string }
	json.NewDecoder(resp.Body).Decode(&sys)
	return sys.Version
}

// gzipAsker asks for gzip itself, so that net/http leaves the answer
// compressed, and records the answer's Content-Encoding.
type gzipAsker struct {
	encoding string
}

func (g *gzipAsker) RoundTrip(req *http.Request) (*http.Response, error) {
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil {
		g.encoding = resp.Header.Get("Content-Encoding")
	}
	return resp, err
}
