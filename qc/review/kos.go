package review

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/big"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

// UIDs of the rejection note.
const (
	// KeyObjectSelectionStorage is the SOP Class UID of the Key Object
	// Selection Document (PS3.4 Annex B.5).
	KeyObjectSelectionStorage = "1.2.840.10008.5.1.4.1.1.88.59"
	// explicitVRLittleEndian is the transfer syntax of the note.
	explicitVRLittleEndian = "1.2.840.10008.1.2.1"
)

// implementationClassUID identifies qcgate as the writer of the note
// (PS3.7 D.3.3.2).
var implementationClassUID = derivedUID("qcgate implementation class")

// Codes of the note's content (PS3.16 CID 7010, TID 2010).
const (
	codeRejectedForQuality  = "113001"
	meaningRejected         = "Rejected for Quality Reasons"
	codeKeyObjectDesc       = "113012"
	meaningKeyObjectDesc    = "Key Object Description"
	keyObjectSelectionTID   = "2010"
	maxNoteDescriptionChars = 1024
)

// PatientStudy holds the Patient (PS3.3 C.7.1.1) and General Study (PS3.3
// C.7.2.1) attributes a rejection note repeats from the instance it
// rejects, so that the archive files it under the same patient and study.
// Empty values are written empty (they are type 2).
type PatientStudy struct {
	PatientName            string
	PatientID              string
	PatientBirthDate       string
	PatientSex             string
	StudyDate              string
	StudyTime              string
	ReferringPhysicianName string
	StudyID                string
	AccessionNumber        string
}

// RejectionNote describes a Key Object Selection document that rejects
// one instance for quality reasons.
type RejectionNote struct {
	// StudyInstanceUID, SOPClassUID and SOPInstanceUID identify the
	// rejected instance, and SeriesInstanceUID its series.
	StudyInstanceUID  string
	SeriesInstanceUID string
	SOPClassUID       string
	SOPInstanceUID    string
	// Patient holds the rejected instance's patient and study attributes.
	Patient PatientStudy
	// Reason, when not empty, becomes the Key Object Description text
	// (at most 1024 characters are kept).
	Reason string
	// Time is the note's content date and time; zero means now.
	Time time.Time
}

// NoteUIDs returns the Series and SOP Instance UIDs of the rejection note
// of an instance. They are derived from its SOP Instance UID, so that a
// note written again after a failure is the same instance, which archives
// do not store twice.
func NoteUIDs(sopInstanceUID string) (series, instance string) {
	return derivedUID("qcgate rejection note series " + sopInstanceUID),
		derivedUID("qcgate rejection note " + sopInstanceUID)
}

// derivedUID returns a UID under the 2.25 root (PS3.5 B.2) made from a
// name-based UUID: SHA-256 of name, cut to 128 bits, with the version
// (8, custom) and variant bits of RFC 9562 set.
func derivedUID(name string) string {
	sum := sha256.Sum256([]byte(name))
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x80
	u[8] = u[8]&0x3f | 0x80
	return "2.25." + new(big.Int).SetBytes(u).String()
}

