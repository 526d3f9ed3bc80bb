package qc

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// encapsulatedSource decodes frames of encapsulated Pixel Data, each frame
// made of one or more fragments (PS3.5 A.4).
type encapsulatedSource struct {
	// frames holds the fragments of each frame; nil when they could not be
	// told apart.
	frames [][][]byte
	layout frameLayout
	codec  frameCodec
}

func (e *encapsulatedSource) frame(i int, buf *[]byte) ([]byte, int, error) {
	if i >= len(e.frames) {
		return nil, 0, fmt.Errorf("%w: no fragment of encapsulated Pixel Data is known to hold "+
			"this frame", ErrPixelData)
	}
	src := joinFragments(e.frames[i])
	want := e.layout.frameBytes()
	var err error
	switch e.codec {
	case codecRaw:
		if len(src) < want {
			return nil, 0, fmt.Errorf("%w: fragment holds %d bytes; the frame needs %d",
				ErrPixelData, len(src), want)
		}
		return src[:want], 0, nil
	case codecRLE:
		err = decodeRLE(src, e.layout, buf)
	case codecDeflate:
		err = inflateFrame(src, want, buf)
	case codecJPEG2000:
		err = decodeJPEG2000(src, e.layout, buf)
	default:
		err = fmt.Errorf("frame codec %d: %w", e.codec, ErrUnsupportedTransferSyntax)
	}
	if err != nil {
		return nil, 0, err
	}
	return (*buf)[:want], 0, nil
}

// joinFragments returns the bytes of a frame's fragments, copied only when
// there is more than one.
func joinFragments(frags [][]byte) []byte {
	if len(frags) == 1 {
		return frags[0]
	}
	n := 0
	for _, f := range frags {
		n += len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range frags {
		out = append(out, f...)
	}
	return out
}

// growBuffer returns (*buf)[:n], reallocating when it is too small.
func growBuffer(buf *[]byte, n int) []byte {
	if cap(*buf) < n {
		*buf = make([]byte, n)
	}
	*buf = (*buf)[:n]
	return *buf
}

// encapsulatedSource maps the fragments of f's Pixel Data to frames and
// records what is wrong with the encapsulation.
func (s *Segmentation) encapsulatedSource(f *part10, l frameLayout) pixelSource {
	px := f.pixel
	if px.truncated {
		s.addProblem(decodeRuleEncapsulation, SeverityError, "PS3.5 A.4",
			"encapsulated Pixel Data must be items ending with a Sequence Delimitation Item "+
				"(FFFE,E0DD): found %d fragments and then the end of the file or a stray element",
			len(px.fragments))
	}
	n := max(s.NumberOfFrames, 0)
	frames, problems := mapFragments(px, f.extOffsets, n, f.ts.Codec)
	for _, p := range problems {
		s.addProblem(decodeRuleEncapsulation, SeverityError, "PS3.5 A.4", "%s", p)
	}
	return &encapsulatedSource{frames: frames, layout: l, codec: f.ts.Codec}
}

// mapFragments groups the fragments into n frames. It uses the Extended
// Offset Table, then the Basic Offset Table, then one fragment per frame
// when the counts agree, then (JPEG 2000 only) the start-of-codestream
// markers. It returns nil frames when no way gives n frames.
func mapFragments(px *rawPixelData, ext []byte, n int, codec frameCodec) ([][][]byte,
	[]string) {
	var problems []string
	frags := px.fragments
	if len(frags) == 0 {
		return nil, []string{fmt.Sprintf("encapsulated Pixel Data must hold at least one "+
			"fragment per frame: found no fragment for %d frames", n)}
	}
	if len(ext) > 0 {
		frames, err := groupByOffsets(px, ext, 8, n)
		if err == nil {
			return frames, nil
		}
		problems = append(problems, "Extended Offset Table (7FE0,0001) "+err.Error())
	}
	if len(px.offsetTable) > 0 {
		frames, err := groupByOffsets(px, px.offsetTable, 4, n)
		if err == nil {
			return frames, problems
		}
		problems = append(problems, "Basic Offset Table "+err.Error())
	}
	switch {
	case len(frags) == n:
		frames := make([][][]byte, n)
		for i := range frames {
			frames[i] = frags[i : i+1 : i+1]
		}
		return frames, problems
	case n == 1:
		return [][][]byte{frags}, problems
	case codec == codecJPEG2000:
		if frames := splitCodestreams(frags); len(frames) == n {
			return frames, problems
		}
	}
	return nil, append(problems, fmt.Sprintf("encapsulated Pixel Data must show which "+
		"fragments make each frame: found %d fragments for %d frames and no usable offset "+
		"table", len(frags), n))
}

// groupByOffsets groups fragments by an offset table of width-byte little
// endian offsets, measured from the first fragment's item tag (PS3.5 A.4,
// PS3.3 C.7.6.3.1.8).
func groupByOffsets(px *rawPixelData, table []byte, width, n int) ([][][]byte, error) {
	if len(table)%width != 0 {
		return nil, fmt.Errorf("must be a whole number of %d-byte offsets: found %d bytes",
			width, len(table))
	}
	count := len(table) / width
	if count != n {
		return nil, fmt.Errorf("must have one offset per frame: found %d offsets for %d frames",
			count, n)
	}
	frames := make([][][]byte, n)
	prev := -1
	for k := range n {
		var off uint64
		if width == 8 {
			off = binary.LittleEndian.Uint64(table[8*k:])
		} else {
			off = uint64(binary.LittleEndian.Uint32(table[4*k:]))
		}
		idx := sort.Search(len(px.fragmentPos), func(j int) bool {
			return px.fragmentPos[j] >= off
		})
		if idx == len(px.fragmentPos) || px.fragmentPos[idx] != off || idx <= prev ||
			(k == 0 && idx != 0) {
			return nil, fmt.Errorf("offsets must point at fragment starts in increasing order, "+
				"the first at 0: found offset %d for frame %d", off, k+1)
		}
		if k > 0 {
			frames[k-1] = px.fragments[prev:idx:idx]
		}
		prev = idx
	}
	frames[n-1] = px.fragments[prev:len(px.fragments):len(px.fragments)]
	return frames, nil
}

// splitCodestreams groups fragments into frames at each fragment that starts
// a JPEG 2000 codestream (SOC and SIZ markers, ISO 15444-1 A.4) or a JP2
// file.
func splitCodestreams(frags [][]byte) [][][]byte {
	var frames [][][]byte
	start := 0
	for i := 1; i <= len(frags); i++ {
		if i == len(frags) || isJPEG2000Start(frags[i]) {
			frames = append(frames, frags[start:i:i])
			start = i
		}
	}
	return frames
}

// isJPEG2000Start reports whether b starts a codestream or a JP2 file.
func isJPEG2000Start(b []byte) bool {
	if len(b) >= 4 && b[0] == 0xFF && b[1] == 0x4F && b[2] == 0xFF && b[3] == 0x51 {
		return true
	}
	return len(b) >= 12 && string(b[4:8]) == "jP  "
}
