package review

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// testNote is a rejection note of a SEG.
var testNote = RejectionNote{
	StudyInstanceUID:  "1.2.826.0.1.3680043.8.498.1",
	SeriesInstanceUID: "1.2.826.0.1.3680043.8.498.2",
	SOPClassUID:       "1.2.840.10008.5.1.4.1.1.66.4",
	SOPInstanceUID:    "1.2.826.0.1.3680043.8.498.3",
	Patient: PatientStudy{PatientName: "Doe^Jane", PatientID: "P-17",
		StudyDate: "20240102", StudyTime: "101500", AccessionNumber: "A42"},
	Reason: "segment 2 leaks into the spleen",
	Time:   time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC),
}

// str returns the first string value of an element of items, following
// the path of tags through first items of sequences.
func str(t *testing.T, elems []*dicom.Element, path ...tag.Tag) string {
	t.Helper()
	for i, tg := range path {
		var found *dicom.Element
		for _, e := range elems {
			if e.Tag == tg {
				found = e
			}
		}
		if found == nil {
			t.Fatalf("no element %s", tg)
		}
		if i == len(path)-1 {
			ss, ok := found.Value.GetValue().([]string)
			if !ok || len(ss) == 0 {
				return ""
			}
			return ss[0]
		}
		items, ok := found.Value.GetValue().([]*dicom.SequenceItemValue)
		if !ok || len(items) == 0 {
			t.Fatalf("element %s is no sequence with items", tg)
		}
		elems = items[len(items)-1].GetValue().([]*dicom.Element)
	}
	return ""
}

func TestBuildRejectionKOS(t *testing.T) {
	b, err := BuildRejectionKOS(testNote)
	if err != nil {
		t.Fatalf("BuildRejectionKOS = %v", err)
	}
	if len(b) < 132 || string(b[128:132]) != "DICM" {
		t.Fatalf("no Part 10 preamble and DICM prefix")
	}
	ds, err := dicom.Parse(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatalf("parsing the note: %v", err)
	}
	series, sop := NoteUIDs(testNote.SOPInstanceUID)
	el := ds.Elements
	got := map[string]string{
		"TransferSyntaxUID":   str(t, el, tag.TransferSyntaxUID),
		"SOPClassUID":         str(t, el, tag.SOPClassUID),
		"MediaStorageSOP":     str(t, el, tag.MediaStorageSOPInstanceUID),
		"SOPInstanceUID":      str(t, el, tag.SOPInstanceUID),
		"Modality":            str(t, el, tag.Modality),
		"SeriesInstanceUID":   str(t, el, tag.SeriesInstanceUID),
		"StudyInstanceUID":    str(t, el, tag.StudyInstanceUID),
		"PatientID":           str(t, el, tag.PatientID),
		"PatientName":         str(t, el, tag.PatientName),
		"AccessionNumber":     str(t, el, tag.AccessionNumber),
		"ContentDate":         str(t, el, tag.ContentDate),
		"ValueType":           str(t, el, tag.ValueType),
		"Title":               str(t, el, tag.ConceptNameCodeSequence, tag.CodeValue),
		"TitleScheme":         str(t, el, tag.ConceptNameCodeSequence, tag.CodingSchemeDesignator),
		"TitleMeaning":        str(t, el, tag.ConceptNameCodeSequence, tag.CodeMeaning),
		"Template":            str(t, el, tag.ContentTemplateSequence, tag.TemplateIdentifier),
		"ReferencedValueType": str(t, el, tag.ContentSequence, tag.ValueType),
		"ReferencedSOP": str(t, el, tag.ContentSequence, tag.ReferencedSOPSequence,
			tag.ReferencedSOPInstanceUID),
		"ReferencedClass": str(t, el, tag.ContentSequence, tag.ReferencedSOPSequence,
			tag.ReferencedSOPClassUID),
		"EvidenceSeries": str(t, el, tag.CurrentRequestedProcedureEvidenceSequence,
			tag.ReferencedSeriesSequence, tag.SeriesInstanceUID),
		"EvidenceSOP": str(t, el, tag.CurrentRequestedProcedureEvidenceSequence,
			tag.ReferencedSeriesSequence, tag.ReferencedSOPSequence,
			tag.ReferencedSOPInstanceUID),
	}
	want := map[string]string{
		"TransferSyntaxUID":   "1.2.840.10008.1.2.1",
		"SOPClassUID":         "1.2.840.10008.5.1.4.1.1.88.59",
		"MediaStorageSOP":     sop,
		"SOPInstanceUID":      sop,
		"Modality":            "KO",
		"SeriesInstanceUID":   series,
		"StudyInstanceUID":    testNote.StudyInstanceUID,
		"PatientID":           "P-17",
		"PatientName":         "Doe^Jane",
		"AccessionNumber":     "A42",
		"ContentDate":         "20250304",
		"ValueType":           "CONTAINER",
		"Title":               "113001",
		"TitleScheme":         "DCM",
		"TitleMeaning":        "Rejected for Quality Reasons",
		"Template":            "2010",
		"ReferencedValueType": "IMAGE",
		"ReferencedSOP":       testNote.SOPInstanceUID,
		"ReferencedClass":     testNote.SOPClassUID,
		"EvidenceSeries":      testNote.SeriesInstanceUID,
		"EvidenceSOP":         testNote.SOPInstanceUID,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("note attributes (-want +got):\n%s", diff)
	}
	if !bytes.Contains(b, []byte(testNote.Reason)) {
		t.Errorf("note does not carry the reason %q", testNote.Reason)
	}
}

