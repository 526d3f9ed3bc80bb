package qc

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/tag"
)

const realDir = "testdata/real"

// readSourceFile reads one DICOM file with ReadSourceInstance.
func readSourceFile(t *testing.T, path string) *SourceInstance {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	defer f.Close()
	inst, err := ReadSourceInstance(f)
	if err != nil {
		t.Fatalf("ReadSourceInstance(%s) error: %v", path, err)
	}
	return inst
}

// readMetadataFile reads a DICOM JSON array with SourcesFromMetadata.
func readMetadataFile(t *testing.T, path string) map[string]*SourceInstance {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
	defer f.Close()
	insts, err := SourcesFromMetadata(f)
	if err != nil {
		t.Fatalf("SourcesFromMetadata(%s) error: %v", path, err)
	}
	m := make(map[string]*SourceInstance, len(insts))
	for _, inst := range insts {
		m[inst.SOPInstanceUID] = inst
	}
	return m
}

// TestSourcesFileAndMetadataAgree reads every real source image once from its
// Part 10 file and once from the DICOM JSON that dcm2json (DCMTK) made of
// the same file, and requires the same SourceInstance from both.
func TestSourcesFileAndMetadataAgree(t *testing.T) {
	tests := []struct {
		name     string
		metadata string
		source   string
		want     int
	}{
		{"ct-3slice", "ct-3slice.json", "dcmqi-ct-liver-binary", 3},
		{"23x38x3", "23x38x3.json", "dcmqi-23x38x3-binary-nonbyte-aligned", 3},
		{"24x38x3", "24x38x3.json", "dcmqi-24x38x3-labelmap-sparse-ppv5", 3},
		{"ct2", "ct2.json", "highdicom-ct2-binary", 4},
		{"ct-image", "ct-image.json", "highdicom-ct-binary-single-frame", 1},
		{"cr1", "cr1.json", "highdicom-cr-binary-no-frame-of-reference", 1},
		{"sm-image", "sm-image.json", "highdicom-sm-control-labelmap", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fromJSON := readMetadataFile(t, filepath.Join("testdata", "metadata", tt.metadata))
			files, err := filepath.Glob(filepath.Join(realDir, tt.source, "source", "*.dcm"))
			if err != nil || len(files) != tt.want {
				t.Fatalf("source files of %s = %d (%v), want %d",
					tt.source, len(files), err, tt.want)
			}
			if len(fromJSON) != tt.want {
				t.Fatalf("instances in %s = %d, want %d", tt.metadata, len(fromJSON), tt.want)
			}
			for _, path := range files {
				fromFile := readSourceFile(t, path)
				other := fromJSON[fromFile.SOPInstanceUID]
				if other == nil {
					t.Fatalf("%s: SOP Instance UID %s not in %s",
						path, fromFile.SOPInstanceUID, tt.metadata)
				}
				if diff := cmp.Diff(fromFile, other); diff != "" {
					t.Errorf("%s: file and metadata differ (-file +json):\n%s", path, diff)
				}
			}
		})
	}
}

// TestReadSourceInstanceValues checks decoded values against the facts of
// MANIFEST.md and dcmdump.
func TestReadSourceInstanceValues(t *testing.T) {
	ct := readSourceFile(t, filepath.Join(realDir, "dcmqi-ct-liver-binary/source/ct-3slice-01.dcm"))
	want := &SourceInstance{
		SOPClassUID:         "1.2.840.10008.5.1.4.1.1.2",
		SOPInstanceUID:      "1.2.392.200103.20080913.113635.2.2009.6.22.21.43.10.23431.1",
		SeriesInstanceUID:   "1.2.392.200103.20080913.113635.1.2009.6.22.21.43.10.23430.1",
		StudyInstanceUID:    "1.2.392.200103.20080913.113635.0.2009.6.22.21.43.10.22941.1",
		FrameOfReferenceUID: "1.2.392.200103.20080913.113635.3.2009.6.22.21.44.34.23882.1",
		Modality:            "CT",
		Rows:                512,
		Columns:             512,
		NumberOfFrames:      1,
		Frames: []SourceFrame{{
			Number:                  1,
			ImagePositionPatient:    []float64{-235.199997, -226.800003, -126.690002},
			ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0},
			PixelSpacing:            []float64{0.810547, 0.810547},
			SliceThickness:          1.25,
		}},
	}
	if diff := cmp.Diff(want, ct); diff != "" {
		t.Errorf("ReadSourceInstance(ct-3slice-01) mismatch (-want +got):\n%s", diff)
	}

	cr := readSourceFile(t, filepath.Join(realDir,
		"highdicom-cr-binary-no-frame-of-reference/source/CR1_6154.dcm"))
	if cr.FrameOfReferenceUID != "" || cr.Modality != "CR" || cr.Rows != 16 || cr.Columns != 16 {
		t.Errorf("CR1 = FoR %q modality %q %dx%d, want no FoR, CR, 16x16",
			cr.FrameOfReferenceUID, cr.Modality, cr.Rows, cr.Columns)
	}
	if diff := cmp.Diff([]SourceFrame{{Number: 1}}, cr.Frames); diff != "" {
		t.Errorf("CR1 frames carry geometry (-want +got):\n%s", diff)
	}
}

