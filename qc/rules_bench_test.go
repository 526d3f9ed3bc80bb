package qc

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// benchFamiliesProfile enables every optional family; its vocabulary maps
// the benchmark SEG's five segments by label, so agreement compares each
// with its namesake only.
func benchFamiliesProfile(b *testing.B) *Profile {
	var sb strings.Builder
	sb.WriteString("name: bench\nversion: \"1\"\nvocabulary:\n")
	for s := 1; s <= benchSegments; s++ {
		fmt.Fprintf(&sb, "  - id: s%d\n    category: {scheme: SCT, code: \"123037004\", "+
			"meaning: Anatomical Structure}\n    type: {scheme: 99X, code: \"S%d\", "+
			"meaning: Segment %d}\n    labels: [segment %d]\n    volume_ml: {min: 1, "+
			"max: 5000}\n", s, s, s, s)
	}
	sb.WriteString("required:\n  - segments: [s1, s2]\nrules:\n")
	for _, fam := range []string{"labels", "completeness", "overlap", "fractional",
		"plausibility", "boundary", "agreement"} {
		fmt.Fprintf(&sb, "  %s: {enabled: true}\n", fam)
	}
	p, err := ParseProfile([]byte(sb.String()))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// constPixels returns one 512x512 frame of 40 HU for every source frame.
type constPixels struct{ v []float64 }

func (p constPixels) FrameValues(context.Context, *SourceInstance, int) ([]float64, error) {
	return p.v, nil
}

// BenchmarkCheckFamilies checks the 512x512x300 5-segment SEG with every
// optional family on: 3D components, islands and holes of every segment,
// slice gaps, overlap, CT air share against 300 source frames, and
// agreement (Dice, HD95 with the exact EDT) of all 5 segments against a
// second annotator's SEG with the same masks.
func BenchmarkCheckFamilies(b *testing.B) {
	data, _ := benchSEG()
	seg, err := ParseSegmentation(data)
	if err != nil {
		b.Fatal(err)
	}
	peer, err := ParseSegmentation(data)
	if err != nil {
		b.Fatal(err)
	}
	peer.SOPInstanceUID += ".2"
	peer.ReferencedSeries = []ReferencedSeries{{SeriesInstanceUID: "x"}}
	sources := benchSources(seg)
	v := make([]float64, benchRows*benchColumns)
	for i := range v {
		v[i] = 40
	}
	opts := CheckOptions{Peers: fixedPeers{{Segmentation: peer}}, Pixels: constPixels{v}}
	eng := NewEngine(benchFamiliesProfile(b))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep := eng.CheckWith(context.Background(), seg, sources, opts)
		if len(rep.Agreement) != benchSegments || rep.Agreement[0].Dice != 1 {
			b.Fatalf("agreement = %+v, want %d exact matches", rep.Agreement, benchSegments)
		}
	}
}

// fixedPeers returns its peers whatever the SEG.
type fixedPeers []Peer

func (f fixedPeers) Peers(context.Context, *Segmentation) ([]Peer, error) { return f, nil }
