package qc

import (
	"fmt"
	"runtime"
	"sync"
	"testing"
)

// The benchmark SEG: 5 BINARY segments on 300 slices of 512x512, one frame
// per segment and slice, 1500 frames in all.
const (
	benchRows     = 512
	benchColumns  = 512
	benchSlices   = 300
	benchSegments = 5
)

// benchSquare is the square that segment seg covers on slice z: its first
// row and column and its side. Odd origins make rows start inside a 64-bit
// word.
func benchSquare(seg, z int) (r0, c0, side int) {
	return 7 + 3*seg + z%11, 13 + 5*seg + z%17, 40 + 20*seg + z%50
}

var benchSEG = sync.OnceValues(func() ([]byte, int64) {
	b := newSegBuilder(benchRows, benchColumns)
	b.Segments = nil
	for seg := 1; seg <= benchSegments; seg++ {
		b.Segments = append(b.Segments, fixtureSegment{Number: uint16(seg),
			Label: fmt.Sprintf("segment %d", seg), AlgorithmType: "AUTOMATIC"})
	}
	b.PixelSpacing = []float64{0.7, 0.7}
	b.Orientation = []float64{1, 0, 0, 0, 1, 0}

	frameBits := benchRows * benchColumns
	raw := make([]byte, frameBits*benchSlices*benchSegments/8)
	var want int64
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
			for r := r0; r < r0+side; r++ {
				for c := c0; c < c0+side; c++ {
					bit := k*frameBits + r*benchColumns + c
					raw[bit/8] |= 1 << (bit % 8)
				}
			}
			want += int64(side * side)
		}
	}
	b.RawPixelData = raw
	return b.Build(), want
})

// decodeAndCount parses data and counts the set pixels of every frame, one
// reused mask at a time.
func decodeAndCount(data []byte) (int64, error) {
	s, err := ParseSegmentation(data)
	if err != nil {
		return 0, err
	}
	var m Mask
	var total int64
	for i, f := range s.Frames {
		if err := s.FrameMask(i, f.SegmentNumber, &m); err != nil {
			return 0, err
		}
		total += int64(m.Count())
	}
	return total, nil
}

// BenchmarkDecodeBinary512x512x300x5 decodes the 1500-frame BINARY SEG and
// counts its voxels. The target is under 1 s an operation on one core.
func BenchmarkDecodeBinary512x512x300x5(b *testing.B) {
	data, want := benchSEG()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := decodeAndCount(data)
		if err != nil {
			b.Fatal(err)
		}
		if got != want {
			b.Fatalf("decodeAndCount = %d voxels, want %d", got, want)
		}
	}
}

// TestDecodeMemoryBound checks the memory side of the target: decoding and
// counting the benchmark SEG allocates far less than its masks would take
// held one byte per voxel (512 x 512 x 300 x 5 bytes, 393 MB).
func TestDecodeMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 49 MB SEG")
	}
	data, want := benchSEG()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	got, err := decodeAndCount(data)
	runtime.ReadMemStats(&after)
	if err != nil || got != want {
		t.Fatalf("decodeAndCount = %d, %v; want %d voxels", got, err, want)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	const maskBytes = benchRows * benchColumns * benchSlices * benchSegments
	// The Pixel Data stays in the input and frames are decoded one at a
	// time: what is allocated is the data set and one mask.
	if allocated > maskBytes/10 {
		t.Errorf("decoding allocated %d bytes, want under %d (a tenth of the masks held "+
			"one byte per voxel)", allocated, maskBytes/10)
	}
	t.Logf("decoded %d frames, %d voxels; allocated %d bytes; input %d bytes",
		benchSlices*benchSegments, got, allocated, len(data))
}