// TestReadSourceInstanceTiledFull checks the tile positions computed for the
// TILED_FULL slide microscopy source: a 50x50 total pixel matrix in 10x10
// tiles, frames running along rows of tiles (PS3.3 C.7.6.17.3).
func TestReadSourceInstanceTiledFull(t *testing.T) {
	sm := readSourceFile(t, filepath.Join(realDir,
		"highdicom-sm-control-labelmap/source/sm_image.dcm"))
	if sm.NumberOfFrames != 25 || len(sm.Frames) != 25 {
		t.Fatalf("sm_image frames = %d (%d items), want 25", sm.NumberOfFrames, len(sm.Frames))
	}
	if sm.TotalPixelMatrixRows != 50 || sm.TotalPixelMatrixColumns != 50 {
		t.Errorf("sm_image total matrix = %dx%d, want 50x50",
			sm.TotalPixelMatrixRows, sm.TotalPixelMatrixColumns)
	}
	tests := []struct{ frame, row, col int }{
		{1, 1, 1}, {2, 1, 11}, {5, 1, 41}, {6, 11, 1}, {13, 21, 21}, {25, 41, 41},
	}
	for _, tt := range tests {
		f := sm.Frames[tt.frame-1]
		if f.RowPositionInTotalImagePixelMatrix != tt.row ||
			f.ColumnPositionInTotalImagePixelMatrix != tt.col {
			t.Errorf("frame %d tile = (%d, %d), want (%d, %d)", tt.frame,
				f.RowPositionInTotalImagePixelMatrix, f.ColumnPositionInTotalImagePixelMatrix,
				tt.row, tt.col)
		}
		if diff := cmp.Diff([]float64{0.000499, 0.000499}, f.PixelSpacing); diff != "" {
			t.Errorf("frame %d PixelSpacing (-want +got):\n%s", tt.frame, diff)
		}
	}
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestReadSourceInstanceStream reads a source through a tee, as the gateway
// does while it forwards a STOW-RS part: the reader must stop near the end of
// Pixel Data and leave the rest of the stream to the caller.
func TestReadSourceInstanceStream(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(realDir,
		"dcmqi-ct-liver-binary/source/ct-3slice-02.dcm"))
	if err != nil {
		t.Fatalf("reading source: %v", err)
	}
	trailer := bytes.Repeat([]byte{0xAB}, 1<<20)
	cr := &countingReader{r: io.MultiReader(bytes.NewReader(data), bytes.NewReader(trailer))}
	var forwarded bytes.Buffer
	inst, err := ReadSourceInstance(io.TeeReader(cr, &forwarded))
	if err != nil {
		t.Fatalf("ReadSourceInstance(tee) error: %v", err)
	}
	if got, want := inst.Frames[0].ImagePositionPatient[2], -127.690002; got != want {
		t.Errorf("z = %v, want %v", got, want)
	}
	if limit := len(data) + 16<<10; cr.n > limit {
		t.Errorf("read %d bytes of a %d-byte file, want at most %d", cr.n, len(data), limit)
	}
	if _, err := io.Copy(&forwarded, cr); err != nil {
		t.Fatalf("draining: %v", err)
	}
	if !bytes.Equal(forwarded.Bytes()[:len(data)], data) {
		t.Errorf("forwarded bytes differ from the file")
	}
}

