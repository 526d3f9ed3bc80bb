package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/qc"
)

const realDir = "../../qc/testdata/real"

// runCheckTest runs check and returns its exit code, stdout and stderr.
func runCheckTest(t *testing.T, opts checkOptions, paths ...string) (int, string, string) {
	t.Helper()
	if opts.format == "" {
		opts.format = "text"
	}
	var stdout, stderr bytes.Buffer
	code := runCheck(context.Background(), opts, paths, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// decodeReports decodes check's JSON output, which must be exactly one
// array.
func decodeReports(t *testing.T, out string) []qc.Report {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	var reps []qc.Report
	if err := dec.Decode(&reps); err != nil {
		t.Fatalf("stdout is not a JSON array of reports: %v\n%s", err, out)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON value:\n%s", out)
	}
	return reps
}

// TestCheckAllRealCases runs check on the whole real test data folder: 16
// SEGs, their sources shared across folders. The decisions are those of the
// engine test (TestCheckRealCases in package qc), where each is explained.
func TestCheckAllRealCases(t *testing.T) {
	code, out, errOut := runCheckTest(t, checkOptions{format: "json"}, realDir)
	if code != exitRejected {
		t.Errorf("exit code = %d, want %d (two SEGs are rejected); stderr:\n%s",
			code, exitRejected, errOut)
	}
	reps := decodeReports(t, out)
	got := make(map[string]qc.Decision)
	for _, r := range reps {
		got[r.SOPInstanceUID] = r.Decision
	}
	want := map[string]qc.Decision{
		// dcmqi-ct-liver-binary
		"1.2.276.0.7230010.3.1.4.0.42154.1458337731.665796": qc.DecisionAccepted,
		// dcmqi-ct-partial-overlaps-5seg
		"1.2.276.0.7230010.3.1.4.13879174.191011.1701890452.128470": qc.DecisionAccepted,
		// pydicom-liver-rle, -j2k, -deflated-frames
		"1.2.826.0.1.3680043.8.498.82711305854074511338642534035912131284": qc.DecisionAccepted,
		"1.2.826.0.1.3680043.8.498.48839624056933092612726387696714904348": qc.DecisionAccepted,
		"1.2.826.0.1.3680043.8.498.11292069848099143391460820495139596116": qc.DecisionAccepted,
		// pydicom-liver-nonbyte-aligned-510: a crop on the grid
		"1.2.826.0.1.3680043.8.498.21030306363353744389552298683532131927": qc.DecisionAcceptedWithWarnings,
		// dcmqi-23x38x3-binary-nonbyte-aligned
		"1.2.276.0.7230010.3.1.4.0.65241.1523399608.764874": qc.DecisionAccepted,
		// dcmqi-24x38x3-labelmap-sparse-ppv5
		"1.2.276.0.7230010.3.1.4.8323329.114908.1781279372.413280": qc.DecisionAccepted,
		// highdicom-ct2-binary, -true-fractional, -binary-overlap-2seg
		"1.2.826.0.1.3680043.10.511.3.13328978933257881317937615676904125": qc.DecisionAccepted,
		"1.2.826.0.1.3680043.10.511.3.11933987111205752238753209226368365": qc.DecisionAccepted,
		"1.2.826.0.1.3680043.10.511.3.10391363598389075877106055067323399": qc.DecisionAccepted,
		// highdicom-ct-binary-single-frame
		"1.2.826.0.1.3680043.10.511.3.11760884511913886385671360413641752": qc.DecisionAccepted,
		// highdicom-cr-binary-no-frame-of-reference
		"1.2.826.0.1.3680043.10.511.3.19470716337510180961421966679400599": qc.DecisionAccepted,
		// highdicom-sm-control-labelmap: label 2 has no pixel
		"1.2.826.0.1.3680043.10.511.3.33000865453056346086749834479018036": qc.DecisionAcceptedWithWarnings,
		// highdicom-sm-dots-50seg: tile rows and columns swapped
		"1.2.826.0.1.3680043.8.498.10230567335252703350357406946916509321": qc.DecisionRejected,
		// orthanc-tcga-gbm-brats-3seg-source-missing
		"1.2.276.0.7230010.3.1.4.8323329.356949.1540933411.360229": qc.DecisionRejected,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decisions mismatch (-want +got):\n%s", diff)
	}
}

func TestCheckExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		opts     checkOptions
		paths    []string
		wantCode int
		wantErr  string
	}{
		{
			"accepted", checkOptions{},
			[]string{realDir + "/dcmqi-ct-liver-binary"}, exitAccepted, "",
		},
		{
			"warnings only", checkOptions{},
			[]string{realDir + "/highdicom-sm-control-labelmap"}, exitAccepted, "",
		},
		{
			"rejected", checkOptions{},
			[]string{realDir + "/orthanc-tcga-gbm-brats-3seg-source-missing"}, exitRejected, "",
		},
		{
			"a SEG without its sources", checkOptions{},
			[]string{realDir + "/dcmqi-ct-liver-binary/liver.dcm"}, exitRejected, "",
		},
		{
			"sources but no SEG", checkOptions{},
			[]string{realDir + "/dcmqi-ct-liver-binary/source"}, exitUsage, "no SEG could be read",
		},
		{"no path", checkOptions{}, nil, exitUsage, "no path given"},
		{"missing path", checkOptions{}, []string{realDir + "/nope"}, exitUsage, "no such file"},
		{
			"bad format", checkOptions{format: "xml"},
			[]string{realDir + "/dcmqi-ct-liver-binary"}, exitUsage, `--format "xml"`,
		},
		{
			"missing profile", checkOptions{profile: "testdata/none.yaml"},
			[]string{realDir + "/dcmqi-ct-liver-binary"}, exitUsage, "reading profile",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCheckTest(t, tt.opts, tt.paths...)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, tt.wantCode, errOut)
			}
			if !strings.Contains(errOut, tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, tt.wantErr)
			}
		})
	}
}

