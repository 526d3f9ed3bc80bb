package qc

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestSourceBodyPartExamined reads Body Part Examined (0018,0015) from the
// real source files and from their DICOM JSON; the values are dcmdump's.
func TestSourceBodyPartExamined(t *testing.T) {
	tests := []struct {
		name, file, metadata string
		want                 string
	}{
		{"CT head", "highdicom-ct2-binary/source/CT2_17106.dcm", "ct2.json", "HEAD"},
		{"CR cervical spine", "highdicom-cr-binary-no-frame-of-reference/source/CR1_6154.dcm",
			"cr1.json", "CSPINE"},
		{"absent", "dcmqi-ct-liver-binary/source/ct-3slice-01.dcm", "ct-3slice.json", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inst := readSourceFile(t, filepath.Join(realDir, tt.file))
			if inst.BodyPartExamined != tt.want {
				t.Errorf("ReadSourceInstance(%s).BodyPartExamined = %q, want %q", tt.file,
					inst.BodyPartExamined, tt.want)
			}
			meta := readMetadataFile(t, filepath.Join("testdata", "metadata", tt.metadata))
			got := meta[inst.SOPInstanceUID]
			if got == nil || got.BodyPartExamined != tt.want {
				t.Errorf("SourcesFromMetadata(%s)[%s] = %+v, want BodyPartExamined %q",
					tt.metadata, inst.SOPInstanceUID, got, tt.want)
			}
		})
	}
}

// TestRequiredSegmentBodyPart checks that a requirement selecting by body
// part takes the body part from the sources when the options leave it
// empty, and that the option wins over the sources.
func TestRequiredSegmentBodyPart(t *testing.T) {
	p, err := ParseProfile([]byte(`name: bodypart
version: "1"
vocabulary:
  - id: liver
    category: {scheme: SCT, code: "123037004", meaning: Anatomical Structure}
    type: {scheme: SCT, code: "10200004", meaning: Liver}
  - id: spleen
    category: {scheme: SCT, code: "123037004", meaning: Anatomical Structure}
    type: {scheme: SCT, code: "78961009", meaning: Spleen}
required:
  - when: {modality: [CT], body_part_examined: [ABDOMEN]}
    segments: [liver, spleen]
rules:
  completeness: {enabled: true}
`))
	if err != nil {
		t.Fatalf("ParseProfile() error: %v", err)
	}
	tests := []struct {
		name string
		// sources is each source's Body Part Examined; option the
		// CheckOptions value.
		sources []string
		option  string
		want    []string
	}{
		{name: "abdomen from the sources", sources: []string{"ABDOMEN", "ABDOMEN"},
			want: []string{`profile bodypart requires a "spleen" segment on CT ABDOMEN ` +
				`sources: none of the 1 segments maps to it (labels ["Liver"])`}},
		{name: "first source with a value", sources: []string{"", "abdomen"},
			want: []string{`profile bodypart requires a "spleen" segment on CT abdomen ` +
				`sources: none of the 1 segments maps to it (labels ["Liver"])`}},
		{name: "head from the sources", sources: []string{"HEAD", "HEAD"}},
		{name: "unknown body part", sources: []string{"", ""}},
		{name: "option over the sources", sources: []string{"ABDOMEN", "ABDOMEN"},
			option: "HEAD"},
		{name: "option alone", sources: []string{"", ""}, option: "ABDOMEN",
			want: []string{`profile bodypart requires a "spleen" segment on CT ABDOMEN ` +
				`sources: none of the 1 segments maps to it (labels ["Liver"])`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, src := volumeSeg("1.9.1", 8, 8, 2, liverBlock())
			for k, bp := range tt.sources {
				src.Instance(tInstance(k + 1)).BodyPartExamined = bp
			}
			rep := NewEngine(p).CheckWith(context.Background(), s, src,
				CheckOptions{BodyPartExamined: tt.option})
			var got []string
			for _, f := range rep.Findings {
				if f.Rule == "completeness.required_segment" {
					got = append(got, f.Message)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CheckWith(%v, %q) findings (-want +got):\n%s", tt.sources, tt.option,
					diff)
			}
		})
	}
}