// BuildRejectionKOS returns the DICOM Part 10 bytes (explicit VR little
// endian) of a Key Object Selection Document (PS3.3 A.35.4) whose title is
// (113001, DCM, "Rejected for Quality Reasons") from CID 7010 and whose
// content, after TID 2010, references the rejected instance. Its Series
// and SOP Instance UIDs come from [NoteUIDs].
func BuildRejectionKOS(n RejectionNote) ([]byte, error) {
	for _, f := range []struct{ name, v string }{{"StudyInstanceUID", n.StudyInstanceUID},
		{"SeriesInstanceUID", n.SeriesInstanceUID}, {"SOPClassUID", n.SOPClassUID},
		{"SOPInstanceUID", n.SOPInstanceUID}} {
		if f.v == "" {
			return nil, fmt.Errorf("building rejection note: %w: no %s", ErrInvalidRequest,
				f.name)
		}
	}
	at := n.Time
	if at.IsZero() {
		at = time.Now()
	}
	date, clock := at.UTC().Format("20060102"), at.UTC().Format("150405")
	series, sop := NoteUIDs(n.SOPInstanceUID)
	p := n.Patient

	e := &elements{}
	e.add(tag.FileMetaInformationVersion, []byte{0, 1})
	e.add(tag.MediaStorageSOPClassUID, []string{KeyObjectSelectionStorage})
	e.add(tag.MediaStorageSOPInstanceUID, []string{sop})
	e.add(tag.TransferSyntaxUID, []string{explicitVRLittleEndian})
	e.add(tag.ImplementationClassUID, []string{implementationClassUID})
	e.add(tag.ImplementationVersionName, []string{"QCGATE"})
	if !isASCII(p.PatientName, p.ReferringPhysicianName, n.Reason, p.PatientID) {
		e.add(tag.SpecificCharacterSet, []string{"ISO_IR 192"})
	}

	// SOP Common (PS3.3 C.12.1).
	e.add(tag.SOPClassUID, []string{KeyObjectSelectionStorage})
	e.add(tag.SOPInstanceUID, []string{sop})
	e.add(tag.InstanceCreationDate, []string{date})
	e.add(tag.InstanceCreationTime, []string{clock})
	// Patient (C.7.1.1) and General Study (C.7.2.1), copied.
	e.add(tag.PatientName, []string{p.PatientName})
	e.add(tag.PatientID, []string{p.PatientID})
	e.add(tag.PatientBirthDate, []string{p.PatientBirthDate})
	e.add(tag.PatientSex, []string{p.PatientSex})
	e.add(tag.StudyInstanceUID, []string{n.StudyInstanceUID})
	e.add(tag.StudyDate, []string{p.StudyDate})
	e.add(tag.StudyTime, []string{p.StudyTime})
	e.add(tag.ReferringPhysicianName, []string{p.ReferringPhysicianName})
	e.add(tag.StudyID, []string{p.StudyID})
	e.add(tag.AccessionNumber, []string{p.AccessionNumber})
	// Key Object Document Series (C.17.6.1).
	e.add(tag.Modality, []string{"KO"})
	e.add(tag.SeriesInstanceUID, []string{series})
	e.add(tag.SeriesNumber, []string{"9901"})
	e.add(tag.ReferencedPerformedProcedureStepSequence, [][]*dicom.Element{})
	// General Equipment (C.7.5.1).
	e.add(tag.Manufacturer, []string{"qcgate"})
	// Key Object Document (C.17.6.2).
	e.add(tag.InstanceNumber, []string{"1"})
	e.add(tag.ContentDate, []string{date})
	e.add(tag.ContentTime, []string{clock})
	ref := &elements{}
	ref.add(tag.ReferencedSOPClassUID, []string{n.SOPClassUID})
	ref.add(tag.ReferencedSOPInstanceUID, []string{n.SOPInstanceUID})
	refSeries := &elements{}
	refSeries.add(tag.ReferencedSOPSequence, [][]*dicom.Element{ref.sorted()})
	refSeries.add(tag.SeriesInstanceUID, []string{n.SeriesInstanceUID})
	evidence := &elements{}
	evidence.add(tag.ReferencedSeriesSequence, [][]*dicom.Element{refSeries.sorted()})
	evidence.add(tag.StudyInstanceUID, []string{n.StudyInstanceUID})
	e.add(tag.CurrentRequestedProcedureEvidenceSequence,
		[][]*dicom.Element{evidence.sorted()})
	// SR Document Content (C.17.3) after TID 2010.
	e.add(tag.ValueType, []string{"CONTAINER"})
	e.add(tag.ConceptNameCodeSequence, [][]*dicom.Element{
		code(codeRejectedForQuality, meaningRejected)})
	e.add(tag.ContinuityOfContent, []string{"SEPARATE"})
	tmpl := &elements{}
	tmpl.add(tag.MappingResource, []string{"DCMR"})
	tmpl.add(tag.TemplateIdentifier, []string{keyObjectSelectionTID})
	e.add(tag.ContentTemplateSequence, [][]*dicom.Element{tmpl.sorted()})
	e.add(tag.ContentSequence, contentItems(n, ref))

	if e.err != nil {
		return nil, fmt.Errorf("building rejection note: %w", e.err)
	}
	var buf bytes.Buffer
	if err := dicom.Write(&buf, dicom.Dataset{Elements: e.sorted()}); err != nil {
		return nil, fmt.Errorf("writing rejection note: %w", err)
	}
	return buf.Bytes(), nil
}

// contentItems returns the items of the root Content Sequence: the
// optional Key Object Description, then the reference to the rejected
// instance (an IMAGE item: a Segmentation is an image IOD).
func contentItems(n RejectionNote, ref *elements) [][]*dicom.Element {
	var items [][]*dicom.Element
	if n.Reason != "" {
		reason := n.Reason
		if utf8.RuneCountInString(reason) > maxNoteDescriptionChars {
			reason = string([]rune(reason)[:maxNoteDescriptionChars])
		}
		text := &elements{}
		text.add(tag.RelationshipType, []string{"CONTAINS"})
		text.add(tag.ValueType, []string{"TEXT"})
		text.add(tag.ConceptNameCodeSequence, [][]*dicom.Element{
			code(codeKeyObjectDesc, meaningKeyObjectDesc)})
		text.add(tag.TextValue, []string{reason})
		items = append(items, text.sorted())
	}
	image := &elements{}
	image.add(tag.RelationshipType, []string{"CONTAINS"})
	image.add(tag.ValueType, []string{"IMAGE"})
	image.add(tag.ReferencedSOPSequence, [][]*dicom.Element{ref.sorted()})
	return append(items, image.sorted())
}

// code returns the items of a DCM code sequence item.
func code(value, meaning string) []*dicom.Element {
	c := &elements{}
	c.add(tag.CodeValue, []string{value})
	c.add(tag.CodingSchemeDesignator, []string{"DCM"})
	c.add(tag.CodeMeaning, []string{meaning})
	return c.sorted()
}

// elements collects data elements and the first error making one.
type elements struct {
	list []*dicom.Element
	err  error
}

// add appends an element of tag t.
func (e *elements) add(t tag.Tag, v any) {
	el, err := dicom.NewElement(t, v)
	if err != nil && e.err == nil {
		e.err = fmt.Errorf("element %s: %w", t, err)
	}
	if err == nil {
		e.list = append(e.list, el)
	}
}

// sorted returns the elements in ascending tag order, as PS3.5 7.1
// requires.
func (e *elements) sorted() []*dicom.Element {
	slices.SortFunc(e.list, func(a, b *dicom.Element) int {
		if a.Tag.Group != b.Tag.Group {
			return int(a.Tag.Group) - int(b.Tag.Group)
		}
		return int(a.Tag.Element) - int(b.Tag.Element)
	})
	return e.list
}

// isASCII reports whether every string is plain ASCII.
func isASCII(ss ...string) bool {
	for _, s := range ss {
		for i := range len(s) {
			if s[i] >= 0x80 {
				return false
			}
		}
	}
	return true
}