func TestReadSourceInstanceErrors(t *testing.T) {
	tests := []struct {
		name    string
		input   []byte
		wantErr error
	}{
		{"empty", nil, ErrNotDICOM},
		{"text", []byte(strings.Repeat("not dicom ", 40)), ErrNotDICOM},
		{
			"truncated header",
			append(make([]byte, 128), []byte("DICM\x02\x00\x00\x00UL\x04\x00")...),
			ErrInvalidSource,
		},
		{
			// A defined-length sequence holding an element that is not an
			// Item (PS3.5 7.5.1) made the dicom package panic.
			"sequence without items",
			part10File("1.2.840.10008.1.2.1", []byte{
				0x08, 0x00, 0x40, 0x11, 'S', 'Q', 0, 0, 10, 0, 0, 0,
				0x08, 0x00, 0x60, 0x00, 'C', 'S', 2, 0, 'C', 'T',
			}),
			ErrInvalidSource,
		},
		{
			// An unknown transfer syntax left the dicom package without a
			// byte order, and it panicked on the first element.
			"unknown transfer syntax",
			part10File("1.2.3.4", []byte{0x08, 0x00, 0x60, 0x00, 'C', 'S', 2, 0, 'C', 'T'}),
			ErrInvalidSource,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadSourceInstance(bytes.NewReader(tt.input))
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadSourceInstance(%s) error = %v, want %v", tt.name, err, tt.wantErr)
			}
		})
	}
}

