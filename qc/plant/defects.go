package plant

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/qcgate/qcgate/qc"
)

// Defect names a kind of planted defect.
type Defect string

// The defects [Plant] knows, one per thing the QC rules look for.
const (
	// DefectFrameOffPlane moves one frame's Image Position (Patient) by
	// half the slice spacing along the slice normal (PS3.3 C.7.6.16.2.3).
	DefectFrameOffPlane Defect = "frame_off_plane"
	// DefectFrameOfReference gives the SEG another Frame of Reference UID
	// than its sources' (PS3.3 C.7.4.1).
	DefectFrameOfReference Defect = "wrong_frame_of_reference"
	// DefectMissingSource drops the source instance of the SEG's middle
	// frame from the sources given to the check.
	DefectMissingSource Defect = "missing_source_instance"
	// DefectSliceRemoved drops the middle frame of a segment that has at
	// least three frames: a slice missing inside the segment's extent.
	DefectSliceRemoved Defect = "slice_removed"
	// DefectIsland sets a 2x2 pixel blob in a corner of one of a segment's
	// frames, at least two pixels from the segment on every frame.
	DefectIsland Defect = "island"
	// DefectHole clears a 3x3 pixel blob (one pixel when the segment is too
	// thin) whose surroundings are all inside the segment.
	DefectHole Defect = "hole"
	// DefectCodeOutsideVocabulary changes a segment's Segmented Property
	// Type Code Value (PS3.3 C.8.20.2) to one no vocabulary holds.
	DefectCodeOutsideVocabulary Defect = "code_outside_vocabulary"
	// DefectVolumeTimesTen multiplies the Pixel Spacing of the SEG and of
	// every source by the square root of 10, alike, so that every segment
	// measures ten times its volume while all voxels stay on the same
	// source pixels: the defect of a series with a wrong Pixel Spacing.
	DefectVolumeTimesTen Defect = "volume_times_ten"
	// DefectLabelmapOverlap adds to a LABELMAP a second frame on the plane
	// of an existing one, holding the same pixels under another segment
	// number (a described one, else a new segment described like the
	// first): two labels claim the same voxels.
	DefectLabelmapOverlap Defect = "labelmap_overlap"
	// DefectDilatedAnnotator adds a second annotator's SEG of the same
	// segments, each frame's mask dilated by 3 pixels in its plane (a 7x7
	// square), for the agreement rules.
	DefectDilatedAnnotator Defect = "second_annotator_dilated"
)

// Info describes a defect: the rule family meant to find it and its rules.
type Info struct {
	Defect Defect
	// Family is the rule family (the first part of a rule id).
	Family string
	// Rules are the rule ids that find it.
	Rules []string
	// Counting is true when the rules may already fire on the clean case
	// and find the defect as a changed count (islands, holes): then a
	// finding whose message the clean report lacks counts as found.
	// Otherwise the defect applies only where the clean report has no
	// finding of these rules on the planted segment.
	Counting bool
}

// Defects lists every defect with its family and rules, in table order.
func Defects() []Info {
	return []Info{
		{DefectFrameOffPlane, "geometry", []string{"geometry.frame_position",
			"geometry.source_plane", "geometry.frame_placement"}, false},
		{DefectFrameOfReference, "geometry", []string{"geometry.frame_of_reference"}, false},
		{DefectMissingSource, "references", []string{"references.instance_missing",
			"references.source_missing"}, false},
		{DefectSliceRemoved, "completeness", []string{"completeness.slice_gap"}, false},
		{DefectIsland, "boundary", []string{"boundary.islands", "boundary.components"}, true},
		{DefectHole, "boundary", []string{"boundary.holes"}, true},
		{DefectCodeOutsideVocabulary, "labels", []string{"labels.vocabulary"}, false},
		{DefectVolumeTimesTen, "plausibility", []string{"plausibility.volume"}, false},
		{DefectLabelmapOverlap, "overlap", []string{"overlap.segments"}, false},
		{DefectDilatedAnnotator, "agreement", []string{"agreement.dice", "agreement.hd95"},
			false},
	}
}

// Case is a clean SEG with its source images, as Part 10 bytes.
type Case struct {
	// Name is the case's folder name.
	Name string
	SEG  []byte
	// Sources are the source images' Part 10 files.
	Sources [][]byte
	// SourcePaths maps SOP Instance UID to the file a source was read
	// from, for the rule that reads source pixels; nil means none.
	SourcePaths map[string]string
}

