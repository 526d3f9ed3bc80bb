package qc

import (
	"bytes"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	grail "github.com/grailbio/go-dicom"
	"github.com/grailbio/go-dicom/dicomtag"
)

// TestDifferentialGrailbio reads every real SEG with a second, unrelated
// DICOM parser and compares what both find: the identifying attributes, the
// frame matrix and the Pixel Data bytes (the native value, or every
// fragment of encapsulated data).
func TestDifferentialGrailbio(t *testing.T) {
	for _, tc := range realCases {
		t.Run(tc.dir, func(t *testing.T) {
			if tc.ts == uidDeflatedImageFrame {
				t.Skip("grailbio/go-dicom predates Deflated Image Frame Compression " +
					"(DICOM 2024) and refuses its UID")
			}
			data := readReal(t, tc.dir, tc.file)
			ds, err := grail.ReadDataSetInBytes(data, grail.ReadOptions{})
			if err != nil {
				t.Fatalf("grailbio ReadDataSetInBytes: %v", err)
			}
			s := mustParse(t, data)
			f, err := readPart10(data)
			if err != nil {
				t.Fatalf("readPart10: %v", err)
			}

			type facts struct {
				SOPInstanceUID, SeriesInstanceUID string
				Rows, Columns, NumberOfFrames     int
				PixelChunks                       [][]byte
			}
			got := facts{s.SOPInstanceUID, s.SeriesInstanceUID, s.Rows, s.Columns,
				s.NumberOfFrames, nil}
			if f.pixel.encapsulated {
				got.PixelChunks = f.pixel.fragments
			} else {
				got.PixelChunks = [][]byte{f.pixel.value}
			}
			want := facts{
				SOPInstanceUID:    grailString(t, ds, dicomtag.SOPInstanceUID),
				SeriesInstanceUID: grailString(t, ds, dicomtag.SeriesInstanceUID),
				Rows:              grailInt(t, ds, dicomtag.Rows),
				Columns:           grailInt(t, ds, dicomtag.Columns),
				NumberOfFrames:    grailInt(t, ds, dicomtag.NumberOfFrames),
				PixelChunks:       grailPixels(t, ds),
			}
			if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
				t.Errorf("qc and grailbio disagree (-grailbio +qc):\n%s", diff)
			}
		})
	}
}

func grailString(t *testing.T, ds *grail.DataSet, tag dicomtag.Tag) string {
	t.Helper()
	e, err := ds.FindElementByTag(tag)
	if err != nil {
		t.Fatalf("grailbio %v: %v", tag, err)
	}
	return strings.TrimRight(e.MustGetString(), " \x00")
}

func grailInt(t *testing.T, ds *grail.DataSet, tag dicomtag.Tag) int {
	t.Helper()
	e, err := ds.FindElementByTag(tag)
	if err != nil {
		t.Fatalf("grailbio %v: %v", tag, err)
	}
	if v, err := e.GetUInt16(); err == nil {
		return int(v)
	}
	n, err := strconv.Atoi(strings.TrimSpace(e.MustGetString()))
	if err != nil {
		t.Fatalf("grailbio %v: %v", tag, err)
	}
	return n
}

func grailPixels(t *testing.T, ds *grail.DataSet) [][]byte {
	t.Helper()
	e, err := ds.FindElementByTag(dicomtag.PixelData)
	if err != nil {
		t.Fatalf("grailbio PixelData: %v", err)
	}
	info, ok := e.Value[0].(grail.PixelDataInfo)
	if !ok {
		t.Fatalf("grailbio PixelData value is %T", e.Value[0])
	}
	return info.Frames
}
