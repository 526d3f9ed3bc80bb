package luafilter

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/qcgate/qcgate/integration/harness"
)

// Real test files and their SOP Instance UIDs, as listed in
// qc/testdata/real/MANIFEST.md.
const (
	realData = "../../qc/testdata/real/"

	segFile      = realData + "dcmqi-ct-liver-binary/liver.dcm"
	segUID       = "1.2.276.0.7230010.3.1.4.0.42154.1458337731.665796"
	labelmapFile = realData + "dcmqi-24x38x3-labelmap-sparse-ppv5/sparse-labelmap-ppv5.dcm"
	labelmapUID  = "1.2.276.0.7230010.3.1.4.8323329.114908.1781279372.413280"

	ct1File = realData + "dcmqi-ct-liver-binary/source/ct-3slice-01.dcm"
	ct1UID  = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23431.1"
	ct2File = realData + "dcmqi-ct-liver-binary/source/ct-3slice-02.dcm"
	ct2UID  = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23432.1"
	ct3File = realData + "dcmqi-ct-liver-binary/source/ct-3slice-03.dcm"
	ct3UID  = "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1"
)

// Ways an instance is pushed into Orthanc.
const (
	viaSTOW   = "STOW-RS" // POST /dicom-web/studies
	viaREST   = "REST"    // POST /instances
	viaCSTORE = "C-STORE" // storescu to the DICOM port
	viaWebDAV = "WebDAV"  // PUT /webdav/uploads/...
)

// TestSEGFilter pushes real SEG and CT instances into an Orthanc running
// the filter by every way Orthanc offers, and checks which ones it keeps.
// The cases run in order: every refused SEG is refused before the gateway's
// user stores the same instance at the end, and a SEG stored by mistake is
// removed again so that each case stands alone.
func TestSEGFilter(t *testing.T) {
	o := startOrthanc(t, true)
	storescu, err := exec.LookPath("storescu")
	if err != nil {
		need(t, "/usr/bin/storescu")
	}

	tests := []struct {
		name string
		via  string
		user string // gatewayUser or otherUser; unused for C-STORE
		file string
		uid  string
		// wantREST is Orthanc's "Status" answer to POST /instances.
		wantREST   string
		wantStored bool
	}{
		{"SEG by STOW-RS from another user", viaSTOW, otherUser, segFile, segUID, "", false},
		{"SEG by STOW-RS from the gateway user", viaSTOW, gatewayUser, segFile, segUID, "", false},
		{"SEG by REST from another user", viaREST, otherUser, segFile, segUID,
			"FilteredOut", false},
		{"SEG by C-STORE", viaCSTORE, "", segFile, segUID, "", false},
		{"SEG by WebDAV from another user", viaWebDAV, otherUser, segFile, segUID, "", false},
		{"label map SEG by REST from another user", viaREST, otherUser, labelmapFile, labelmapUID,
			"FilteredOut", false},
		{"label map SEG by STOW-RS from the gateway user", viaSTOW, gatewayUser, labelmapFile,
			labelmapUID, "", false},
		{"CT by REST from another user", viaREST, otherUser, ct1File, ct1UID, "Success", true},
		{"CT by STOW-RS from another user", viaSTOW, otherUser, ct2File, ct2UID, "", true},
		{"CT by C-STORE", viaCSTORE, "", ct3File, ct3UID, "", true},
		{"SEG by REST from the gateway user", viaREST, gatewayUser, segFile, segUID,
			"Success", true},
		{"label map SEG by REST from the gateway user", viaREST, gatewayUser, labelmapFile,
			labelmapUID, "Success", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatalf("reading %s: %v", tt.file, err)
			}
			if o.stored(t, tt.uid) {
				t.Fatalf("instance %s is stored before the upload", tt.uid)
			}
			client := o.other
			if tt.user == gatewayUser {
				client = o.gw
			}

			switch tt.via {
			case viaSTOW:
				// Orthanc 1.10 answers 200 and lists the instance as stored
				// even when the filter refused it.
				resp := client.STOW(t, "/dicom-web/studies", harness.Multipart(
					harness.Part{ContentType: harness.MediaTypeDICOM, Data: data}))
				resp.RequireStatus(t, http.StatusOK)
			case viaREST:
				resp := client.Do(t, http.MethodPost, "/instances", bytes.NewReader(data), nil)
				resp.RequireStatus(t, http.StatusOK)
				var answer struct{ Status string }
				if err := json.Unmarshal(resp.Body, &answer); err != nil {
					t.Fatalf("decoding POST /instances answer %q: %v", resp.Body, err)
				}
				if answer.Status != tt.wantREST {
					t.Errorf("POST /instances Status = %q, want %q", answer.Status, tt.wantREST)
				}
			case viaCSTORE:
				// Orthanc 1.10 answers a refused C-STORE with Success too.
				out, err := exec.Command(storescu, "--required", "-aet", "QCGATESCU",
					"-aec", calledAET, "127.0.0.1", strconv.Itoa(o.dicomPort),
					tt.file).CombinedOutput()
				if err != nil {
					t.Fatalf("storescu %s: %v\n%s", tt.file, err, out)
				}
			case viaWebDAV:
				// Uploads are read from the WebDAV folder after the answer:
				// wait until the instance is stored or the filter's log
				// line says it refused it.
				resp := client.Do(t, http.MethodPut, "/webdav/uploads/"+filepath.Base(tt.file),
					bytes.NewReader(data), nil)
				resp.RequireStatus(t, http.StatusCreated, http.StatusOK)
				if !o.waitFor(func() bool {
					return o.stored(t, tt.uid) || strings.Contains(o.log(t), "received by WebDav")
				}) {
					t.Fatalf("WebDAV upload neither stored nor refused after 10 s")
				}
			}

			got := o.stored(t, tt.uid)
			if got != tt.wantStored {
				t.Errorf("stored after %s = %v, want %v", tt.via, got, tt.wantStored)
			}
			// QIDO-RS, as the gateway and viewers see the archive.
			matches := o.gw.QIDO(t, "/dicom-web/instances?SOPInstanceUID="+tt.uid)
			if want := map[bool]int{false: 0, true: 1}[tt.wantStored]; len(matches) != want {
				t.Errorf("QIDO-RS matches after %s = %d, want %d", tt.via, len(matches), want)
			}
			// An instance stored by mistake is removed, so that the next
			// cases test their own way in.
			if got && !tt.wantStored {
				o.remove(t, tt.uid)
			}
		})
	}
}