func TestNoteUIDs(t *testing.T) {
	uid := regexp.MustCompile(`^2\.25\.(0|[1-9][0-9]*)$`)
	s1, i1 := NoteUIDs("1.2.3.4")
	s2, i2 := NoteUIDs("1.2.3.4")
	_, i3 := NoteUIDs("1.2.3.5")
	for _, u := range []string{s1, i1, i3, implementationClassUID} {
		if !uid.MatchString(u) || len(u) > 64 {
			t.Errorf("UID %q is not a 2.25 UID of at most 64 characters", u)
		}
	}
	if s1 != s2 || i1 != i2 || i1 == i3 || s1 == i1 {
		t.Errorf("NoteUIDs not stable or not distinct: %s %s %s %s %s", s1, s2, i1, i2, i3)
	}
}

func TestBuildRejectionKOSErrors(t *testing.T) {
	n := testNote
	n.SOPClassUID = ""
	if _, err := BuildRejectionKOS(n); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("BuildRejectionKOS(no SOP class) = %v, want ErrInvalidRequest", err)
	}
	n = testNote
	n.Patient.PatientName = "Müller^Jörg"
	b, err := BuildRejectionKOS(n)
	if err != nil {
		t.Fatalf("BuildRejectionKOS(non-ASCII name) = %v", err)
	}
	ds, err := dicom.Parse(bytes.NewReader(b), int64(len(b)), nil)
	if err != nil {
		t.Fatalf("parsing: %v", err)
	}
	if got := str(t, ds.Elements, tag.SpecificCharacterSet); got != "ISO_IR 192" {
		t.Errorf("Specific Character Set = %q, want ISO_IR 192", got)
	}
}

// TestRejectionKOSValidates runs dicom3tools' dciodvfy on the note: it must
// report no error, only the DICOMDIR warnings about empty type 2 study
// attributes. Without dciodvfy the test skips, or fails when CI is set
// (CI installs dicom3tools).
func TestRejectionKOSValidates(t *testing.T) {
	bin, err := exec.LookPath("dciodvfy")
	if err != nil {
		const msg = "dciodvfy not found: install the Debian package dicom3tools"
		if os.Getenv("CI") != "" {
			t.Fatalf("%s (CI is set, so this fails instead of skipping)", msg)
		}
		t.Skip(msg)
	}
	n := testNote
	n.Patient.StudyID = ""
	b, err := BuildRejectionKOS(n)
	if err != nil {
		t.Fatalf("BuildRejectionKOS = %v", err)
	}
	path := filepath.Join(t.TempDir(), "kos.dcm")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, _ := exec.Command(bin, path).CombinedOutput()
	text := string(out)
	if !strings.Contains(text, "KeyObjectSelectionDocument") {
		t.Errorf("dciodvfy did not recognise a Key Object Selection Document:\n%s", text)
	}
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "Error") {
			t.Errorf("dciodvfy: %s", strings.TrimSpace(line))
		}
	}
}
