package integration

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/integration/harness"
)

// TestSourcesFirstThenSEG sends the liver case the way an annotation tool
// does: the CT series is in the archive, then the SEG comes on its own and
// is checked against the series' metadata fetched from Orthanc.
func TestSourcesFirstThenSEG(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})

	got := e.requireStow(t, http.StatusOK, liverSources...)
	if diff := cmp.Diff(sorted(liverSourceSOPs), got.stored); diff != "" {
		t.Fatalf("stored sources (-want +got):\n%s", diff)
	}

	resp := e.gw.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, liverSEG)))
	if resp.Status != http.StatusOK {
		t.Fatalf("STOW of liver.dcm = %d, want 200; Warning: %q; body: %s",
			resp.Status, resp.Header.Values("Warning"), resp.Snippet())
	}
	answer := readStow(t, resp)
	if diff := cmp.Diff([]string{liverSOP}, answer.stored); diff != "" {
		t.Errorf("stored SEG (-want +got):\n%s", diff)
	}
	if len(answer.failedItems) != 0 {
		t.Errorf("Failed SOP Sequence = %v, want none", answer.failed)
	}
	if w := warnings(resp); len(w) != 0 {
		t.Errorf("Warning headers = %q, want none for an accepted SEG", w)
	}

	// QIDO-RS through the gateway finds the SEG series in the study.
	series := e.gw.QIDO(t, "/dicom-web/studies/"+liverStudy+"/series?Modality=SEG")
	var uids []string
	for _, s := range series {
		uids = append(uids, s.String(harness.TagSeriesInstanceUID))
	}
	if diff := cmp.Diff([]string{liverSeries}, uids); diff != "" {
		t.Errorf("QIDO SEG series of the study (-want +got):\n%s", diff)
	}

	r := e.report(t, liverSOP)
	checkLiverReport(t, r)
	checkTagged(t, e, liverSOP, "accepted", r.ReportID)
}

// checkTagged checks that Orthanc holds the SEG with the user metadata the
// gateway writes: its decision and the ID of its report. The gateway may
// tag after answering, one item after the other, so this waits up to 5 s
// for both.
func checkTagged(t *testing.T, e *env, sopInstanceUID, decision string, reportID int64) {
	t.Helper()
	id := e.orthanc.InstanceID(t, sopInstanceUID)
	if id == "" {
		t.Fatalf("Orthanc does not hold %s", sopInstanceUID)
	}
	var gotDecision, gotReport string
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
		gotDecision, _ = e.orthanc.Metadata(t, id, harness.MetadataQCDecision)
		gotReport, _ = e.orthanc.Metadata(t, id, harness.MetadataQCReport)
		if gotDecision != "" && gotReport != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if gotDecision != decision {
		t.Errorf("Orthanc metadata %s of %s = %q, want %q",
			harness.MetadataQCDecision, sopInstanceUID, gotDecision, decision)
	}
	if want := strconv.FormatInt(reportID, 10); gotReport != want {
		t.Errorf("Orthanc metadata %s of %s = %q, want the report ID %s",
			harness.MetadataQCReport, sopInstanceUID, gotReport, want)
	}
}

// checkLiverReport checks the report of liver.dcm against the facts of
// MANIFEST.md: one segment "Liver" on three frames, 107098 pixels.
func checkLiverReport(t *testing.T, r report) {
	t.Helper()
	if r.Decision != "accepted" || !r.Stored {
		t.Errorf("decision = %q, stored = %v, want accepted and stored; findings: %+v",
			r.Decision, r.Stored, r.Findings)
	}
	if r.SOPInstanceUID != liverSOP || r.SeriesInstanceUID != liverSeries ||
		r.StudyInstanceUID != liverStudy || r.SOPClassUID != segmentationStorage {
		t.Errorf("report UIDs = %s %s %s %s, want %s %s %s %s",
			r.SOPInstanceUID, r.SeriesInstanceUID, r.StudyInstanceUID, r.SOPClassUID,
			liverSOP, liverSeries, liverStudy, segmentationStorage)
	}
	if diff := cmp.Diff([]string{liverSourceSeries}, r.SourceSeriesUIDs); diff != "" {
		t.Errorf("source_series_uids (-want +got):\n%s", diff)
	}
	if r.SegmentationType != "BINARY" {
		t.Errorf("segmentation_type = %q, want BINARY", r.SegmentationType)
	}
	if len(r.Segments) != 1 {
		t.Fatalf("report has %d segments, want 1", len(r.Segments))
	}
	s := r.Segments[0]
	if s.Number != 1 || s.Label != "Liver" || s.Frames != 3 || s.Voxels != liverVoxels {
		t.Errorf("segment = %+v, want number 1, label Liver, 3 frames, %d voxels", s, liverVoxels)
	}
}

