package qc

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// segBuilder writes small DICOM Part 10 SEG files for tests. Set the fields,
// add frames, then call Build. Every field has a working default, so a
// builder from newSegBuilder with frames added is a valid SEG.
type segBuilder struct {
	// TransferSyntax is the Transfer Syntax UID; default explicit VR little
	// endian. Implicit, deflated, RLE Lossless, Deflated Image Frame
	// Compression and Encapsulated Uncompressed are written; any other UID
	// is written in the meta information with native pixel data.
	TransferSyntax string
	SOPClassUID    string
	SOPInstanceUID string
	StudyUID       string
	SeriesUID      string
	// FrameOfReferenceUID defaults to a fixed UID; leave it out with Omit.
	FrameOfReferenceUID string
	// Omit lists top-level tags (group<<16 | element) not to write, for
	// tests of required attributes.
	Omit []uint32

	Rows, Columns int
	// Type is the Segmentation Type; default BINARY.
	Type SegmentationType
	// BitsAllocated defaults to 1 for BINARY and 8 otherwise.
	BitsAllocated int
	// FractionalType and MaxFractional are written for FRACTIONAL.
	FractionalType SegmentationFractionalType
	MaxFractional  int
	// PixelPaddingValue is written when not nil.
	PixelPaddingValue *int
	// SegmentsOverlap is written when not empty.
	SegmentsOverlap string

	Segments []fixtureSegment
	Frames   []fixtureFrame

	// SharedSegment, when not 0, puts Segment Identification only in the
	// shared group, naming this segment; frames' own Segment is then unused.
	SharedSegment uint16
	// SharedSources puts a Derivation Image Sequence in the shared group.
	SharedSources []ImageReference
	// PixelSpacing and Orientation go in the shared group when not nil.
	PixelSpacing []float64
	Orientation  []float64
	// ReferencedSeries is the top-level Referenced Series Sequence.
	ReferencedSeries []ReferencedSeries
	// SourceImages is the top-level Source Image Sequence, if any.
	SourceImages []ImageReference

	// NumberOfFrames overrides the count written; 0 means len(Frames).
	NumberOfFrames int
	// OmitPerFrame leaves out the Per-frame Functional Groups Sequence.
	OmitPerFrame bool
	// DimensionOrganizationType and the total matrix are written when set.
	DimensionOrganizationType string
	TotalRows, TotalColumns   int

	// PadFramesToBytes writes each 1-bit native frame padded to a whole
	// byte, which PS3.5 8.1.1 forbids.
	PadFramesToBytes bool
	// OffsetTable writes a Basic Offset Table in encapsulated pixel data.
	OffsetTable bool
	// ExtendedOffsetTable writes the Extended Offset Table and its lengths
	// (PS3.3 C.7.6.3.1.8) before encapsulated pixel data.
	ExtendedOffsetTable bool
	// EncodedFrames, when not nil, are written as the encapsulated frames
	// as they are, for codecs the builder cannot encode (JPEG 2000).
	EncodedFrames [][]byte
	// FragmentsPerFrame splits each encapsulated frame; default 1.
	FragmentsPerFrame int
	// UndefinedLengths writes sequences and items with undefined length.
	UndefinedLengths bool
	// PixelSyntax encodes Pixel Data as this transfer syntax would while
	// the file meta names TransferSyntax; default the same.
	PixelSyntax string
	// OmitPixelData leaves out Pixel Data.
	OmitPixelData bool
	// RawPixelData, when not nil, is written as the native Pixel Data value
	// instead of packing the frames' Pixels, which may then be nil.
	RawPixelData []byte
}

// fixtureSegment is one item of the Segment Sequence.
type fixtureSegment struct {
	Number uint16
	Label  string
	// AlgorithmType defaults to MANUAL.
	AlgorithmType string
}

// fixtureFrame is one frame: its segment, its Rows x Columns values in
// row-major order (0 or 1 for BINARY) and its optional geometry.
type fixtureFrame struct {
	Segment  uint16
	Pixels   []uint16
	Position []float64
	Sources  []ImageReference
	// RowPosition and ColumnPosition place a slide microscopy tile.
	RowPosition, ColumnPosition int
}

