package integration

import (
	"net/http"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/integration/harness"
)

// segFilterScript is the Orthanc SEG filter of the deployment files.
const segFilterScript = "../docker/orthanc-seg-filter.lua"

// TestGatewayWithSEGFilter runs the deployment that closes Orthanc to SEGs
// that bypass the gateway: Orthanc loads docker/orthanc-seg-filter.lua with
// the gateway's user, and the gateway stores accepted SEGs through Orthanc's
// REST API (seg_store orthanc_rest). The liver SEG sent through the gateway
// is stored and tagged; the same kind of SEG sent to Orthanc by STOW-RS with
// the same credentials is dropped by the filter.
func TestGatewayWithSEGFilter(t *testing.T) {
	t.Parallel()
	script, err := filepath.Abs(segFilterScript)
	if err != nil {
		t.Fatalf("locating the filter: %v", err)
	}
	// The harness's random user becomes the filter's gateway user through
	// Orthanc's ${...} substitution, as docker/orthanc.json does.
	o := harness.StartOrthanc(t, harness.OrthancOptions{Config: map[string]any{
		"LuaScripts":      []string{script},
		"QcgateSegFilter": map[string]any{"GatewayUser": "${" + harness.EnvOrthancUser + "}"},
	}})
	g := harness.StartGateway(t, o, harness.GatewayOptions{Settings: map[string]string{
		"seg_store": "orthanc_rest",
	}})
	e := &env{orthanc: o, gateway: g, gw: g.Client(), direct: o.Client()}

	files := append(slices.Clone(liverSources), liverSEG)
	got := e.requireStow(t, http.StatusOK, files...)
	want := sorted(append(slices.Clone(liverSourceSOPs), liverSOP))
	if diff := cmp.Diff(want, got.stored); diff != "" {
		t.Errorf("stored through the gateway (-want +got):\n%s", diff)
	}
	r := e.report(t, liverSOP)
	checkLiverReport(t, r)
	checkTagged(t, e, liverSOP, "accepted", r.ReportID)
	if !e.qidoInstance(t, liverSOP) {
		t.Errorf("QIDO through the gateway does not find the SEG %s", liverSOP)
	}

	// Straight to Orthanc, another SEG of the same sources is dropped,
	// though Orthanc 1.10 answers STOW-RS as if it were stored.
	other := realFile("pydicom-liver-rle", "liver_rle.dcm")
	const otherSOP = "1.2.826.0.1.3680043.8.498.82711305854074511338642534035912131284"
	e.direct.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FilePart(t, other)))
	if e.heldByOrthanc(t, otherSOP) {
		t.Errorf("Orthanc holds the SEG %s sent around the gateway", otherSOP)
	}
}
