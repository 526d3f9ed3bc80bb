package qc

import (
	"context"
	"fmt"
	"sync"
	"testing"
)

// benchPeerSEG is a second annotator's version of the benchmark SEG: the
// same 5 segments on the same 300 slices, each square grown by 3 pixels on
// every side and moved by one row, so that the masks differ and agreement
// measures real surface distances.
var benchPeerSEG = sync.OnceValue(func() []byte {
	b := newSegBuilder(benchRows, benchColumns)
	b.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.2"
	b.Segments = nil
	for seg := 1; seg <= benchSegments; seg++ {
		b.Segments = append(b.Segments, fixtureSegment{Number: uint16(seg),
			Label: fmt.Sprintf("segment %d", seg), AlgorithmType: "MANUAL"})
	}
	b.PixelSpacing = []float64{0.7, 0.7}
	b.Orientation = []float64{1, 0, 0, 0, 1, 0}
	frameBits := benchRows * benchColumns
	raw := make([]byte, frameBits*benchSlices*benchSegments/8)
	for seg := 1; seg <= benchSegments; seg++ {
		for z := range benchSlices {
			k := len(b.Frames)
			b.Frames = append(b.Frames, fixtureFrame{
				Segment:  uint16(seg),
				Position: []float64{-180, -180, float64(z) * 1.25},
				Sources: []ImageReference{{SOPClassUID: "1.2.840.10008.5.1.4.1.1.2",
					SOPInstanceUID: fmt.Sprintf("1.2.826.0.1.3680043.8.498.7.%d", z+1)}},
			})
			r0, c0, side := benchSquare(seg, z)
			r0, c0, side = r0-3+1, c0-3, side+6
			for r := r0; r < r0+side; r++ {
				for c := c0; c < c0+side; c++ {
					bit := k*frameBits + r*benchColumns + c
					raw[bit/8] |= 1 << (bit % 8)
				}
			}
		}
	}
	b.RawPixelData = raw
	return b.Build()
})

// BenchmarkCheckFamiliesDistinctPeer is [BenchmarkCheckFamilies] with a
// second annotator whose masks differ from the checked SEG's (squares 6
// pixels wider and one row lower), so every segment pair goes through the
// distance transforms. This is the speed target: under 2 s an
// operation on one core.
func BenchmarkCheckFamiliesDistinctPeer(b *testing.B) {
	data, _ := benchSEG()
	seg, err := ParseSegmentation(data)
	if err != nil {
		b.Fatal(err)
	}
	peer, err := ParseSegmentation(benchPeerSEG())
	if err != nil {
		b.Fatal(err)
	}
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
		if len(rep.Agreement) != benchSegments {
			b.Fatalf("agreement has %d entries, want %d", len(rep.Agreement), benchSegments)
		}
		// Every square is inside its peer's, 3 pixels (2.1 mm) from its
		// sides in rows or columns: the largest distance is at least that.
		for _, a := range rep.Agreement {
			if a.Dice >= 1 || a.HDMM == nil || *a.HDMM < 2.1 {
				b.Fatalf("agreement = %+v, want Dice under 1 and HD at least 2.1 mm", a)
			}
		}
	}
}