// newSegBuilder returns a BINARY builder of rows x columns with one
// segment numbered 1 and no frames.
func newSegBuilder(rows, columns int) *segBuilder {
	return &segBuilder{
		Rows:     rows,
		Columns:  columns,
		Segments: []fixtureSegment{{Number: 1, Label: "segment 1"}},
	}
}

// addFrame appends a frame of segment seg with the pixels listed as
// row, column pairs set to 1, and returns the builder.
func (b *segBuilder) addFrame(seg uint16, setPixels ...[2]int) *segBuilder {
	px := make([]uint16, b.Rows*b.Columns)
	for _, rc := range setPixels {
		px[rc[0]*b.Columns+rc[1]] = 1
	}
	b.Frames = append(b.Frames, fixtureFrame{Segment: seg, Pixels: px})
	return b
}

func (b *segBuilder) transferSyntax() string {
	if b.TransferSyntax == "" {
		return uidExplicitVRLittleEndian
	}
	return b.TransferSyntax
}

func (b *segBuilder) bits() int {
	switch {
	case b.BitsAllocated != 0:
		return b.BitsAllocated
	case b.Type == "" || b.Type == SegmentationTypeBinary:
		return 1
	}
	return 8
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Build returns the Part 10 file.
func (b *segBuilder) Build() []byte {
	ts := b.transferSyntax()
	w := b.newWriter()
	b.writeDataset(w)

	body := w.buf.Bytes()
	if ts == uidDeflatedExplicitVRLittle {
		var z bytes.Buffer
		zw, _ := flate.NewWriter(&z, flate.BestSpeed)
		zw.Write(body)
		zw.Close()
		body = z.Bytes()
	}
	var out bytes.Buffer
	out.Write(make([]byte, 128))
	out.WriteString("DICM")
	out.Write(fileMeta(orDefault(b.SOPClassUID, SegmentationStorage),
		orDefault(b.SOPInstanceUID, "1.2.826.0.1.3680043.8.498.1"), ts))
	out.Write(body)
	return out.Bytes()
}

func (b *segBuilder) newWriter() *dsWriter {
	ts := b.transferSyntax()
	return &dsWriter{
		implicit:  ts == uidImplicitVRLittleEndian,
		undefined: b.UndefinedLengths,
		bigEndian: ts == uidExplicitVRBigEndian,
	}
}

// fileMeta returns the group 0002 elements, explicit VR little endian.
func fileMeta(class, instance, ts string) []byte {
	m := &dsWriter{}
	m.element(0x00020001, "OB", []byte{0, 1})
	m.str(0x00020002, "UI", class)
	m.str(0x00020003, "UI", instance)
	m.str(0x00020010, "UI", ts)
	m.str(0x00020012, "UI", "1.2.826.0.1.3680043.8.498.2")
	g := &dsWriter{}
	g.ul(0x00020000, uint32(m.buf.Len()))
	return append(g.buf.Bytes(), m.buf.Bytes()...)
}

// writeDataset writes the SEG attributes in tag order.
func (b *segBuilder) writeDataset(w *dsWriter) {
	nFrames := b.NumberOfFrames
	if nFrames == 0 {
		nFrames = len(b.Frames)
	}
	bits := b.bits()
	typ := b.Type
	if typ == "" {
		typ = SegmentationTypeBinary
	}

	w.omit = make(map[uint32]bool)
	for _, t := range b.Omit {
		w.omit[t] = true
	}
	w.str(0x00080008, "CS", `DERIVED\PRIMARY`)
	w.str(0x00080016, "UI", orDefault(b.SOPClassUID, SegmentationStorage))
	w.str(0x00080018, "UI", orDefault(b.SOPInstanceUID, "1.2.826.0.1.3680043.8.498.1"))
	w.str(0x00080020, "DA", "20240101")
	w.str(0x00080023, "DA", "20240101")
	w.str(0x00080030, "TM", "120000")
	w.str(0x00080033, "TM", "120000")
	w.str(0x00080050, "SH", "")
	w.str(0x00080060, "CS", "SEG")
	w.str(0x00080070, "LO", "qcgate tests")
	w.str(0x00080090, "PN", "")
	w.str(0x00081090, "LO", "fixture builder")
	if len(b.ReferencedSeries) > 0 {
		var items [][]byte
		for _, rs := range b.ReferencedSeries {
			it := b.newWriter()
			it.seq(0x0008114A, imageRefItems(b, rs.Instances, false)...)
			it.str(0x0020000E, "UI", rs.SeriesInstanceUID)
			items = append(items, it.bytes())
		}
		w.seq(0x00081115, items...)
	}
	if len(b.SourceImages) > 0 {
		w.seq(0x00082112, imageRefItems(b, b.SourceImages, true)...)
	}
	w.str(0x00100010, "PN", "Fixture^Test")
	w.str(0x00100020, "LO", "fixture")
	w.str(0x00100030, "DA", "")
	w.str(0x00100040, "CS", "")
	w.str(0x00181000, "LO", "1")
	w.str(0x00181020, "LO", "1")
	w.str(0x0020000D, "UI", orDefault(b.StudyUID, "1.2.826.0.1.3680043.8.498.3"))
	w.str(0x0020000E, "UI", orDefault(b.SeriesUID, "1.2.826.0.1.3680043.8.498.4"))
	w.str(0x00200010, "SH", "")
	w.str(0x00200011, "IS", "1")
	w.str(0x00200013, "IS", "1")
	w.str(0x00200052, "UI", orDefault(b.FrameOfReferenceUID, "1.2.826.0.1.3680043.8.498.5"))
	w.str(0x00201040, "LO", "")
	b.writeDimensions(w)
	if b.DimensionOrganizationType != "" {
		w.str(0x00209311, "CS", b.DimensionOrganizationType)
	}
	w.us(0x00280002, 1)
	w.str(0x00280004, "CS", "MONOCHROME2")
	w.str(0x00280008, "IS", strconv.Itoa(nFrames))
	w.us(0x00280010, uint16(b.Rows))
	w.us(0x00280011, uint16(b.Columns))
	w.us(0x00280100, uint16(bits))
	w.us(0x00280101, uint16(bits))
	w.us(0x00280102, uint16(bits-1))
	w.us(0x00280103, 0)
	if b.PixelPaddingValue != nil {
		w.us(0x00280120, uint16(*b.PixelPaddingValue))
	}
	w.str(0x00282110, "CS", "00")
	if b.TotalRows > 0 {
		w.ul(0x00480006, uint32(b.TotalColumns))
		w.ul(0x00480007, uint32(b.TotalRows))
	}
	w.str(0x00620001, "CS", string(typ))
	w.seq(0x00620002, b.segmentItems()...)
	if typ == SegmentationTypeFractional {
		w.us(0x0062000E, uint16(b.MaxFractional))
		w.str(0x00620010, "CS", string(b.FractionalType))
	}
	if b.SegmentsOverlap != "" {
		w.str(0x00620013, "CS", b.SegmentsOverlap)
	}
	w.str(0x00700080, "CS", "SEGMENTATION")
	w.str(0x00700081, "LO", "")
	w.str(0x00700084, "PN", "")
	w.seq(0x52009229, b.sharedGroup())
	if !b.OmitPerFrame {
		var items [][]byte
		for k := range b.Frames {
			items = append(items, b.frameGroup(k))
		}
		w.seq(0x52009230, items...)
	}
	b.writePixelData(w)
}

// dimensions returns the Dimension Index pointers the builder writes: the
// segment number (not for label maps or a shared segment) and the position
// (when frames have one), as index pointer and functional group pointer.
func (b *segBuilder) dimensions() [][2]uint32 {
	var dims [][2]uint32
	if b.Type != SegmentationTypeLabelmap && b.SharedSegment == 0 && !b.OmitPerFrame {
		dims = append(dims, [2]uint32{0x0062000B, 0x0062000A})
	}
	if len(b.Frames) > 0 && b.Frames[0].Position != nil && !b.OmitPerFrame {
		dims = append(dims, [2]uint32{0x00200032, 0x00209113})
	}
	return dims
}

// writeDimensions writes the Multi-frame Dimension module (PS3.3 C.7.6.17).
func (b *segBuilder) writeDimensions(w *dsWriter) {
	dims := b.dimensions()
	if len(dims) == 0 {
		return
	}
	const uid = "1.2.826.0.1.3680043.8.498.6"
	org := b.newWriter()
	org.str(0x00209164, "UI", uid)
	w.seq(0x00209221, org.bytes())
	var items [][]byte
	for _, d := range dims {
		it := b.newWriter()
		it.str(0x00209164, "UI", uid)
		it.at(0x00209165, d[0])
		it.at(0x00209167, d[1])
		items = append(items, it.bytes())
	}
	w.seq(0x00209222, items...)
}

// dimensionValues returns frame k's Dimension Index Values.
func (b *segBuilder) dimensionValues(k int) []uint32 {
	var vals []uint32
	for _, d := range b.dimensions() {
		switch d[0] {
		case 0x0062000B:
			vals = append(vals, uint32(b.Frames[k].Segment))
		case 0x00200032:
			// The index of the frame's position among the distinct
			// positions, in order of first appearance.
			var seen [][]float64
			for _, f := range b.Frames[:k+1] {
				if !slices.ContainsFunc(seen, func(p []float64) bool {
					return slices.Equal(p, f.Position)
				}) {
					seen = append(seen, f.Position)
				}
			}
			idx := slices.IndexFunc(seen, func(p []float64) bool {
				return slices.Equal(p, b.Frames[k].Position)
			})
			vals = append(vals, uint32(idx+1))
		}
	}
	return vals
}

func (b *segBuilder) segmentItems() [][]byte {
	var items [][]byte
	for _, s := range b.Segments {
		it := b.newWriter()
		it.seq(0x00620003, codeItem(b, "85756007", "SCT", "Tissue"))
		it.us(0x00620004, s.Number)
		it.str(0x00620005, "LO", s.Label)
		alg := orDefault(s.AlgorithmType, "MANUAL")
		it.str(0x00620008, "CS", alg)
		if alg != "MANUAL" {
			it.str(0x00620009, "LO", "test algorithm")
		}
		it.seq(0x0062000F, codeItem(b, "85756007", "SCT", "Tissue"))
		items = append(items, it.bytes())
	}
	return items
}

func codeItem(b *segBuilder, value, scheme, meaning string) []byte {
	it := b.newWriter()
	it.str(0x00080100, "SH", value)
	it.str(0x00080102, "SH", scheme)
	it.str(0x00080104, "LO", meaning)
	return it.bytes()
}

// imageRefItems returns image reference items; purpose adds the Purpose of
// Reference Code Sequence that Source Image Sequence items need (PS3.3
// C.7.6.16.2.6).
func imageRefItems(b *segBuilder, refs []ImageReference, purpose bool) [][]byte {
	var items [][]byte
	for _, r := range refs {
		it := b.newWriter()
		it.str(0x00081150, "UI", r.SOPClassUID)
		it.str(0x00081155, "UI", r.SOPInstanceUID)
		if len(r.ReferencedFrameNumber) > 0 {
			var s []string
			for _, n := range r.ReferencedFrameNumber {
				s = append(s, strconv.Itoa(n))
			}
			it.str(0x00081160, "IS", strings.Join(s, `\`))
		}
		if purpose {
			it.seq(0x0040A170, codeItem(b, "121322", "DCM",
				"Source image for image processing operation"))
		}
		items = append(items, it.bytes())
	}
	return items
}

// derivation returns a Derivation Image Sequence item naming refs.
func derivation(b *segBuilder, refs []ImageReference) []byte {
	it := b.newWriter()
	it.seq(0x00082112, imageRefItems(b, refs, true)...)
	it.seq(0x00089215, codeItem(b, "113076", "DCM", "Segmentation"))
	return it.bytes()
}

func (b *segBuilder) sharedGroup() []byte {
	g := b.newWriter()
	if len(b.SharedSources) > 0 {
		g.seq(0x00089124, derivation(b, b.SharedSources))
	}
	if b.Orientation != nil {
		it := b.newWriter()
		it.ds(0x00200037, b.Orientation...)
		g.seq(0x00209116, it.bytes())
	}
	if b.PixelSpacing != nil {
		it := b.newWriter()
		it.ds(0x00180050, 1)
		it.ds(0x00280030, b.PixelSpacing...)
		g.seq(0x00289110, it.bytes())
	}
	if b.SharedSegment != 0 {
		it := b.newWriter()
		it.us(0x0062000B, b.SharedSegment)
		g.seq(0x0062000A, it.bytes())
	}
	return g.bytes()
}

func (b *segBuilder) frameGroup(k int) []byte {
	f := b.Frames[k]
	g := b.newWriter()
	if len(f.Sources) > 0 {
		g.seq(0x00089124, derivation(b, f.Sources))
	}
	if vals := b.dimensionValues(k); len(vals) > 0 {
		it := b.newWriter()
		it.ul(0x00209157, vals...)
		g.seq(0x00209111, it.bytes())
	}
	if f.Position != nil {
		it := b.newWriter()
		it.ds(0x00200032, f.Position...)
		g.seq(0x00209113, it.bytes())
	}
	if f.RowPosition > 0 {
		it := b.newWriter()
		it.sl(0x0048021E, int32(f.ColumnPosition))
		it.sl(0x0048021F, int32(f.RowPosition))
		g.seq(0x0048021A, it.bytes())
	}
	if b.SharedSegment == 0 && b.Type != SegmentationTypeLabelmap {
		it := b.newWriter()
		it.us(0x0062000B, f.Segment)
		g.seq(0x0062000A, it.bytes())
	}
	return g.bytes()
}

// frameBytes returns frame f stored natively and byte aligned.
func (b *segBuilder) frameBytes(f fixtureFrame) []byte {
	switch b.bits() {
	case 1:
		return packBitsLSB(f.Pixels)
	case 8:
		out := make([]byte, len(f.Pixels))
		for i, v := range f.Pixels {
			out[i] = byte(v)
		}
		return out
	}
	out := make([]byte, 2*len(f.Pixels))
	for i, v := range f.Pixels {
		binary.LittleEndian.PutUint16(out[2*i:], v)
	}
	return out
}

// packBitsLSB packs 0/1 values, the first in the least significant bit.
func packBitsLSB(vals []uint16) []byte {
	out := make([]byte, (len(vals)+7)/8)
	for i, v := range vals {
		if v != 0 {
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out
}

func (b *segBuilder) writePixelData(w *dsWriter) {
	if b.OmitPixelData {
		return
	}
	if b.RawPixelData != nil {
		w.element(0x7FE00010, "OB", b.RawPixelData)
		return
	}
	ts := orDefault(b.PixelSyntax, b.transferSyntax())
	if b.EncodedFrames != nil {
		b.writeEncapsulated(w, b.EncodedFrames)
		return
	}
	switch ts {
	case uidRLELossless, uidDeflatedImageFrame, uidEncapsulatedUncompressed:
		var frames [][]byte
		for _, f := range b.Frames {
			raw := b.frameBytes(f)
			switch ts {
			case uidRLELossless:
				raw = encodeRLEFrame(raw, b.bits())
			case uidDeflatedImageFrame:
				raw = deflateRaw(raw)
			}
			frames = append(frames, raw)
		}
		b.writeEncapsulated(w, frames)
		return
	}
	var all []uint16
	var data []byte
	for _, f := range b.Frames {
		if b.PadFramesToBytes {
			data = append(data, b.frameBytes(f)...)
		}
		all = append(all, f.Pixels...)
	}
	if !b.PadFramesToBytes {
		if b.bits() == 1 {
			data = packBitsLSB(all)
		} else {
			data = b.frameBytes(fixtureFrame{Pixels: all})
		}
	}
	vr := "OB"
	if b.bits() > 8 {
		vr = "OW"
	}
	w.element(0x7FE00010, vr, data)
}

// encodeRLEFrame encodes a frame as RLE Lossless (PS3.5 Annex G): one
// segment per byte of a sample, most significant first.
func encodeRLEFrame(raw []byte, bits int) []byte {
	var segs [][]byte
	if bits == 16 {
		hi, lo := make([]byte, len(raw)/2), make([]byte, len(raw)/2)
		for i := range hi {
			lo[i], hi[i] = raw[2*i], raw[2*i+1]
		}
		segs = [][]byte{packBitsEncode(hi), packBitsEncode(lo)}
	} else {
		segs = [][]byte{packBitsEncode(raw)}
	}
	header := make([]byte, 64)
	binary.LittleEndian.PutUint32(header, uint32(len(segs)))
	off := 64
	for k, s := range segs {
		binary.LittleEndian.PutUint32(header[4+4*k:], uint32(off))
		off += len(s)
	}
	out := header
	for _, s := range segs {
		out = append(out, s...)
	}
	return out
}

// packBitsEncode encodes with PackBits (PS3.5 G.3.1): runs of 3 or more
// equal bytes are replicated, the rest copied literally, at most 128 a run.
// An odd-length result is padded to even.
func packBitsEncode(src []byte) []byte {
	var out []byte
	for i := 0; i < len(src); {
		run := 1
		for i+run < len(src) && src[i+run] == src[i] && run < 128 {
			run++
		}
		if run >= 3 {
			out = append(out, byte(int8(1-run)), src[i])
			i += run
			continue
		}
		j := i
		for j < len(src) && j-i < 128 {
			if j+2 < len(src) && src[j] == src[j+1] && src[j] == src[j+2] {
				break
			}
			j++
		}
		out = append(out, byte(j-i-1))
		out = append(out, src[i:j]...)
		i = j
	}
	if len(out)%2 != 0 {
		out = append(out, 0x80)
	}
	return out
}

// deflateRaw compresses with raw DEFLATE (RFC 1951).
func deflateRaw(raw []byte) []byte {
	var z bytes.Buffer
	zw, _ := flate.NewWriter(&z, flate.BestCompression)
	zw.Write(raw)
	zw.Close()
	return z.Bytes()
}

// dsWriter writes data set elements, little endian.
type dsWriter struct {
	buf       bytes.Buffer
	implicit  bool
	undefined bool
	bigEndian bool
	// omit lists tags not to write.
	omit map[uint32]bool
}

func (w *dsWriter) order() binary.ByteOrder {
	if w.bigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

func (w *dsWriter) bytes() []byte { return w.buf.Bytes() }

func (w *dsWriter) header(tag uint32, vr string, length uint32) {
	var h [12]byte
	w.order().PutUint16(h[0:], uint16(tag>>16))
	w.order().PutUint16(h[2:], uint16(tag))
	if w.implicit {
		w.order().PutUint32(h[4:], length)
		w.buf.Write(h[:8])
		return
	}
	copy(h[4:], vr)
	if hasLongLength([2]byte{vr[0], vr[1]}) {
		w.order().PutUint32(h[8:], length)
		w.buf.Write(h[:12])
		return
	}
	w.order().PutUint16(h[6:], uint16(length))
	w.buf.Write(h[:8])
}

// element writes one element, padding its value to even length.
func (w *dsWriter) element(tag uint32, vr string, value []byte) {
	if w.omit[tag] {
		return
	}
	if len(value)%2 != 0 {
		pad := byte(' ')
		if vr == "UI" || vr == "OB" {
			pad = 0
		}
		value = append(slices.Clip(value), pad)
	}
	w.header(tag, vr, uint32(len(value)))
	w.buf.Write(value)
}

func (w *dsWriter) str(tag uint32, vr, s string) { w.element(tag, vr, []byte(s)) }

func (w *dsWriter) us(tag uint32, vals ...uint16) {
	b := make([]byte, 2*len(vals))
	for i, v := range vals {
		w.order().PutUint16(b[2*i:], v)
	}
	w.element(tag, "US", b)
}

func (w *dsWriter) ul(tag uint32, vals ...uint32) {
	b := make([]byte, 4*len(vals))
	for i, v := range vals {
		w.order().PutUint32(b[4*i:], v)
	}
	w.element(tag, "UL", b)
}

func (w *dsWriter) at(tag uint32, v uint32) {
	b := make([]byte, 4)
	w.order().PutUint16(b, uint16(v>>16))
	w.order().PutUint16(b[2:], uint16(v))
	w.element(tag, "AT", b)
}

func (w *dsWriter) sl(tag uint32, v int32) {
	b := make([]byte, 4)
	w.order().PutUint32(b, uint32(v))
	w.element(tag, "SL", b)
}

func (w *dsWriter) ds(tag uint32, vals ...float64) {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = strconv.FormatFloat(v, 'g', 10, 64)
	}
	w.str(tag, "DS", strings.Join(s, `\`))
}

// seq writes a sequence whose items hold the given encoded elements.
func (w *dsWriter) seq(tag uint32, items ...[]byte) {
	if w.omit[tag] {
		return
	}
	var body bytes.Buffer
	for _, it := range items {
		var h [8]byte
		w.order().PutUint16(h[0:], 0xFFFE)
		w.order().PutUint16(h[2:], 0xE000)
		length := uint32(len(it))
		if w.undefined {
			length = undefinedLength
		}
		w.order().PutUint32(h[4:], length)
		body.Write(h[:])
		body.Write(it)
		if w.undefined {
			body.Write(w.delimiter(0xE00D))
		}
	}
	if w.undefined {
		w.header(tag, "SQ", undefinedLength)
		w.buf.Write(body.Bytes())
		w.buf.Write(w.delimiter(0xE0DD))
		return
	}
	w.header(tag, "SQ", uint32(body.Len()))
	w.buf.Write(body.Bytes())
}

// delimiter returns an item or sequence delimitation item.
func (w *dsWriter) delimiter(element uint16) []byte {
	d := make([]byte, 8)
	w.order().PutUint16(d, 0xFFFE)
	w.order().PutUint16(d[2:], element)
	return d
}

// writeEncapsulated writes the encoded frames as encapsulated Pixel Data
// (PS3.5 A.4), with the offset tables the builder asks for.
func (b *segBuilder) writeEncapsulated(w *dsWriter, frames [][]byte) {
	frags, offsets, lengths := encapsulate(frames, max(b.FragmentsPerFrame, 1))
	if b.ExtendedOffsetTable {
		var eot, eotl []byte
		for k := range offsets {
			eot = binary.LittleEndian.AppendUint64(eot, offsets[k])
			eotl = binary.LittleEndian.AppendUint64(eotl, lengths[k])
		}
		w.element(0x7FE00001, "OV", eot)
		w.element(0x7FE00002, "OV", eotl)
	}
	if w.omit[0x7FE00010] {
		return
	}
	var table []byte
	if b.OffsetTable {
		for _, off := range offsets {
			table = binary.LittleEndian.AppendUint32(table, uint32(off))
		}
	}
	w.header(0x7FE00010, "OB", undefinedLength)
	writeItem(&w.buf, table)
	w.buf.Write(frags)
	w.buf.Write([]byte{0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0})
}

// encapsulate splits each frame into parts fragments of even length and
// returns the fragment items, each frame's offset from the first fragment
// and each frame's encoded length.
func encapsulate(frames [][]byte, parts int) (items []byte, offsets, lengths []uint64) {
	var buf bytes.Buffer
	for _, f := range frames {
		offsets = append(offsets, uint64(buf.Len()))
		lengths = append(lengths, uint64(len(f)))
		// Even parts keep padding out of the middle of a frame; only the
		// last part may need a pad byte.
		size := ((len(f)+parts-1)/parts + 1) &^ 1
		for p := range parts {
			part := f[min(p*size, len(f)):min((p+1)*size, len(f))]
			if len(part)%2 != 0 {
				part = append(slices.Clip(part), 0)
			}
			writeItem(&buf, part)
		}
	}
	return buf.Bytes(), offsets, lengths
}

func writeItem(buf *bytes.Buffer, value []byte) {
	var h [8]byte
	binary.LittleEndian.PutUint32(h[0:], 0xE000FFFE)
	binary.LittleEndian.PutUint32(h[4:], uint32(len(value)))
	buf.Write(h[:])
	buf.Write(value)
}

// mustParse parses data or stops the test.
func mustParse(t testing.TB, data []byte) *Segmentation {
	t.Helper()
	s, err := ParseSegmentation(data)
	if err != nil {
		t.Fatalf("ParseSegmentation: %v", err)
	}
	return s
}

// frameCounts returns the set pixels of every frame for the frame's own
// segment.
func frameCounts(t testing.TB, s *Segmentation) []int {
	t.Helper()
	var m Mask
	counts := make([]int, len(s.Frames))
	for i, f := range s.Frames {
		if err := s.FrameMask(i, f.SegmentNumber, &m); err != nil {
			t.Fatalf("FrameMask(%d, %d): %v", i, f.SegmentNumber, err)
		}
		counts[i] = m.Count()
	}
	return counts
}

// problemRules returns the rule ids of s.Problems, formatted for diffs.
func problemRules(s *Segmentation) []string {
	var out []string
	for _, p := range s.Problems {
		out = append(out, fmt.Sprintf("%s/%s", p.Rule, p.Severity))
	}
	return out
}