// TestSourcesAndSEGInOneRequest sends sources and SEG in one request: the
// SEG is checked against the sources met in the same request.
func TestSourcesAndSEGInOneRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})

	files := append(slices.Clone(liverSources), liverSEG)
	got := e.requireStow(t, http.StatusOK, files...)
	want := sorted(append(slices.Clone(liverSourceSOPs), liverSOP))
	if diff := cmp.Diff(want, got.stored); diff != "" {
		t.Errorf("stored instances (-want +got):\n%s", diff)
	}
	for _, uid := range want {
		if !e.heldByOrthanc(t, uid) {
			t.Errorf("Orthanc does not hold %s", uid)
		}
	}
	checkLiverReport(t, e.report(t, liverSOP))
}

// TestSEGWithoutSources sends a real SEG whose 32 MR source images are
// nowhere: it is rejected, and nothing is stored.
func TestSEGWithoutSources(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})

	resp := e.gw.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, gbmSEG)))
	if resp.Status != http.StatusConflict {
		t.Fatalf("STOW of a SEG without sources = %d, want 409; body: %s",
			resp.Status, resp.Snippet())
	}
	answer := readStow(t, resp)
	if len(answer.stored) != 0 {
		t.Errorf("Referenced SOP Sequence = %v, want empty", answer.stored)
	}
	checkRejectedItem(t, answer, gbmSOP)
	checkWarning(t, resp, gbmSOP)

	if e.qidoInstance(t, gbmSOP) {
		t.Errorf("QIDO through the gateway finds the rejected SEG %s", gbmSOP)
	}
	if e.heldByOrthanc(t, gbmSOP) {
		t.Errorf("Orthanc holds the rejected SEG %s", gbmSOP)
	}
	if n := e.orthanc.Statistics(t).CountInstances; n != 0 {
		t.Errorf("Orthanc holds %d instances, want 0", n)
	}

	r := e.report(t, gbmSOP)
	if r.Decision != "rejected" || r.Stored {
		t.Errorf("decision = %q, stored = %v, want rejected and not stored", r.Decision, r.Stored)
	}
	if len(r.errorRules()) == 0 {
		t.Errorf("report of the rejected SEG has no error finding: %+v", r.Findings)
	}
	if len(r.Segments) != 3 {
		t.Errorf("report has %d segments, want 3", len(r.Segments))
	}
}

// checkRejectedItem checks the Failed SOP Sequence item of a SEG rejected by
// QC (PS3.18 10.5.3): its SOP Class and the documented Failure Reason of a
// QC policy rejection.
func checkRejectedItem(t *testing.T, a stowAnswer, sopInstanceUID string) {
	t.Helper()
	reason, ok := a.failed[sopInstanceUID]
	if !ok {
		t.Fatalf("Failed SOP Sequence lists %v, want %s", a.failed, sopInstanceUID)
	}
	if reason != dicomweb.FailureQCRejected {
		t.Errorf("Failure Reason of %s = %#x, want %#x (QC policy rejection)",
			sopInstanceUID, reason, dicomweb.FailureQCRejected)
	}
	for _, item := range a.failedItems {
		if item.String(harness.TagReferencedSOPInstanceUID) != sopInstanceUID {
			continue
		}
		if got := item.String(harness.TagReferencedSOPClassUID); got != segmentationStorage {
			t.Errorf("failed item's SOP Class UID = %q, want %s", got, segmentationStorage)
		}
	}
}

// checkWarning checks that the answer has a Warning header of the gateway
// naming the rejected SEG's report URL.
func checkWarning(t *testing.T, resp *harness.Response, sopInstanceUID string) {
	t.Helper()
	for _, w := range warnings(resp) {
		if strings.Contains(w, "/qc/v1/reports/"+sopInstanceUID) {
			return
		}
	}
	t.Errorf("Warning headers = %q, want one `299 qcgate \"...\"` naming /qc/v1/reports/%s",
		resp.Header.Values("Warning"), sopInstanceUID)
}

