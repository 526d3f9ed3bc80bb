package integration

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/integration/harness"
)

// These tests talk to Orthanc directly. They prove the harness and pin the
// Orthanc 1.10 behaviour the gateway is built around, so a change of Orthanc
// shows here first.

// TestOrthancStoresCTDirectly stores one real CT image in Orthanc and finds
// it again with QIDO-RS and the REST API.
func TestOrthancStoresCTDirectly(t *testing.T) {
	t.Parallel()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	c := o.Client()

	resp := c.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, ctImage)))
	resp.RequireStatus(t, http.StatusOK)
	ds := resp.Dataset(t)
	stored := ds.Items(harness.TagReferencedSOPSequence)
	if len(stored) != 1 {
		t.Fatalf("Referenced SOP Sequence has %d items, want 1; body: %s",
			len(stored), resp.Snippet())
	}
	if got := stored[0].String(harness.TagReferencedSOPInstanceUID); got != ctImageSOP {
		t.Errorf("stored SOP Instance UID = %s, want %s", got, ctImageSOP)
	}

	// Orthanc builds Retrieve URLs from the Host header: its own address.
	// The gateway must rewrite them.
	if url := stored[0].String(harness.TagRetrieveURL); !strings.HasPrefix(url, o.URL+"/") {
		t.Errorf("Retrieve URL = %s, want it under %s", url, o.URL)
	}

	got := o.Statistics(t)
	want := harness.Statistics{CountPatients: 1, CountStudies: 1, CountSeries: 1, CountInstances: 1}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Orthanc statistics (-want +got):\n%s", diff)
	}

	matches := c.QIDO(t, "/dicom-web/instances?SOPInstanceUID="+ctImageSOP)
	if len(matches) != 1 {
		t.Fatalf("QIDO for %s found %d instances, want 1", ctImageSOP, len(matches))
	}
	if o.InstanceID(t, ctImageSOP) == "" {
		t.Errorf("Orthanc lookup of %s found no instance", ctImageSOP)
	}
}

// TestOrthancRequiresCredentials checks that the harness's Orthanc refuses
// requests without its random credentials: the gateway must send its own.
func TestOrthancRequiresCredentials(t *testing.T) {
	t.Parallel()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	anonymous := &harness.Client{BaseURL: o.URL}

	for _, path := range []string{"/system", "/dicom-web/studies", "/tools/execute-script"} {
		resp := anonymous.Get(t, path, nil)
		if resp.Status != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials = %d, want 401", path, resp.Status)
		}
	}
}

// TestOrthancPeerFacts pins the Orthanc 1.10 behaviours that the gateway
// works around.
func TestOrthancPeerFacts(t *testing.T) {
	t.Parallel()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	c := o.Client()
	c.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, ctImage))).
		RequireStatus(t, http.StatusOK)

	t.Run("part without DICOM gives 400 and is listed nowhere", func(t *testing.T) {
		body := harness.Multipart(harness.Part{
			ContentType: harness.MediaTypeDICOM,
			Data:        []byte("this is not a DICOM file"),
		})
		resp := c.STOW(t, "/dicom-web/studies", body)
		if resp.Status != http.StatusBadRequest {
			t.Errorf("STOW of a non-DICOM part = %d, want 400", resp.Status)
		}
	})

	t.Run("encoded includefield is taken literally", func(t *testing.T) {
		// OHIF's study list query; Orthanc 1.10 does not decode %2C, so
		// StudyDescription does not come back.
		plain := c.QIDO(t, "/dicom-web/studies?includefield=00081030,00080060")
		encoded := c.QIDO(t, "/dicom-web/studies?includefield=00081030%2C00080060")
		if len(plain) != 1 || len(encoded) != 1 {
			t.Fatalf("QIDO studies = %d and %d matches, want 1 and 1", len(plain), len(encoded))
		}
		if got := plain[0].String(harness.TagStudyDescription); got != ctImageStudyDescription {
			t.Errorf("StudyDescription with a plain comma = %q, want %q",
				got, ctImageStudyDescription)
		}
		if encoded[0].Has(harness.TagStudyDescription) {
			t.Errorf("StudyDescription came back for an encoded comma: Orthanc now decodes" +
				" query values, and the gateway's repair may be unneeded")
		}
	})

	t.Run("encoded wildcard is taken literally", func(t *testing.T) {
		plain := c.QIDO(t, "/dicom-web/studies?StudyDescription=e*")
		encoded := c.QIDO(t, "/dicom-web/studies?StudyDescription=e%2A")
		if len(plain) != 1 || len(encoded) != 0 {
			t.Errorf("QIDO StudyDescription=e* and e%%2A = %d and %d matches, want 1 and 0",
				len(plain), len(encoded))
		}
	})

	t.Run("metadata names Orthanc's address in BulkDataURIs", func(t *testing.T) {
		resp := c.Get(t, "/dicom-web/studies/"+ctImageStudy+"/metadata",
			http.Header{"Accept": {harness.MediaTypeDICOMJSON}})
		resp.RequireStatus(t, http.StatusOK)
		if !strings.Contains(string(resp.Body), `"BulkDataURI"`) ||
			!strings.Contains(string(resp.Body), o.URL+"/dicom-web/") {
			t.Errorf("metadata has no BulkDataURI under %s; body: %s", o.URL, resp.Snippet())
		}
	})

	t.Run("instance of another study gives 409 with reason 0x0110", func(t *testing.T) {
		resp := c.STOW(t, "/dicom-web/studies/1.2.3.4.5.6.7.8.9",
			harness.Multipart(harness.FilePart(t, ctImage)))
		if resp.Status != http.StatusConflict {
			t.Fatalf("STOW to another study = %d, want 409; body: %s",
				resp.Status, resp.Snippet())
		}
		failed := resp.Dataset(t).Items(harness.TagFailedSOPSequence)
		if len(failed) != 1 {
			t.Fatalf("Failed SOP Sequence has %d items, want 1", len(failed))
		}
		if got, _ := failed[0].Int(harness.TagFailureReason); got != 0x0110 {
			t.Errorf("Failure Reason = %#x, want 0x0110", got)
		}
	})
}

// TestOrthancStoresCopies stores copies of the CT made by the benchmarks'
// UID rewriting: Orthanc takes each as a new instance.
func TestOrthancStoresCopies(t *testing.T) {
	t.Parallel()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	copies, err := harness.NewCopies(readFile(t, ctImage), ctImageSOP)
	if err != nil {
		t.Fatalf("NewCopies() error = %v", err)
	}
	var parts []harness.Part
	var want []string
	for i := range 3 {
		part := harness.Part{ContentType: harness.MediaTypeDICOM, Data: copies.Copy(i)}
		parts = append(parts, part)
		want = append(want, copies.UID(i))
	}
	resp := o.Client().STOW(t, "/dicom-web/studies", harness.Multipart(parts...))
	resp.RequireStatus(t, http.StatusOK)
	if diff := cmp.Diff(sorted(want), readStow(t, resp).stored); diff != "" {
		t.Errorf("stored copies (-want +got):\n%s", diff)
	}
	if n := o.Statistics(t).CountInstances; n != 3 {
		t.Errorf("Orthanc holds %d instances, want 3", n)
	}
}