// Planted is a case with one defect planted.
type Planted struct {
	SEG     []byte
	Sources [][]byte
	// Peer is another annotator's SEG of the same sources, or nil.
	Peer []byte
	// Segment is the segment the defect went into; 0 for the whole SEG.
	Segment int
}

// Plant returns c with defect d planted, in memory. It returns an error
// wrapping [ErrNotApplicable] when the case cannot hold the defect (for
// example pixel edits in a compressed SEG), or [ErrFormat] when the SEG
// cannot be rewritten.
func Plant(c Case, d Defect) (*Planted, error) {
	seg, err := qc.ParseSegmentation(c.SEG)
	if err != nil {
		return nil, fmt.Errorf("parsing SEG: %w", err)
	}
	f, err := parseFile(c.SEG)
	if err != nil {
		return nil, err
	}
	p := &Planted{Sources: c.Sources}
	switch d {
	case DefectFrameOffPlane:
		err = frameOffPlane(f, seg, c)
	case DefectFrameOfReference:
		err = wrongFrameOfReference(f)
	case DefectMissingSource:
		p.Sources, err = dropSource(seg, c.Sources)
	case DefectSliceRemoved:
		p.Segment, err = removeSlice(f, seg)
	case DefectIsland:
		p.Segment, err = island(f, seg)
	case DefectHole:
		p.Segment, err = hole(f, seg)
	case DefectCodeOutsideVocabulary:
		p.Segment, err = outsideVocabulary(f, seg)
	case DefectVolumeTimesTen:
		p.Sources, err = volumeTimesTen(f, c.Sources)
		p.Segment = firstSegment(seg)
	case DefectLabelmapOverlap:
		err = labelmapOverlap(f, seg)
	case DefectDilatedAnnotator:
		p.Peer, err = dilatedPeer(f, seg)
	default:
		err = fmt.Errorf("%w: unknown defect %q", ErrNotApplicable, d)
	}
	if err != nil {
		return nil, err
	}
	p.SEG = f.bytes()
	return p, nil
}

// firstSegment returns the number of the first segment that is not a
// LABELMAP background, or 0.
func firstSegment(seg *qc.Segmentation) int {
	for _, s := range seg.Segments {
		if s.SegmentNumber != 0 {
			return int(s.SegmentNumber)
		}
	}
	return 0
}

