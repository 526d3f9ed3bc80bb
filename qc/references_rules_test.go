package qc

import "testing"

// withoutInstance returns a copy of src without instance uid.
func withoutInstance(src *SourceSet, uid string) *SourceSet {
	out := NewSourceSet()
	for _, s := range src.bySeries {
		for _, inst := range s {
			if inst.SOPInstanceUID != uid {
				out.Add(inst)
			}
		}
	}
	return out
}

func TestRuleSourceMissing(t *testing.T) {
	runRuleCases(t, "references.source_missing", []ruleCase{
		{
			name:     "no sources at all",
			modify:   func(_ *Segmentation, src *SourceSet) { *src = *NewSourceSet() },
			want:     []found{{"references.source_missing", 0, 0}},
			wantText: "none of its 3 referenced instances is among the 0 source instances found",
		},
		{
			name: "no reference at all",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.ReferencedSeries = nil
				for i := range s.Frames {
					s.Frames[i].SourceImages = nil
				}
			},
			want:     []found{{"references.source_missing", 0, 0}},
			wantText: "found no reference",
		},
		{
			name: "an instance of an unnamed series, absent",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[1].SourceImages = []ImageReference{{SOPInstanceUID: "1.2.826.0.1.7"}}
			},
			want:     []found{{"references.source_missing", 0, 2}},
			wantText: "1.2.826.0.1.7",
		},
	})
}

func TestRuleInstanceMissing(t *testing.T) {
	runRuleCases(t, "references.instance_missing", []ruleCase{
		{
			name: "slice 2 missing from its present series",
			modify: func(_ *Segmentation, src *SourceSet) {
				*src = *withoutInstance(src, tInstance(2))
			},
			want:     []found{{"references.instance_missing", 0, 2}},
			wantText: "its series " + tSeries + " is there with 2 instances",
		},
		{
			name:   "whole series missing is the other rule's",
			modify: func(_ *Segmentation, src *SourceSet) { *src = *NewSourceSet() },
		},
	})
}

func TestRuleFrameNumber(t *testing.T) {
	runRuleCases(t, "references.frame_number", []ruleCase{
		{
			name: "frame 2 of a single-frame image",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[0].SourceImages[0].ReferencedFrameNumber = []int{2}
			},
			want:     []found{{"references.frame_number", 1, 1}},
			wantText: "must lie in 1..1",
		},
		{
			name: "frame 1 of a single-frame image",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.Frames[0].SourceImages[0].ReferencedFrameNumber = []int{1}
			},
		},
	})
}

func TestRuleSeriesListed(t *testing.T) {
	runRuleCases(t, "references.series_listed", []ruleCase{
		{
			name: "frame names an unlisted instance",
			modify: func(s *Segmentation, _ *SourceSet) {
				s.ReferencedSeries[0].Instances = s.ReferencedSeries[0].Instances[:2]
			},
			want:     []found{{"references.series_listed", 0, 3}},
			wantText: tInstance(3),
		},
		{
			name:   "no Referenced Series Sequence",
			modify: func(s *Segmentation, _ *SourceSet) { s.ReferencedSeries = nil },
			want:   []found{{"references.series_listed", 0, 0}},
		},
	})
}

func TestRuleStudy(t *testing.T) {
	runRuleCases(t, "references.study", []ruleCase{
		{
			name:     "SEG in another study",
			modify:   func(s *Segmentation, _ *SourceSet) { s.StudyInstanceUID = "1.2.826.0.1.99" },
			want:     []found{{"references.study", 0, 0}},
			wantText: `its Study Instance UID is "1.2.826.0.1.99"`,
		},
	})
}