// part10Bytes returns a Part 10 file: preamble, prefix, File Meta
// Information holding its group length and the Transfer Syntax UID ts
// (PS3.10 7.1), then ds.
func part10Bytes(ts string, ds []byte) []byte {
	if len(ts)%2 == 1 {
		ts += "\x00"
	}
	b := append(make([]byte, 128), "DICM"...)
	n := 8 + len(ts)
	b = append(b, 0x02, 0x00, 0x00, 0x00, 'U', 'L', 4, 0, byte(n), byte(n>>8), 0, 0)
	b = append(b, 0x02, 0x00, 0x10, 0x00, 'U', 'I', byte(len(ts)), byte(len(ts)>>8))
	b = append(b, ts...)
	return append(b, ds...)
}

// TestCheckBadFiles checks that files that are not DICOM, or whose header
// made the dicom package panic, are skipped with a note naming them, and
// that the SEG beside them is checked all the same.
func TestCheckBadFiles(t *testing.T) {
	modality := []byte{0x08, 0x00, 0x60, 0x00, 'C', 'S', 2, 0, 'C', 'T'}
	tests := []struct {
		name    string
		data    []byte
		wantErr string
	}{
		{"empty.dcm", nil, "skipping %s: not a DICOM part 10 file"},
		{"text.dcm", []byte(strings.Repeat("not dicom ", 40)),
			"skipping %s: not a DICOM part 10 file"},
		{
			// No SOP Class UID in the meta, an unknown transfer syntax: the
			// dicom package has no byte order for the data set.
			"unknown-syntax.dcm", part10Bytes("1.2.3.4", modality),
			"skipping %s: reading file meta information: malformed data set",
		},
		{
			// A defined-length sequence holding an element that is not an
			// Item (PS3.5 7.5.1), before the SOP Class UID.
			"sequence.dcm", part10Bytes("1.2.840.10008.1.2.1", []byte{
				0x08, 0x00, 0x06, 0x00, 'S', 'Q', 0, 0, 10, 0, 0, 0,
				0x08, 0x00, 0x60, 0x00, 'C', 'S', 2, 0, 'C', 'T',
			}),
			"skipping %s: reading file meta information: malformed data set",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tt.name)
			if err := os.WriteFile(path, tt.data, 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCheckTest(t, checkOptions{},
				realDir+"/dcmqi-ct-liver-binary", path)
			if code != exitAccepted {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, exitAccepted, errOut)
			}
			if want := fmt.Sprintf(tt.wantErr, path); !strings.Contains(errOut, want) {
				t.Errorf("stderr = %q, want it to contain %q", errOut, want)
			}
			if want := "1 SEGs: 1 accepted"; !strings.Contains(out, want) {
				t.Errorf("stdout = %q, want it to contain %q", out, want)
			}
		})
	}
}