// formatDS formats decimal strings of at most 16 characters (PS3.5 6.2).
func formatDS(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', 10, 64)
		if len(parts[i]) > 16 {
			parts[i] = strconv.FormatFloat(x, 'g', 8, 64)
		}
	}
	return strings.Join(parts, `\`)
}

// parseDS parses a backslash-separated decimal string.
func parseDS(s string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(strings.TrimSpace(s), `\`) {
		x, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return nil, fmt.Errorf("%w: decimal string %q", ErrFormat, s)
		}
		out = append(out, x)
	}
	return out, nil
}

// frameGroup returns functional group seq (a Plane Position or Pixel
// Measures sequence) of frame k: from its per-frame item, else shared.
func frameGroup(f *file, k int, seq uint32) []*element {
	if pf := find(f.ds, tagPerFrameGroups); pf != nil && k < len(pf.items) {
		if it := item(pf.items[k], seq); it != nil {
			return it
		}
	}
	return item(item(f.ds, tagSharedGroups), seq)
}

// normal returns the unit normal of an Image Orientation (Patient).
func normal(iop []float64) [3]float64 {
	if len(iop) != 6 {
		return [3]float64{}
	}
	n := [3]float64{iop[1]*iop[5] - iop[2]*iop[4], iop[2]*iop[3] - iop[0]*iop[5],
		iop[0]*iop[4] - iop[1]*iop[3]}
	l := math.Sqrt(n[0]*n[0] + n[1]*n[1] + n[2]*n[2])
	if l == 0 {
		return n
	}
	return [3]float64{n[0] / l, n[1] / l, n[2] / l}
}

// sliceSpacing returns the smallest distance between distinct planes of
// the SEG's frames and its sources along n, in mm; 0 when unknown.
func sliceSpacing(seg *qc.Segmentation, c Case, n [3]float64) float64 {
	var pos []float64
	add := func(p []float64) {
		if len(p) == 3 {
			pos = append(pos, p[0]*n[0]+p[1]*n[1]+p[2]*n[2])
		}
	}
	for _, fr := range seg.Frames {
		add(fr.ImagePositionPatient)
	}
	for _, b := range c.Sources {
		if inst, err := qc.ReadSourceInstance(strings.NewReader(string(b))); err == nil {
			for _, fr := range inst.Frames {
				add(fr.ImagePositionPatient)
			}
		}
	}
	slices.Sort(pos)
	best := 0.0
	for i := 1; i < len(pos); i++ {
		if d := pos[i] - pos[i-1]; d > 1e-3 && (best == 0 || d < best) {
			best = d
		}
	}
	return best
}

// frameOffPlane moves the middle frame by half a slice along the normal.
func frameOffPlane(f *file, seg *qc.Segmentation, c Case) error {
	if len(seg.Frames) == 0 {
		return fmt.Errorf("%w: no frame", ErrNotApplicable)
	}
	k := len(seg.Frames) / 2
	fr := seg.Frames[k]
	n := normal(fr.ImageOrientationPatient)
	spacing := sliceSpacing(seg, c, n)
	if spacing == 0 {
		spacing = fr.SliceThickness
	}
	pp := frameGroup(f, k, tagPlanePosition)
	ipp := find(pp, tagImagePosition)
	if ipp == nil || len(fr.ImagePositionPatient) != 3 || spacing == 0 || n == [3]float64{} {
		return fmt.Errorf("%w: frame %d has no plane position or slice spacing",
			ErrNotApplicable, k+1)
	}
	p := fr.ImagePositionPatient
	moved := []float64{p[0] + spacing/2*n[0], p[1] + spacing/2*n[1], p[2] + spacing/2*n[2]}
	setString(ipp, formatDS(moved))
	return nil
}

// plantedUID is a UID of the 2.25 root (PS3.5 B.2) that no real data uses.
const plantedUID = "2.25.271828182845904523536028747135266249775"

// wrongFrameOfReference replaces the SEG's Frame of Reference UID.
func wrongFrameOfReference(f *file) error {
	e := find(f.ds, tagFrameOfReferenceUID)
	if e == nil {
		return fmt.Errorf("%w: the SEG has no Frame of Reference UID", ErrNotApplicable)
	}
	setString(e, plantedUID)
	return nil
}

// dropSource removes the source of the SEG's middle frame.
func dropSource(seg *qc.Segmentation, sources [][]byte) ([][]byte, error) {
	if len(seg.Frames) == 0 || len(seg.Frames[len(seg.Frames)/2].SourceImages) == 0 {
		return nil, fmt.Errorf("%w: the middle frame names no source", ErrNotApplicable)
	}
	uid := seg.Frames[len(seg.Frames)/2].SourceImages[0].SOPInstanceUID
	var out [][]byte
	for _, b := range sources {
		inst, err := qc.ReadSourceInstance(strings.NewReader(string(b)))
		if err == nil && inst.SOPInstanceUID == uid {
			continue
		}
		out = append(out, b)
	}
	if len(out) == len(sources) {
		return nil, fmt.Errorf("%w: source %s is not among the case's sources",
			ErrNotApplicable, uid)
	}
	return out, nil
}

// framesOf returns the frames of segment n, ordered along the normal.
func framesOf(seg *qc.Segmentation, n uint16) []int {
	var out []int
	for i, fr := range seg.Frames {
		if fr.SegmentNumber == n {
			out = append(out, i)
		}
	}
	pos := func(i int) float64 {
		fr := seg.Frames[i]
		nn := normal(fr.ImageOrientationPatient)
		if len(fr.ImagePositionPatient) != 3 {
			return 0
		}
		p := fr.ImagePositionPatient
		return p[0]*nn[0] + p[1]*nn[1] + p[2]*nn[2]
	}
	slices.SortStableFunc(out, func(a, b int) int {
		switch pa, pb := pos(a), pos(b); {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	return out
}

// removeSlice drops the middle frame of the first segment with at least
// three frames, with its functional groups and pixels.
func removeSlice(f *file, seg *qc.Segmentation) (int, error) {
	if seg.SegmentationType != qc.SegmentationTypeBinary {
		return 0, fmt.Errorf("%w: %s frames hold every segment", ErrNotApplicable,
			seg.SegmentationType)
	}
	for _, s := range seg.Segments {
		fs := framesOf(seg, s.SegmentNumber)
		if planes(seg, fs) < 3 {
			continue
		}
		fr, err := readFrames(f, seg)
		if err != nil {
			return 0, err
		}
		k := fs[len(fs)/2]
		pf := find(f.ds, tagPerFrameGroups)
		if pf == nil || len(pf.items) != len(seg.Frames) {
			return 0, fmt.Errorf("%w: no per-frame functional groups", ErrNotApplicable)
		}
		pf.items = slices.Delete(pf.items, k, k+1)
		fr.px = slices.Delete(fr.px, k, k+1)
		fr.write(f)
		return int(s.SegmentNumber), nil
	}
	return 0, fmt.Errorf("%w: no segment has frames on three planes", ErrNotApplicable)
}

// planes counts the distinct planes (positions along the normal, to 1 µm)
// of frames fs; tiles of one slide plane count once.
func planes(seg *qc.Segmentation, fs []int) int {
	seen := make(map[int64]bool)
	for _, k := range fs {
		fr := seg.Frames[k]
		if len(fr.ImagePositionPatient) != 3 {
			continue
		}
		n, p := normal(fr.ImageOrientationPatient), fr.ImagePositionPatient
		seen[int64(math.Round((p[0]*n[0]+p[1]*n[1]+p[2]*n[2])*1000))] = true
	}
	return len(seen)
}

// footprint returns the pixels set in any frame of segment n.
func footprint(fr *frames, fs []int) []bool {
	out := make([]bool, fr.rows*fr.cols)
	for _, k := range fs {
		for i, v := range fr.px[k] {
			out[i] = out[i] || v != 0
		}
	}
	return out
}

// island sets a 2x2 blob in the corner of a segment's middle frame that is
// farthest from the segment, two pixels clear of it on every frame.
func island(f *file, seg *qc.Segmentation) (int, error) {
	if seg.SegmentationType != qc.SegmentationTypeBinary {
		return 0, fmt.Errorf("%w: pixel edits need a BINARY SEG", ErrNotApplicable)
	}
	fr, err := readFrames(f, seg)
	if err != nil {
		return 0, err
	}
	for _, s := range seg.Segments {
		fs := framesOf(seg, s.SegmentNumber)
		if len(fs) == 0 {
			continue
		}
		fp := footprint(fr, fs)
		// Try the four corners, one pixel in from the edges.
		for _, at := range [][2]int{{1, 1}, {1, fr.cols - 3}, {fr.rows - 3, 1},
			{fr.rows - 3, fr.cols - 3}} {
			if !clear2(fp, fr, at[0]-2, at[1]-2, 6) {
				continue
			}
			p := fr.px[fs[len(fs)/2]]
			for r := at[0]; r < at[0]+2; r++ {
				for c := at[1]; c < at[1]+2; c++ {
					p[r*fr.cols+c] = 1
				}
			}
			fr.write(f)
			return int(s.SegmentNumber), nil
		}
	}
	return 0, fmt.Errorf("%w: no corner is clear of the segments", ErrNotApplicable)
}

// clear2 reports whether the side x side square from (r0, c0) holds no
// pixel of fp (pixels outside the frame count as clear).
func clear2(fp []bool, fr *frames, r0, c0, side int) bool {
	if r0+2 < 0 || c0+2 < 0 || r0+4 > fr.rows || c0+4 > fr.cols {
		return false
	}
	for r := r0; r < r0+side; r++ {
		for c := c0; c < c0+side; c++ {
			if r >= 0 && c >= 0 && r < fr.rows && c < fr.cols && fp[r*fr.cols+c] {
				return false
			}
		}
	}
	return true
}

// hole clears a 3x3 blob (else one pixel) inside a segment's fullest frame
// where a 5x5 (else 3x3) neighbourhood is all set.
func hole(f *file, seg *qc.Segmentation) (int, error) {
	if seg.SegmentationType != qc.SegmentationTypeBinary {
		return 0, fmt.Errorf("%w: pixel edits need a BINARY SEG", ErrNotApplicable)
	}
	fr, err := readFrames(f, seg)
	if err != nil {
		return 0, err
	}
	for _, radius := range []int{1, 0} {
		for _, s := range seg.Segments {
			for _, k := range framesOf(seg, s.SegmentNumber) {
				p := fr.px[k]
				r, c, ok := interior(fr, p, radius+1)
				if !ok {
					continue
				}
				for y := r - radius; y <= r+radius; y++ {
					for x := c - radius; x <= c+radius; x++ {
						p[y*fr.cols+x] = 0
					}
				}
				fr.write(f)
				return int(s.SegmentNumber), nil
			}
		}
	}
	return 0, fmt.Errorf("%w: no segment has an interior pixel", ErrNotApplicable)
}

// interior returns the pixel of p nearest the centre of its set pixels
// whose square of the given radius is all set.
func interior(fr *frames, p []uint8, radius int) (int, int, bool) {
	var sr, sc, n int
	for i, v := range p {
		if v != 0 {
			sr, sc, n = sr+i/fr.cols, sc+i%fr.cols, n+1
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	cr, cc := sr/n, sc/n
	best, br, bc := math.MaxInt, 0, 0
	for r := radius; r < fr.rows-radius; r++ {
		for c := radius; c < fr.cols-radius; c++ {
			d := (r-cr)*(r-cr) + (c-cc)*(c-cc)
			if d >= best || !full(fr, p, r, c, radius) {
				continue
			}
			best, br, bc = d, r, c
		}
	}
	return br, bc, best != math.MaxInt
}

// full reports whether the square of the given radius around (r, c) is set.
func full(fr *frames, p []uint8, r, c, radius int) bool {
	for y := r - radius; y <= r+radius; y++ {
		for x := c - radius; x <= c+radius; x++ {
			if !fr.at(p, y, x) {
				return false
			}
		}
	}
	return true
}

// outsideVocabulary changes the first segment's type code value.
func outsideVocabulary(f *file, seg *qc.Segmentation) (int, error) {
	ss := find(f.ds, tagSegmentSequence)
	if ss == nil {
		return 0, fmt.Errorf("%w: no Segment Sequence", ErrFormat)
	}
	for i, it := range ss.items {
		if i >= len(seg.Segments) || seg.Segments[i].SegmentNumber == 0 {
			continue
		}
		cv := find(item(it, tagSegmentedType), tagCodeValue)
		if cv == nil {
			continue
		}
		setString(cv, "999999001")
		return int(seg.Segments[i].SegmentNumber), nil
	}
	return 0, fmt.Errorf("%w: no segment with a type code", ErrNotApplicable)
}

// volumeTimesTen scales the Pixel Spacing of the SEG and its sources.
func volumeTimesTen(f *file, sources [][]byte) ([][]byte, error) {
	if !scaleSpacing(f) {
		return nil, fmt.Errorf("%w: the SEG has no Pixel Spacing", ErrNotApplicable)
	}
	out := make([][]byte, len(sources))
	for i, b := range sources {
		sf, err := parseFile(b)
		if err != nil {
			return nil, fmt.Errorf("source %d: %w", i+1, err)
		}
		scaleSpacing(sf)
		out[i] = sf.bytes()
	}
	return out, nil
}

// scaleSpacing multiplies every Pixel Spacing of f (top level and in
// functional groups) by the square root of 10; it reports whether f had
// one.
func scaleSpacing(f *file) bool {
	found := false
	var walk func(ds []*element)
	walk = func(ds []*element) {
		for _, e := range ds {
			if e.tag == tagPixelSpacing {
				if v, err := parseDS(text(e)); err == nil && len(v) == 2 {
					setString(e, formatDS([]float64{v[0] * sqrt10, v[1] * sqrt10}))
					found = true
				}
			}
			for _, it := range e.items {
				walk(it)
			}
		}
	}
	walk(f.ds)
	return found
}

// labelmapOverlap appends a copy of the first non-empty LABELMAP frame, on
// the same plane, whose labels become another segment's number.
func labelmapOverlap(f *file, seg *qc.Segmentation) error {
	if seg.SegmentationType != qc.SegmentationTypeLabelmap {
		return fmt.Errorf("%w: not a LABELMAP", ErrNotApplicable)
	}
	fr, err := readFrames(f, seg)
	if err != nil {
		return err
	}
	pf := find(f.ds, tagPerFrameGroups)
	ss := find(f.ds, tagSegmentSequence)
	if pf == nil || len(pf.items) != len(fr.px) || ss == nil {
		return fmt.Errorf("%w: no per-frame groups or Segment Sequence", ErrNotApplicable)
	}
	for k, p := range fr.px {
		label := uint8(0)
		for _, v := range p {
			if v != 0 {
				label = v
				break
			}
		}
		if label == 0 {
			continue
		}
		other := otherLabel(seg, ss, label)
		dup := make([]uint8, len(p))
		for i, v := range p {
			if v != 0 {
				dup[i] = other
			}
		}
		fr.px = append(fr.px, dup)
		pf.items = append(pf.items, cloneDataset(pf.items[k]))
		fr.write(f)
		return nil
	}
	return fmt.Errorf("%w: every LABELMAP frame is empty", ErrNotApplicable)
}

// otherLabel returns a described segment number other than 0 and label;
// without one, it describes a new segment like the first and returns it.
func otherLabel(seg *qc.Segmentation, ss *element, label uint8) uint8 {
	maxN := uint16(0)
	for _, s := range seg.Segments {
		if s.SegmentNumber != 0 && s.SegmentNumber != uint16(label) && s.SegmentNumber < 256 {
			return uint8(s.SegmentNumber)
		}
		maxN = max(maxN, s.SegmentNumber)
	}
	n := uint8(maxN + 1)
	for _, it := range ss.items {
		num := find(it, 0x00620004)
		if num == nil || len(num.value) < 2 || num.value[0] == 0 {
			continue
		}
		c := cloneDataset(it)
		find(c, 0x00620004).value = []byte{n, 0}
		if l := find(c, 0x00620005); l != nil {
			setString(l, "planted overlap")
		}
		ss.items = append(ss.items, c)
		break
	}
	return n
}

// cloneDataset copies a data set deeply enough to edit values.
func cloneDataset(ds []*element) []*element {
	out := make([]*element, len(ds))
	for i, e := range ds {
		c := *e
		c.value = slices.Clone(e.value)
		c.items = nil
		for _, it := range e.items {
			c.items = append(c.items, cloneDataset(it))
		}
		out[i] = &c
	}
	return out
}

// dilatedPeer returns another annotator's SEG: f with new UIDs and a
// Content Creator's Name, every frame dilated by 3 pixels in its plane.
func dilatedPeer(f *file, seg *qc.Segmentation) ([]byte, error) {
	if seg.SegmentationType != qc.SegmentationTypeBinary {
		return nil, fmt.Errorf("%w: pixel edits need a BINARY SEG", ErrNotApplicable)
	}
	peer := &file{preamble: f.preamble, meta: cloneDataset(f.meta),
		ds: cloneDataset(f.ds), implicit: f.implicit, native: f.native}
	fr, err := readFrames(peer, seg)
	if err != nil {
		return nil, err
	}
	for k, p := range fr.px {
		fr.px[k] = dilate(fr, p, 3)
	}
	fr.write(peer)
	for _, t := range []uint32{tagSOPInstanceUID, tagSeriesInstanceUID} {
		if e := find(peer.ds, t); e != nil {
			setString(e, plantedUID+fmt.Sprint(t&0xFF))
		}
	}
	if e := find(peer.meta, 0x00020003); e != nil {
		setString(e, plantedUID+fmt.Sprint(tagSOPInstanceUID&0xFF))
	}
	if e := find(peer.ds, tagContentCreatorName); e != nil {
		setString(e, "Planted^Annotator")
	}
	return peer.bytes(), nil
}

// dilate returns p dilated by a square of the given radius.
func dilate(fr *frames, p []uint8, radius int) []uint8 {
	out := make([]uint8, len(p))
	for i, v := range p {
		if v == 0 {
			continue
		}
		r, c := i/fr.cols, i%fr.cols
		for y := max(0, r-radius); y <= min(fr.rows-1, r+radius); y++ {
			for x := max(0, c-radius); x <= min(fr.cols-1, c+radius); x++ {
				out[y*fr.cols+x] = 1
			}
		}
	}
	return out
}

// sqrt10 scales a length so that areas grow ten times.
var sqrt10 = math.Sqrt(10)