// TestMixStoredAndRejected sends a good CT and a SEG without sources in one
// request: 202, the CT stored, the SEG listed as failed.
func TestMixStoredAndRejected(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})

	resp := e.gw.STOW(t, "/dicom-web/studies",
		harness.Multipart(harness.FileParts(t, ctImage, gbmSEG)...))
	if resp.Status != http.StatusAccepted {
		t.Fatalf("STOW of a good CT and a rejected SEG = %d, want 202; body: %s",
			resp.Status, resp.Snippet())
	}
	answer := readStow(t, resp)
	if diff := cmp.Diff([]string{ctImageSOP}, answer.stored); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
	checkRejectedItem(t, answer, gbmSOP)
	checkWarning(t, resp, gbmSOP)

	if !e.heldByOrthanc(t, ctImageSOP) {
		t.Errorf("Orthanc does not hold the CT %s", ctImageSOP)
	}
	if e.heldByOrthanc(t, gbmSOP) {
		t.Errorf("Orthanc holds the rejected SEG %s", gbmSOP)
	}
}

// TestRetrieveURLsPointAtGateway checks that no URL in STOW-RS answers and
// WADO-RS metadata names Orthanc's address: clients such as MONAI Label
// follow them.
func TestRetrieveURLsPointAtGateway(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})
	orthancAddr := "127.0.0.1:" + strconv.Itoa(e.orthanc.Port)

	answer := e.requireStow(t, http.StatusOK, ctImage)
	if len(answer.retrieveURLs) == 0 {
		t.Fatalf("STOW answer has no Retrieve URL")
	}
	for _, u := range answer.retrieveURLs {
		if !strings.HasPrefix(u, e.gateway.URL+"/dicom-web/studies/"+ctImageStudy) {
			t.Errorf("Retrieve URL %s, want it under %s/dicom-web/studies/%s",
				u, e.gateway.URL, ctImageStudy)
		}
	}

	// A Retrieve URL from the answer works through the gateway.
	resp := e.gw.Get(t, strings.TrimPrefix(answer.retrieveURLs[len(answer.retrieveURLs)-1],
		e.gateway.URL)+"/metadata", http.Header{"Accept": {harness.MediaTypeDICOMJSON}})
	resp.RequireStatus(t, http.StatusOK)
	if strings.Contains(string(resp.Body), orthancAddr) {
		t.Errorf("WADO-RS metadata through the gateway names Orthanc's address %s", orthancAddr)
	}
	if !strings.Contains(string(resp.Body), e.gateway.URL+"/dicom-web/") {
		t.Errorf("WADO-RS metadata has no BulkDataURI at the gateway; body: %s", resp.Snippet())
	}
}

// TestReportList checks the report list endpoint's filters on an accepted
// and a rejected SEG.
func TestReportList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, harness.GatewayOptions{})
	e.requireStow(t, http.StatusOK, append(slices.Clone(liverSources), liverSEG)...)
	e.requireStow(t, http.StatusConflict, gbmSEG)

	tests := []struct {
		query string
		want  []string
	}{
		{"", []string{gbmSOP, liverSOP}},
		{"?decision=rejected", []string{gbmSOP}},
		{"?decision=accepted", []string{liverSOP}},
		{"?StudyInstanceUID=" + liverStudy, []string{liverSOP}},
		{"?SeriesInstanceUID=" + gbmSeries, []string{gbmSOP}},
		{"?StudyInstanceUID=" + gbmStudy + "&decision=accepted", nil},
		{"?limit=1&offset=5", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			resp := e.gw.Get(t, "/qc/v1/reports"+tt.query, nil)
			resp.RequireStatus(t, http.StatusOK)
			var list struct {
				Reports []report `json:"reports"`
			}
			decodeJSON(t, resp, &list)
			var got []string
			for _, r := range list.Reports {
				got = append(got, r.SOPInstanceUID)
			}
			if diff := cmp.Diff(sorted(tt.want), sorted(got)); diff != "" {
				t.Errorf("GET /qc/v1/reports%s (-want +got):\n%s", tt.query, diff)
			}
		})
	}

	bad := []string{"?decision=maybe", "?limit=-1", "?color=blue", "?StudyInstanceUID=x%20y"}
	for _, bad := range bad {
		if resp := e.gw.Get(t, "/qc/v1/reports"+bad, nil); resp.Status != http.StatusBadRequest {
			t.Errorf("GET /qc/v1/reports%s = %d, want 400", bad, resp.Status)
		}
	}
	if resp := e.gw.Get(t, "/qc/v1/reports/"+ctImageSOP, nil); resp.Status != http.StatusNotFound {
		t.Errorf("report of an instance never checked = %d, want 404", resp.Status)
	}
}
