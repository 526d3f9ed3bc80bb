package integration

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/integration/harness"
	"github.com/qcgate/qcgate/qc/review/pgtest"
)

// reviewShare is the audit share of the pipeline's gateway.
const reviewShare = 0.5

// auditValue is the audit draw of a SEG as the review workflow documents
// it, computed here on its own: the first 53 bits of HMAC-SHA256(seed,
// SOP Instance UID), big-endian, divided by 2^53.
func auditValue(seed, sopInstanceUID string) float64 {
	mac := hmac.New(sha256.New, []byte(seed))
	mac.Write([]byte(sopInstanceUID))
	return float64(binary.BigEndian.Uint64(mac.Sum(nil)[:8])>>11) / (1 << 53)
}

// seedID is the fingerprint of a seed the trail records: the first 16
// hexadecimal digits of its SHA-256.
func seedID(seed string) string {
	sum := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(sum[:8])
}

// liverVariant is the liver SEG with the SOP Instance UID of copy sop and
// the Series Instance UID of copy series: both rewritten in place with UIDs
// of the same length, so the SEG checks exactly as the original.
type liverVariant struct {
	sop, series string
	data        []byte
}

// newLiverVariant builds a [liverVariant].
func newLiverVariant(t *testing.T, sop, series int) liverVariant {
	t.Helper()
	data := readFile(t, liverSEG)
	copies, err := harness.NewCopies(data, liverSOP)
	if err != nil {
		t.Fatalf("%v", err)
	}
	cut := strings.LastIndexByte(liverSeries, '.')
	tail := fmt.Sprintf("9%0*d", len(liverSeries)-cut-2, series)
	seriesUID := liverSeries[:cut+1] + tail
	if n := bytes.Count(data, []byte(liverSeries)); n != 1 {
		t.Fatalf("liver SEG holds its Series Instance UID %d times, want 1", n)
	}
	out := bytes.ReplaceAll(copies.Copy(sop), []byte(liverSeries), []byte(seriesUID))
	return liverVariant{sop: copies.UID(sop), series: seriesUID, data: out}
}

// reviewEnv is a gateway with the review workflow and one client per
// person of the quality team.
type reviewEnv struct {
	*env
	seed string
	// people are clients by subject.
	people map[string]*harness.Client
}

// as returns the client of subject.
func (e *reviewEnv) as(subject string) *harness.Client { return e.people[subject] }

// reviewJSON is the part of a review (GET /qc/v1/reviews/{uid}) the tests
// read.
type reviewJSON struct {
	SOPInstanceUID   string `json:"sop_instance_uid"`
	State            string `json:"state"`
	Version          int64  `json:"version"`
	Decision         string `json:"decision"`
	Uploader         string `json:"uploader"`
	PeerReviewer     string `json:"peer_reviewer"`
	SeniorQA         string `json:"senior_qa"`
	Auditor          string `json:"auditor"`
	Chain            int    `json:"chain"`
	Previous         string `json:"previous"`
	Next             string `json:"next"`
	RejectionNoteUID string `json:"rejection_note_uid"`
	Audit            *struct {
		SeedID  string  `json:"seed_id"`
		Share   float64 `json:"share"`
		Value   float64 `json:"value"`
		Sampled bool    `json:"sampled"`
	} `json:"audit"`
}