// TestCheckText checks the text output of a SEG with a warning; its folder
// also holds two licence files, which are no DICOM.
func TestCheckText(t *testing.T) {
	dir := realDir + "/pydicom-liver-nonbyte-aligned-510"
	code, out, _ := runCheckTest(t, checkOptions{}, dir)
	if code != exitAccepted {
		t.Errorf("exit code = %d, want 0", code)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	want := []string{
		dir + "/liver_nonbyte_aligned.dcm: accepted_with_warnings (1 segments, 3 frames, " +
			"107098 voxels; 0 errors, 1 warnings, 0 info)",
		"    warning geometry.matrix_size frame 1: a SEG frame should cover its source image's " +
			"pixel matrix: it is 510x510 at row 0, column 0 of the 512x512 grid of source image " +
			"1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23433.1; it lies on that grid",
		"1 SEGs: 0 accepted, 1 accepted with warnings, 0 rejected; 3 source images, 2 other files",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("text output mismatch (-want +got):\n%s", diff)
	}
}

// TestCheckProfile runs check with a profile that turns segments.empty off.
func TestCheckProfile(t *testing.T) {
	profile := filepath.Join(t.TempDir(), "p.yaml")
	yaml := "name: sm\nversion: \"1\"\nrules:\n  segments.empty: {enabled: false}\n"
	if err := os.WriteFile(profile, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCheckTest(t, checkOptions{profile: profile, format: "json"},
		realDir+"/highdicom-sm-control-labelmap")
	if code != exitAccepted {
		t.Errorf("exit code = %d, want 0; stderr:\n%s", code, errOut)
	}
	reps := decodeReports(t, out)
	if len(reps) != 1 || reps[0].Decision != qc.DecisionAccepted || reps[0].Profile.Name != "sm" ||
		len(reps[0].Profile.SHA256) != 64 {
		t.Errorf("reports = %+v, want one accepted with profile sm and its digest", reps)
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("name: x\nrules:\n  no.such: {}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = runCheckTest(t, checkOptions{profile: bad}, realDir+"/dcmqi-ct-liver-binary")
	if code != exitUsage || !strings.Contains(errOut, "not a rule ID") {
		t.Errorf("bad profile: exit %d, stderr %q; want 2 and the bad rule named", code, errOut)
	}
}

// TestCheckProgress checks that more than 50 files give progress on stderr
// and that stdout stays one JSON array.
func TestCheckProgress(t *testing.T) {
	dir := t.TempDir()
	for i := range 60 {
		name := filepath.Join(dir, "note"+string(rune('a'+i%26))+string(rune('a'+i/26))+".txt")
		if err := os.WriteFile(name, []byte("not DICOM"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := runCheckTest(t, checkOptions{format: "json"}, dir,
		realDir+"/highdicom-ct2-binary")
	if code != exitAccepted {
		t.Errorf("exit code = %d, want 0; stderr:\n%s", code, errOut)
	}
	if reps := decodeReports(t, out); len(reps) != 1 {
		t.Errorf("reports = %d, want 1", len(reps))
	}
	if !strings.Contains(errOut, "qcgate check: 100% (67/67 files read)") {
		t.Errorf("stderr = %q, want progress up to 67/67 files", errOut)
	}
}