// TestSEGFilterREST checks the REST API routes around the filter: running
// Lua is disabled, and modifying a stored CT into a SEG is refused like
// any other SEG.
func TestSEGFilterREST(t *testing.T) {
	o := startOrthanc(t, true)
	data, err := os.ReadFile(ct1File)
	if err != nil {
		t.Fatalf("reading %s: %v", ct1File, err)
	}
	resp := o.other.Do(t, http.MethodPost, "/instances", bytes.NewReader(data), nil)
	resp.RequireStatus(t, http.StatusOK)
	var stored struct{ ParentStudy string }
	if err := json.Unmarshal(resp.Body, &stored); err != nil || stored.ParentStudy == "" {
		t.Fatalf("decoding POST /instances answer %q: %v", resp.Body, err)
	}

	// A user who could run Lua could replace the filter.
	script := o.other.Do(t, http.MethodPost, "/tools/execute-script",
		bytes.NewReader([]byte("function ReceivedInstanceFilter() return true end")), nil)
	if script.Status != http.StatusForbidden {
		t.Errorf("POST /tools/execute-script status = %d, want 403", script.Status)
	}

	before := o.countInstances(t)
	for _, c := range []*harness.Client{o.other, o.gw} {
		body := `{"Replace": {"SOPClassUID": "1.2.840.10008.5.1.4.1.1.66.4", "Modality": "SEG"},` +
			` "Force": true}`
		mod := c.Do(t, http.MethodPost, "/studies/"+stored.ParentStudy+"/modify",
			bytes.NewReader([]byte(body)), nil)
		if c == o.other && mod.Status == http.StatusOK {
			t.Errorf("modify into a SEG by %s = 200, want a refusal", c.User)
		}
	}
	// Only the gateway's own modification may add an instance.
	if got := o.countInstances(t); got != before+1 {
		t.Errorf("instances after the modifications = %d, want %d", got, before+1)
	}
}

// TestSEGFilterWithoutUser checks that the filter refuses every SEG when no
// gateway user is configured, and lets other instances through.
func TestSEGFilterWithoutUser(t *testing.T) {
	o := startOrthanc(t, false)
	if !o.waitFor(func() bool {
		return strings.Contains(o.log(t), "GatewayUser is not set: every SEG is refused")
	}) {
		t.Errorf("Orthanc log lacks the filter's warning about the missing user")
	}
	for _, c := range []struct {
		file, uid, want string
	}{
		{segFile, segUID, "FilteredOut"},
		{ct1File, ct1UID, "Success"},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatalf("reading %s: %v", c.file, err)
		}
		resp := o.gw.Do(t, http.MethodPost, "/instances", bytes.NewReader(data), nil)
		resp.RequireStatus(t, http.StatusOK)
		var answer struct{ Status string }
		if err := json.Unmarshal(resp.Body, &answer); err != nil {
			t.Fatalf("decoding answer %q: %v", resp.Body, err)
		}
		if answer.Status != c.want {
			t.Errorf("POST /instances %s by %s: Status = %q, want %q",
				filepath.Base(c.file), gatewayUser, answer.Status, c.want)
		}
		if got, want := o.stored(t, c.uid), c.want == "Success"; got != want {
			t.Errorf("stored(%s) = %v, want %v", filepath.Base(c.file), got, want)
		}
	}
}