// trailEntry is one entry of a review trail.
type trailEntry struct {
	Actor  string `json:"actor"`
	Role   string `json:"role"`
	Action string `json:"action"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// upload sends SEG v through the gateway as subject and requires 200.
func (e *reviewEnv) upload(t *testing.T, subject string, v liverVariant) {
	t.Helper()
	resp := e.as(subject).STOW(t, "/dicom-web/studies", harness.Multipart(
		harness.Part{ContentType: harness.MediaTypeDICOM, Data: v.data}))
	if resp.Status != http.StatusOK {
		t.Fatalf("STOW of SEG %s = %d, want 200; Warning: %q; body: %s", v.sop,
			resp.Status, resp.Header.Values("Warning"), resp.Snippet())
	}
}

// review reads the review of a SEG, waiting up to 10 s for it to open
// (reviews open after the STOW-RS answer).
func (e *reviewEnv) review(t *testing.T, sop string) (reviewJSON, []trailEntry) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp := e.as("viewer-1").Get(t, "/qc/v1/reviews/"+sop, nil)
		if resp.Status == http.StatusOK {
			var body struct {
				Review reviewJSON   `json:"review"`
				Trail  []trailEntry `json:"trail"`
			}
			decodeJSON(t, resp, &body)
			return body.Review, body.Trail
		}
		if resp.Status != http.StatusNotFound || time.Now().After(deadline) {
			t.Fatalf("GET review of %s = %d, want 200; %s", sop, resp.Status, resp.Snippet())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// act posts a review action as subject and requires the status; it
// returns the review after the move on 200.
func (e *reviewEnv) act(t *testing.T, subject, sop, body string, want int) reviewJSON {
	t.Helper()
	resp := e.as(subject).Do(t, http.MethodPost, "/qc/v1/reviews/"+sop,
		strings.NewReader(body), http.Header{"Content-Type": {"application/json"}})
	if resp.Status != want {
		t.Fatalf("%s: POST review %s %s = %d, want %d; %s", subject, sop, body, resp.Status,
			want, resp.Snippet())
	}
	var out struct {
		Review reviewJSON `json:"review"`
	}
	if want == http.StatusOK {
		decodeJSON(t, resp, &out)
	}
	return out.Review
}

// newReviewEnv starts an Orthanc and a gateway with the review workflow,
// an audit share of one half and a seed that draws drawn and not notDrawn,
// and stores the liver SEG's source CT series.
func newReviewEnv(t *testing.T, drawn, notDrawn string) *reviewEnv {
	t.Helper()
	seed := ""
	for i := range 1000 {
		s := fmt.Sprintf("audit-seed-%d", i)
		if auditValue(s, drawn) < reviewShare && auditValue(s, notDrawn) >= reviewShare {
			seed = s
			break
		}
	}
	if seed == "" {
		t.Fatalf("no seed among 1000 draws %s and not %s", drawn, notDrawn)
	}
	seedFile := filepath.Join(t.TempDir(), "audit-seed")
	if err := os.WriteFile(seedFile, []byte(seed+"\n"), 0o600); err != nil {
		t.Fatalf("writing seed: %v", err)
	}
	e := newEnv(t, harness.GatewayOptions{Settings: map[string]string{
		"review_enabled":         "true",
		"review_audit_share":     fmt.Sprint(reviewShare),
		"review_audit_seed_file": seedFile,
	}})
	re := &reviewEnv{env: e, seed: seed, people: map[string]*harness.Client{}}
	for sub, roles := range map[string][]string{
		"ann-1":    {"annotator"},
		"rev-1":    {"reviewer"},
		"rev-2":    {"annotator", "reviewer"},
		"rev-3":    {"reviewer"},
		"sqa-1":    {"senior_qa"},
		"sqa-2":    {"senior_qa"},
		"aud-1":    {"auditor"},
		"viewer-1": {"viewer"},
	} {
		re.people[sub] = &harness.Client{BaseURL: e.gateway.URL, Header: http.Header{
			"Authorization": {"Bearer " + e.gateway.Tokens.Token(t, sub, roles...)}}}
	}
	resp := re.as("ann-1").STOW(t, "/dicom-web/studies",
		harness.Multipart(harness.FileParts(t, liverSources...)...))
	resp.RequireStatus(t, http.StatusOK)
	return re
}

// TestReviewPipeline runs a SEG through the whole review against a real
// Orthanc with a token per role: upload, automated QC, peer review,
// senior QA, a drawn audit, approval and export; the refused moves, the
// four-eyes rules, the rejection note and hidden SEG, and the review state
// in Orthanc's metadata.
func TestReviewPipeline(t *testing.T) {
	t.Parallel()
	segA, segB := newLiverVariant(t, 1, 1), newLiverVariant(t, 2, 2)
	e := newReviewEnv(t, segA.sop, segB.sop)

	// Upload and automated QC: the SEG opens in peer review, its uploader
	// recorded.
	e.upload(t, "ann-1", segA)
	r, trail := e.review(t, segA.sop)
	if r.State != "peer_review" || r.Version != 1 || r.Uploader != "ann-1" ||
		r.Decision != "accepted" {
		t.Fatalf("review of A after upload = %+v, want peer_review v1 by ann-1, accepted", r)
	}
	if len(trail) != 1 || trail[0].Action != "submit" || trail[0].Actor != "ann-1" {
		t.Fatalf("trail of A after upload = %+v, want one submit by ann-1", trail)
	}

	// Moves that are refused leave the review where it is.
	approve := `{"action":"approve","comment":"contours follow the liver"}`
	refused := []struct {
		name, subject, sop, body string
		want                     int
	}{
		{"annotator approves", "ann-1", segA.sop, approve, http.StatusForbidden},
		{"viewer approves", "viewer-1", segA.sop, approve, http.StatusForbidden},
		{"auditor at peer review", "aud-1", segA.sop, approve, http.StatusForbidden},
		{"return without a reason", "rev-1", segA.sop, `{"action":"return"}`,
			http.StatusBadRequest},
		{"unknown action", "rev-1", segA.sop, `{"action":"publish","comment":"x"}`,
			http.StatusConflict},
		{"stale version", "rev-1", segA.sop, `{"action":"approve","version":7}`,
			http.StatusConflict},
		{"unknown SEG", "rev-1", "1.2.826.0.1.3680043.8.498.999", approve,
			http.StatusNotFound},
		{"not JSON", "rev-1", segA.sop, `approve`, http.StatusBadRequest},
	}
	for _, tt := range refused {
		t.Run("refused/"+tt.name, func(t *testing.T) {
			e.act(t, tt.subject, tt.sop, tt.body, tt.want)
		})
	}
	if r, _ := e.review(t, segA.sop); r.Version != 1 || r.State != "peer_review" {
		t.Fatalf("review of A after refused moves = %s v%d, want peer_review v1", r.State,
			r.Version)
	}

	// Peer review, senior QA, the audit the seed draws, approval.
	r = e.act(t, "rev-1", segA.sop, `{"action":"approve","version":1}`, http.StatusOK)
	if r.State != "senior_qa" || r.PeerReviewer != "rev-1" {
		t.Fatalf("A after peer review = %s by %q, want senior_qa by rev-1", r.State,
			r.PeerReviewer)
	}
	e.act(t, "rev-1", segA.sop, approve, http.StatusForbidden) // senior QA needs senior_qa
	r = e.act(t, "sqa-1", segA.sop, approve, http.StatusOK)
	if r.State != "audit" || r.Audit == nil || !r.Audit.Sampled {
		t.Fatalf("A after senior QA = %s, audit %+v, want audit, sampled", r.State, r.Audit)
	}
	// The same seed gives the same draw: the recorded one is the one
	// computed here from the seed, and only the seed's fingerprint is kept.
	if want := auditValue(e.seed, segA.sop); r.Audit.Value != want ||
		r.Audit.SeedID != seedID(e.seed) || r.Audit.Share != reviewShare {
		t.Errorf("audit draw of A = %+v, want value %v, seed_id %s, share %v", *r.Audit,
			want, seedID(e.seed), reviewShare)
	}
	e.act(t, "sqa-1", segA.sop, approve, http.StatusForbidden) // the audit needs auditor
	r = e.act(t, "aud-1", segA.sop, approve, http.StatusOK)
	if r.State != "approved" || r.Auditor != "aud-1" || r.SeniorQA != "sqa-1" {
		t.Fatalf("A after audit = %+v, want approved by aud-1 after sqa-1", r)
	}
	e.act(t, "aud-1", segA.sop, approve, http.StatusConflict) // nothing left to approve
	_, trail = e.review(t, segA.sop)
	var moves []string
	for _, en := range trail {
		moves = append(moves, fmt.Sprintf("%s %s %s>%s %s", en.Actor, en.Role, en.From,
			en.To, en.Action))
	}
	wantMoves := []string{"ann-1 annotator >peer_review submit",
		"rev-1 reviewer peer_review>senior_qa approve",
		"sqa-1 senior_qa senior_qa>audit approve",
		"aud-1 auditor audit>approved approve"}
	if diff := cmp.Diff(wantMoves, moves); diff != "" {
		t.Errorf("trail of A (-want +got):\n%s", diff)
	}
	checkQCReview(t, e, segA.sop, "approved")

	// Four eyes: an uploader who is a reviewer cannot review their own
	// SEG, and senior QA must be someone other than the peer reviewer.
	e.upload(t, "rev-2", segB)
	e.review(t, segB.sop)
	e.act(t, "rev-2", segB.sop, approve, http.StatusForbidden)
	e.act(t, "sqa-1", segB.sop, approve, http.StatusOK) // senior_qa implies reviewer
	e.act(t, "sqa-1", segB.sop, approve, http.StatusForbidden)
	r = e.act(t, "sqa-2", segB.sop, approve, http.StatusOK)
	if r.State != "approved" || r.Audit == nil || r.Audit.Sampled ||
		r.Audit.Value != auditValue(e.seed, segB.sop) {
		t.Fatalf("B after senior QA = %s, audit %+v, want approved, not drawn, value %v",
			r.State, r.Audit, auditValue(e.seed, segB.sop))
	}

	checkExport(t, e, []liverVariant{segA, segB})

	// Calibration names people: senior QA and auditors only.
	e.as("viewer-1").Get(t, "/qc/v1/calibration", nil).RequireStatus(t, http.StatusForbidden)
	e.as("sqa-2").Get(t, "/qc/v1/calibration", nil).RequireStatus(t, http.StatusOK)

	// The review metrics are on /metrics.
	m := e.as("aud-1").Get(t, "/metrics", nil)
	m.RequireStatus(t, http.StatusOK)
	if want := `qcgate_review_segs{state="approved"} 2`; !bytes.Contains(m.Body,
		[]byte(want)) {
		t.Errorf("/metrics lacks %q", want)
	}
}

// checkQCReview checks the review state Orthanc holds as user metadata.
// Moves made by the workflow itself (opening, superseding) are written
// after the STOW-RS answer, so it waits up to 5 s for the state.
func checkQCReview(t *testing.T, e *reviewEnv, sop, want string) {
	t.Helper()
	id := e.orthanc.InstanceID(t, sop)
	if id == "" {
		t.Fatalf("Orthanc does not hold %s", sop)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, ok := e.orthanc.Metadata(t, id, harness.MetadataQCReview)
		if ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("Orthanc metadata %s of %s = %q (set %v), want %q",
				harness.MetadataQCReview, sop, got, ok, want)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkExport checks the training export, as JSON and CSV, against the
// approved SEGs in order of approval, and that its WADO-RS URLs work.
func checkExport(t *testing.T, e *reviewEnv, approved []liverVariant) {
	t.Helper()
	resp := e.as("viewer-1").Get(t, "/qc/v1/export", nil)
	resp.RequireStatus(t, http.StatusOK)
	var got struct {
		Count int `json:"count"`
		Items []struct {
			SOPInstanceUID string `json:"sop_instance_uid"`
			URL            string `json:"url"`
			Sources        []struct {
				SeriesInstanceUID string `json:"series_instance_uid"`
				URL               string `json:"url"`
			} `json:"source_series"`
			Review struct {
				Audited bool `json:"audited"`
			} `json:"review"`
		} `json:"items"`
	}
	decodeJSON(t, resp, &got)
	if got.Count != len(approved) || len(got.Items) != len(approved) {
		t.Fatalf("export count %d, %d items, want %d", got.Count, len(got.Items),
			len(approved))
	}
	studyURL := e.gateway.URL + "/dicom-web/studies/" + liverStudy
	for i, v := range approved {
		it := got.Items[i]
		wantURL := studyURL + "/series/" + v.series + "/instances/" + v.sop
		if it.SOPInstanceUID != v.sop || it.URL != wantURL {
			t.Errorf("export item %d = %s at %s, want %s at %s", i, it.SOPInstanceUID, it.URL,
				v.sop, wantURL)
		}
		if len(it.Sources) != 1 || it.Sources[0].SeriesInstanceUID != liverSourceSeries ||
			it.Sources[0].URL != studyURL+"/series/"+liverSourceSeries {
			t.Errorf("export item %d sources = %+v, want %s", i, it.Sources, liverSourceSeries)
		}
	}
	if len(got.Items) > 0 {
		// A training pipeline fetches the SEG from the URL as it is.
		path := strings.TrimPrefix(got.Items[0].URL, e.gateway.URL)
		wado := e.as("viewer-1").Get(t, path, http.Header{
			"Accept": {`multipart/related; type="application/dicom"`}})
		wado.RequireStatus(t, http.StatusOK)
		if !bytes.Contains(wado.Body, []byte(approved[0].sop)) {
			t.Errorf("WADO-RS %s does not hold the SEG", path)
		}
	}

	for _, h := range []struct{ query, accept string }{{"?format=csv", ""},
		{"", "text/csv"}} {
		resp := e.as("viewer-1").Get(t, "/qc/v1/export"+h.query,
			http.Header{"Accept": {h.accept}})
		resp.RequireStatus(t, http.StatusOK)
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("export%s Content-Type = %q, want text/csv", h.query, ct)
		}
		rows, err := csv.NewReader(bytes.NewReader(resp.Body)).ReadAll()
		if err != nil || len(rows) != len(approved)+1 {
			t.Fatalf("export CSV: %d rows, %v; want a header and %d rows", len(rows), err,
				len(approved))
		}
		col := func(name string) int { return slices.Index(rows[0], name) }
		for i, v := range approved {
			row := rows[i+1]
			if row[col("sop_instance_uid")] != v.sop ||
				row[col("source_series_uids")] != liverSourceSeries ||
				row[col("url")] != studyURL+"/series/"+v.series+"/instances/"+v.sop {
				t.Errorf("export CSV row %d = %q, want SEG %s", i, row, v.sop)
			}
		}
	}
}

// TestReviewRejectRework covers the rejection of a stored SEG (the Key
// Object Selection stored in Orthanc, the SEG hidden from QIDO-RS through
// the gateway unless asked for), rework with a new version, and two
// reviewers acting at once.
func TestReviewRejectRework(t *testing.T) {
	t.Parallel()
	segC := newLiverVariant(t, 3, 3)
	segD1, segD2 := newLiverVariant(t, 4, 4), newLiverVariant(t, 5, 4)
	segE, segF := newLiverVariant(t, 6, 6), newLiverVariant(t, 7, 7)
	e := newReviewEnv(t, segE.sop, segF.sop)

	// Rejection after storage.
	e.upload(t, "ann-1", segC)
	e.review(t, segC.sop)
	e.act(t, "rev-1", segC.sop, `{"action":"reject"}`, http.StatusBadRequest)
	r := e.act(t, "rev-1", segC.sop,
		`{"action":"reject","comment":"the contour leaks into the kidney"}`, http.StatusOK)
	if r.State != "rejected" || r.RejectionNoteUID == "" {
		t.Fatalf("C after rejection = %s, note %q, want rejected with a note", r.State,
			r.RejectionNoteUID)
	}
	checkQCReview(t, e, segC.sop, "rejected")
	checkRejectionNote(t, e, segC.sop, r.RejectionNoteUID)
	checkHidden(t, e, segC)

	// Rework: a corrected SEG in the same series is the next version of
	// the returned one, which is superseded and leaves the queue.
	e.upload(t, "ann-1", segD1)
	e.review(t, segD1.sop)
	e.act(t, "rev-1", segD1.sop, `{"action":"return","comment":"segment 1 misses a lobe"}`,
		http.StatusOK)
	e.upload(t, "ann-1", segD2)
	d2, trail := e.review(t, segD2.sop)
	if d2.State != "peer_review" || d2.Previous != segD1.sop || d2.Chain != 2 {
		t.Errorf("D2 = %s, previous %q, chain %d; want peer_review after %s, chain 2",
			d2.State, d2.Previous, d2.Chain, segD1.sop)
	}
	if len(trail) != 1 || trail[0].Action != "submit" {
		t.Errorf("trail of D2 = %+v, want one submit", trail)
	}
	d1, _ := e.review(t, segD1.sop)
	if d1.State != "superseded" || d1.Next != segD2.sop {
		t.Errorf("D1 = %s, next %q; want superseded by %s", d1.State, d1.Next, segD2.sop)
	}
	checkQCReview(t, e, segD1.sop, "superseded")
	resp := e.as("viewer-1").Get(t, "/qc/v1/reviews", nil)
	resp.RequireStatus(t, http.StatusOK)
	var queue struct {
		Reviews []reviewJSON `json:"reviews"`
	}
	decodeJSON(t, resp, &queue)
	var inQueue []string
	for _, q := range queue.Reviews {
		inQueue = append(inQueue, q.SOPInstanceUID)
	}
	if diff := cmp.Diff([]string{segD2.sop}, inQueue); diff != "" {
		t.Errorf("review queue (-want +got):\n%s", diff)
	}

	// Two reviewers approve the same SEG at once: one move is applied, the
	// other answered 409.
	e.upload(t, "ann-1", segE)
	e.review(t, segE.sop)
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, sub := range []string{"rev-1", "rev-3"} {
		wg.Go(func() {
			resp := e.as(sub).Do(t, http.MethodPost, "/qc/v1/reviews/"+segE.sop,
				strings.NewReader(`{"action":"approve","version":1}`),
				http.Header{"Content-Type": {"application/json"}})
			statuses[i] = resp.Status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if diff := cmp.Diff([]int{http.StatusOK, http.StatusConflict}, statuses); diff != "" {
		t.Errorf("statuses of two concurrent approvals (-want +got):\n%s", diff)
	}
	rE, trail := e.review(t, segE.sop)
	if rE.State != "senior_qa" || rE.Version != 2 || len(trail) != 2 {
		t.Errorf("E after concurrent approvals = %s v%d with %d entries, want senior_qa v2 "+
			"with 2", rE.State, rE.Version, len(trail))
	}

	// Nothing of this is in the export.
	resp = e.as("viewer-1").Get(t, "/qc/v1/export", nil)
	resp.RequireStatus(t, http.StatusOK)
	var export struct {
		Count int `json:"count"`
	}
	decodeJSON(t, resp, &export)
	if export.Count != 0 {
		t.Errorf("export count = %d, want 0: no SEG is approved", export.Count)
	}
}

// checkRejectionNote finds, by QIDO-RS directly on Orthanc, the Key
// Object Selection document of the study and checks that it is the
// rejection note of sop: titled (113001, DCM) and referencing the SEG.
func checkRejectionNote(t *testing.T, e *reviewEnv, sop, noteUID string) {
	t.Helper()
	series := e.direct.QIDO(t, "/dicom-web/studies/"+liverStudy+"/series?Modality=KO")
	if len(series) != 1 {
		t.Fatalf("KO series of the study in Orthanc: %d, want 1", len(series))
	}
	koSeries := series[0].String(harness.TagSeriesInstanceUID)
	path := "/dicom-web/studies/" + liverStudy + "/series/" + koSeries
	instances := e.direct.QIDO(t, path+"/instances")
	if len(instances) != 1 || instances[0].String(harness.TagSOPInstanceUID) != noteUID {
		t.Fatalf("KO instances in Orthanc = %d, want 1: %s", len(instances), noteUID)
	}
	resp := e.direct.Get(t, path+"/instances/"+noteUID+"/metadata",
		http.Header{"Accept": {harness.MediaTypeDICOMJSON}})
	resp.RequireStatus(t, http.StatusOK)
	ds := resp.Datasets(t)
	if len(ds) != 1 {
		t.Fatalf("metadata of the note: %d datasets, want 1", len(ds))
	}
	title := ds[0].Items("0040A043") // Concept Name Code Sequence
	if len(title) != 1 || title[0].String("00080100") != "113001" ||
		title[0].String("00080102") != "DCM" {
		t.Errorf("note title = %v, want (113001, DCM)", title)
	}
	var referenced []string
	for _, study := range ds[0].Items("0040A375") { // Current Requested Procedure Evidence
		for _, s := range study.Items("00081115") { // Referenced Series Sequence
			for _, sopItem := range s.Items(harness.TagReferencedSOPSequence) {
				referenced = append(referenced,
					sopItem.String(harness.TagReferencedSOPInstanceUID))
			}
		}
	}
	if diff := cmp.Diff([]string{sop}, referenced); diff != "" {
		t.Errorf("instances the note references (-want +got):\n%s", diff)
	}
}

// checkHidden checks that QIDO-RS through the gateway hides the rejected
// SEG v, its instance and its series, unless includerejected=true, while
// Orthanc still holds it.
func checkHidden(t *testing.T, e *reviewEnv, v liverVariant) {
	t.Helper()
	if !e.heldByOrthanc(t, v.sop) {
		t.Fatalf("Orthanc does not hold the rejected SEG")
	}
	viewer := e.as("viewer-1")
	uids := func(path, tag string) []string {
		var out []string
		for _, d := range viewer.QIDO(t, path) {
			out = append(out, d.String(tag))
		}
		return out
	}
	instances := "/dicom-web/studies/" + liverStudy + "/series/" + v.series + "/instances"
	segSeries := "/dicom-web/studies/" + liverStudy + "/series?Modality=SEG"
	byUID := "/dicom-web/instances?SOPInstanceUID=" + v.sop
	tests := []struct {
		path, tag string
		want      []string
	}{
		{instances, harness.TagSOPInstanceUID, nil},
		{instances + "?includerejected=true", harness.TagSOPInstanceUID, []string{v.sop}},
		{byUID, harness.TagSOPInstanceUID, nil},
		{byUID + "&includerejected=true", harness.TagSOPInstanceUID, []string{v.sop}},
		{segSeries, harness.TagSeriesInstanceUID, nil},
		{segSeries + "&includerejected=true", harness.TagSeriesInstanceUID,
			[]string{v.series}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, uids(tt.path, tt.tag)); diff != "" {
			t.Errorf("QIDO-RS %s through the gateway (-want +got):\n%s", tt.path, diff)
		}
	}
	// The filter is the gateway's: Orthanc itself still answers.
	direct := e.direct.QIDO(t, instances)
	if len(direct) != 1 || direct[0].String(harness.TagSOPInstanceUID) != v.sop {
		t.Errorf("QIDO-RS %s on Orthanc: %d instances, want the SEG", instances, len(direct))
	}
}

// TestReviewPostgres runs the gateway on one PostgreSQL database for both
// reports and reviews (store: postgres://...), as several replicas do:
// reports and reviews are read back from it, and two reviewers acting at
// once end with one move applied and the other answered 409.
func TestReviewPostgres(t *testing.T) {
	t.Parallel()
	dsn := pgtest.Start(t).NewDatabase(t)
	o := harness.StartOrthanc(t, harness.OrthancOptions{})
	g := harness.StartGateway(t, o, harness.GatewayOptions{Settings: map[string]string{
		"store": dsn, "review_enabled": "true"}})
	e := &reviewEnv{env: &env{orthanc: o, gateway: g, gw: g.Client(), direct: o.Client()},
		people: map[string]*harness.Client{}}
	for sub, role := range map[string]string{"ann-1": "annotator", "rev-1": "reviewer",
		"rev-3": "reviewer", "viewer-1": "viewer"} {
		e.people[sub] = &harness.Client{BaseURL: g.URL, Header: http.Header{
			"Authorization": {"Bearer " + g.Tokens.Token(t, sub, role)}}}
	}
	seg := newLiverVariant(t, 8, 8)
	e.as("ann-1").STOW(t, "/dicom-web/studies",
		harness.Multipart(harness.FileParts(t, liverSources...)...)).RequireStatus(t,
		http.StatusOK)
	e.upload(t, "ann-1", seg)

	rep := e.as("viewer-1").Get(t, "/qc/v1/reports/"+seg.sop, nil)
	rep.RequireStatus(t, http.StatusOK)
	if r, _ := e.review(t, seg.sop); r.State != "peer_review" || r.Uploader != "ann-1" {
		t.Fatalf("review on PostgreSQL = %s by %q, want peer_review by ann-1", r.State,
			r.Uploader)
	}
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, sub := range []string{"rev-1", "rev-3"} {
		wg.Go(func() {
			statuses[i] = e.as(sub).Do(t, http.MethodPost, "/qc/v1/reviews/"+seg.sop,
				strings.NewReader(`{"action":"approve","version":1}`),
				http.Header{"Content-Type": {"application/json"}}).Status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	if diff := cmp.Diff([]int{http.StatusOK, http.StatusConflict}, statuses); diff != "" {
		t.Errorf("statuses of two concurrent approvals (-want +got):\n%s", diff)
	}
	if r, trail := e.review(t, seg.sop); r.State != "senior_qa" || len(trail) != 2 {
		t.Errorf("review after concurrent approvals = %s with %d entries, want senior_qa "+
			"with 2", r.State, len(trail))
	}
	checkQCReview(t, e, seg.sop, "senior_qa")
}
