package integration

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/qcgate/qcgate/integration/harness"
)

// SOP Class UIDs (PS3.4 B.5).
const (
	segmentationStorage = "1.2.840.10008.5.1.4.1.1.66.4"
	ctImageStorage      = "1.2.840.10008.5.1.4.1.1.2"
)

// env is an Orthanc with a gateway in front of it.
type env struct {
	orthanc *harness.Orthanc
	gateway *harness.Gateway
	// gw is a client of the gateway, direct one of Orthanc.
	gw     *harness.Client
	direct *harness.Client
}

// newEnv starts an Orthanc and a gateway in front of it for the test.
func newEnv(t *testing.T, opts harness.GatewayOptions) *env {
	t.Helper()
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	g := harness.StartGateway(t, o, opts)
	return &env{orthanc: o, gateway: g, gw: g.Client(), direct: o.Client()}
}

// stowAnswer is what a STOW-RS answer (PS3.18 10.5.3) lists.
type stowAnswer struct {
	// stored are the SOP Instance UIDs of Referenced SOP Sequence.
	stored []string
	// failed maps the SOP Instance UIDs of Failed SOP Sequence items to
	// their Failure Reason (-1 when absent); items without a UID are under
	// "".
	failed map[string]int
	// failedItems are the items of Failed SOP Sequence.
	failedItems []harness.Dataset
	// retrieveURLs are every Retrieve URL of the answer, top level first.
	retrieveURLs []string
}

// readStow decodes a STOW-RS answer.
func readStow(t *testing.T, resp *harness.Response) stowAnswer {
	t.Helper()
	ds := resp.Dataset(t)
	a := stowAnswer{failed: map[string]int{}}
	a.retrieveURLs = append(a.retrieveURLs, ds.Strings(harness.TagRetrieveURL)...)
	for _, item := range ds.Items(harness.TagReferencedSOPSequence) {
		a.stored = append(a.stored, item.String(harness.TagReferencedSOPInstanceUID))
		a.retrieveURLs = append(a.retrieveURLs, item.Strings(harness.TagRetrieveURL)...)
	}
	for _, item := range ds.Items(harness.TagFailedSOPSequence) {
		reason, ok := item.Int(harness.TagFailureReason)
		if !ok {
			reason = -1
		}
		a.failed[item.String(harness.TagReferencedSOPInstanceUID)] = reason
		a.failedItems = append(a.failedItems, item)
	}
	slices.Sort(a.stored)
	return a
}

// sorted returns a sorted copy.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// requireStow sends files through the gateway in one STOW-RS request and
// requires the status.
func (e *env) requireStow(t *testing.T, want int, files ...string) stowAnswer {
	t.Helper()
	resp := e.gw.STOW(t, "/dicom-web/studies", harness.Multipart(harness.FileParts(t, files...)...))
	if resp.Status != want {
		t.Fatalf("STOW of %d file(s) through the gateway = %d, want %d; Warning: %q; body: %s",
			len(files), resp.Status, want, resp.Header.Values("Warning"), resp.Snippet())
	}
	return readStow(t, resp)
}

// heldByOrthanc reports whether Orthanc holds the instance, asked directly
// with its own credentials.
func (e *env) heldByOrthanc(t *testing.T, sopInstanceUID string) bool {
	t.Helper()
	return e.orthanc.InstanceID(t, sopInstanceUID) != ""
}

// qidoInstance reports whether a QIDO-RS search through the gateway finds
// the instance.
func (e *env) qidoInstance(t *testing.T, sopInstanceUID string) bool {
	t.Helper()
	found := e.gw.QIDO(t, "/dicom-web/instances?SOPInstanceUID="+sopInstanceUID)
	for _, d := range found {
		if d.String(harness.TagSOPInstanceUID) == sopInstanceUID {
			return true
		}
	}
	return false
}

// report is the part of the report object (README, "Reports") the tests
// read.
type report struct {
	SOPInstanceUID    string   `json:"sop_instance_uid"`
	SOPClassUID       string   `json:"sop_class_uid"`
	StudyInstanceUID  string   `json:"study_instance_uid"`
	SeriesInstanceUID string   `json:"series_instance_uid"`
	SourceSeriesUIDs  []string `json:"source_series_uids"`
	Decision          string   `json:"decision"`
	SegmentationType  string   `json:"segmentation_type"`
	Segments          []struct {
		Number int    `json:"number"`
		Label  string `json:"label"`
		Frames int    `json:"frames"`
		Voxels int64  `json:"voxels"`
	} `json:"segments"`
	Findings []struct {
		Rule     string `json:"rule"`
		Severity string `json:"severity"`
		Message  string `json:"message"`
	} `json:"findings"`
	// ReportID and Stored are what the report API adds to the report: the
	// store's ID of the report, and whether the archive holds the SEG.
	ReportID int64 `json:"report_id"`
	Stored   bool  `json:"stored"`
}

// errorRules are the rule ids of the report's error findings.
func (r report) errorRules() []string {
	var out []string
	for _, f := range r.Findings {
		if f.Severity == "error" {
			out = append(out, f.Rule)
		}
	}
	return out
}

// voxels is the sum of the segments' voxel counts.
func (r report) voxels() int64 {
	var n int64
	for _, s := range r.Segments {
		n += s.Voxels
	}
	return n
}

// report fetches a SEG's report through the gateway's report API.
func (e *env) report(t *testing.T, sopInstanceUID string) report {
	t.Helper()
	resp := e.gw.Get(t, "/qc/v1/reports/"+sopInstanceUID, nil)
	resp.RequireStatus(t, http.StatusOK)
	var r report
	decodeJSON(t, resp, &r)
	return r
}

// warnings are the Warning headers (RFC 9111 5.5) of an answer that the
// gateway set: warn-code 299 and warn-agent qcgate.
func warnings(resp *harness.Response) []string {
	var out []string
	for _, v := range resp.Header.Values("Warning") {
		if strings.HasPrefix(v, `299 qcgate "`) {
			out = append(out, v)
		}
	}
	return out
}

// decodeJSON decodes an answer's JSON body into v.
func decodeJSON(t *testing.T, resp *harness.Response, v any) {
	t.Helper()
	if err := json.Unmarshal(resp.Body, v); err != nil {
		t.Fatalf("decoding JSON answer (status %d): %v; body: %s", resp.Status, err, resp.Snippet())
	}
}