// part10File returns a Part 10 stream: preamble, prefix, File Meta Information
// holding only its group length and the Transfer Syntax UID ts (PS3.10 7.1),
// then ds.
func part10File(ts string, ds []byte) []byte {
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

// mustElement builds a data set element for tests.
func mustElement(t *testing.T, tg tag.Tag, v any) *dicom.Element {
	t.Helper()
	e, err := dicom.NewElement(tg, v)
	if err != nil {
		t.Fatalf("NewElement(%v): %v", tg, err)
	}
	return e
}

// TestSourceFromDatasetEnhanced reads an Enhanced CT style data set whose
// orientation and spacing are in the shared functional groups and whose
// positions are per frame, and compares it with the same instance in DICOM
// JSON, written with DS values as strings and lower-case keys.
func TestSourceFromDatasetEnhanced(t *testing.T) {
	seq := func(items ...[]*dicom.Element) [][]*dicom.Element { return items }
	position := func(z string) []*dicom.Element {
		return []*dicom.Element{mustElement(t, tagPlanePositionSequence, seq([]*dicom.Element{
			mustElement(t, tag.ImagePositionPatient, []string{"-10", "-20", z}),
		}))}
	}
	ds := dicom.Dataset{Elements: []*dicom.Element{
		mustElement(t, tag.SOPClassUID, []string{"1.2.840.10008.5.1.4.1.1.2.1"}),
		mustElement(t, tag.SOPInstanceUID, []string{"1.2.3.4"}),
		mustElement(t, tag.StudyInstanceUID, []string{"1.2.3"}),
		mustElement(t, tag.SeriesInstanceUID, []string{"1.2.3.1"}),
		mustElement(t, tag.FrameOfReferenceUID, []string{"1.2.3.9"}),
		mustElement(t, tag.Modality, []string{"CT"}),
		mustElement(t, tag.NumberOfFrames, []string{"2"}),
		mustElement(t, tag.Rows, []int{4}),
		mustElement(t, tag.Columns, []int{6}),
		mustElement(t, tag.SharedFunctionalGroupsSequence, seq([]*dicom.Element{
			mustElement(t, tagPlaneOrientationSequence, seq([]*dicom.Element{
				mustElement(t, tag.ImageOrientationPatient, []string{"1", "0", "0", "0", "1", "0"}),
			})),
			mustElement(t, tag.PixelMeasuresSequence, seq([]*dicom.Element{
				mustElement(t, tag.PixelSpacing, []string{"0.5", "0.25"}),
				mustElement(t, tag.SliceThickness, []string{"2"}),
				mustElement(t, tag.SpacingBetweenSlices, []string{"1.5"}),
			})),
		})),
		mustElement(t, tag.PerFrameFunctionalGroupsSequence, seq(position("7.5"), position("9"))),
	}}
	frame := func(n int, z float64) SourceFrame {
		return SourceFrame{
			Number:                  n,
			ImagePositionPatient:    []float64{-10, -20, z},
			ImageOrientationPatient: []float64{1, 0, 0, 0, 1, 0},
			PixelSpacing:            []float64{0.5, 0.25},
			SliceThickness:          2,
			SpacingBetweenSlices:    1.5,
		}
	}
	want := &SourceInstance{
		SOPClassUID:         "1.2.840.10008.5.1.4.1.1.2.1",
		SOPInstanceUID:      "1.2.3.4",
		SeriesInstanceUID:   "1.2.3.1",
		StudyInstanceUID:    "1.2.3",
		FrameOfReferenceUID: "1.2.3.9",
		Modality:            "CT",
		Rows:                4,
		Columns:             6,
		NumberOfFrames:      2,
		Frames:              []SourceFrame{frame(1, 7.5), frame(2, 9)},
	}

	got, err := SourceFromDataset(ds)
	if err != nil {
		t.Fatalf("SourceFromDataset() error: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SourceFromDataset() mismatch (-want +got):\n%s", diff)
	}

	const metadata = `[{
	"00080016": {"vr": "UI", "Value": ["1.2.840.10008.5.1.4.1.1.2.1"]},
	"00080018": {"vr": "UI", "Value": ["1.2.3.4"]},
	"0020000d": {"vr": "UI", "Value": ["1.2.3"]},
	"0020000E": {"vr": "UI", "Value": ["1.2.3.1"]},
	"00200052": {"vr": "UI", "Value": ["1.2.3.9"]},
	"00080060": {"vr": "CS", "Value": ["CT"]},
	"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]},
	"00280008": {"vr": "IS", "Value": ["2"]},
	"00280010": {"vr": "US", "Value": [4]},
	"00280011": {"vr": "US", "Value": [6]},
	"7FE00010": {"vr": "OB", "BulkDataURI": "http://example.org/bulk"},
	"52009229": {"vr": "SQ", "Value": [{
		"00209116": {"vr": "SQ", "Value": [{
			"00200037": {"vr": "DS", "Value": ["1", "0", "0", "0", "1", "0"]}}]},
		"00289110": {"vr": "SQ", "Value": [{
			"00280030": {"vr": "DS", "Value": [0.5, "0.25"]},
			"00180050": {"vr": "DS", "Value": [2]},
			"00180088": {"vr": "DS", "Value": ["1.5 "]}}]}}]},
	"52009230": {"vr": "SQ", "Value": [
		{"00209113": {"vr": "SQ", "Value": [{"00200032": {"vr": "DS", "Value": [-10, -20, 7.5]}}]}},
		{"00209113": {"vr": "SQ", "Value": [{"00200032": {"vr": "DS", "Value": ["-10", "-20", "9"]}}]}}
	]}
}]`
	insts, err := SourcesFromMetadata(strings.NewReader(metadata))
	if err != nil || len(insts) != 1 {
		t.Fatalf("SourcesFromMetadata() = %d instances, %v; want 1, nil", len(insts), err)
	}
	if diff := cmp.Diff(want, insts[0]); diff != "" {
		t.Errorf("SourcesFromMetadata() mismatch (-want +got):\n%s", diff)
	}
}

func TestSourcesFromMetadataErrors(t *testing.T) {
	tests := []struct {
		name       string
		input      string
		wantCount  int
		wantErr    error
		wantAnyErr bool
	}{
		{name: "empty array", input: `[]`},
		{name: "not an array", input: `{"00080018": {"vr": "UI"}}`, wantErr: ErrInvalidSource},
		{name: "not JSON", input: `<xml/>`, wantAnyErr: true},
		{name: "truncated", input: `[{"00080018": {"vr": "UI", "Value": ["1"]}}`, wantAnyErr: true},
		{
			name: "one bad instance kept apart",
			input: `[{"00080018": {"vr": "UI", "Value": ["1.2"]}},
				{"00080018": {"vr": "UI", "Value": ["1.3"]},
				 "00200032": {"vr": "DS", "Value": ["a", "b", "c"]}},
				{"00200032": {"vr": "DS", "Value": [1, 2, 3]}}]`,
			wantCount: 1,
			wantErr:   ErrInvalidSource,
		},
		{
			name: "wrong multiplicity",
			input: `[{"00080018": {"vr": "UI", "Value": ["1.3"]},
				 "00280030": {"vr": "DS", "Value": [1]}}]`,
			wantErr: ErrInvalidSource,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			insts, err := SourcesFromMetadata(strings.NewReader(tt.input))
			if len(insts) != tt.wantCount {
				t.Errorf("SourcesFromMetadata() = %d instances, want %d", len(insts), tt.wantCount)
			}
			switch {
			case tt.wantAnyErr:
				if err == nil {
					t.Errorf("SourcesFromMetadata() error = nil, want an error")
				}
			case !errors.Is(err, tt.wantErr) && (tt.wantErr != nil || err != nil):
				t.Errorf("SourcesFromMetadata() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}
