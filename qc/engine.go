package qc

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"
)

// Engine runs the rules of one profile. It is safe for concurrent use.
type Engine struct {
	profile *Profile
	// now returns the time of a check; tests replace it.
	now func() time.Time
}

// NewEngine returns an engine for p; a nil p means [DefaultProfile].
func NewEngine(p *Profile) *Engine {
	if p == nil {
		p = DefaultProfile()
	}
	return &Engine{profile: p, now: time.Now}
}

// Profile returns the engine's profile.
func (e *Engine) Profile() *Profile { return e.profile }

// RuleCancelled is the rule ID of the finding a check that was cancelled
// ends with.
const RuleCancelled = "check.cancelled"

// CheckBytes parses a SEG held in data and checks it against sources. It
// returns an error only when data is not a readable SEG at all (see
// [ParseSegmentation]) or ctx ends before the check is done; a SEG that
// parses but breaks rules gives a report with findings. The report's
// duration includes the parsing.
func (e *Engine) CheckBytes(ctx context.Context, data []byte, sources *SourceSet) (*Report, error) {
	start := e.now()
	seg, err := ParseSegmentation(data)
	if err != nil {
		return nil, fmt.Errorf("parsing segmentation: %w", err)
	}
	rep := e.check(ctx, seg, sources, start, CheckOptions{})
	if err := ctx.Err(); err != nil {
		return rep, fmt.Errorf("checking segmentation: %w", err)
	}
	return rep, nil
}

// CheckFile reads a SEG file and checks it as [Engine.CheckBytes] does.
func (e *Engine) CheckFile(ctx context.Context, path string, sources *SourceSet) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading segmentation: %w", err)
	}
	return e.CheckBytes(ctx, data, sources)
}

// Check runs every enabled rule on seg against sources and returns the
// report. Sources may be nil or empty; missing sources are findings, not
// errors. The frames are decoded once, one at a time, into one reused mask,
// and ctx is checked between frames: a check cancelled part way gives a
// rejected report whose last finding has the rule [RuleCancelled].
func (e *Engine) Check(ctx context.Context, seg *Segmentation, sources *SourceSet) *Report {
	return e.check(ctx, seg, sources, e.now(), CheckOptions{})
}

// CheckWith is [Engine.Check] with what the optional rules need besides the
// SEG and its sources: other SEGs of the same source series, source pixels
// and the source's Body Part Examined. Each is used only when a rule that
// needs it is enabled.
func (e *Engine) CheckWith(ctx context.Context, seg *Segmentation, sources *SourceSet,
	opts CheckOptions) *Report {
	return e.check(ctx, seg, sources, e.now(), opts)
}

// check is Check with the time the work started: for CheckBytes, before
// parsing, so that the report's duration covers it.
func (e *Engine) check(ctx context.Context, seg *Segmentation, sources *SourceSet,
	start time.Time, opts CheckOptions) *Report {
	if sources == nil {
		sources = NewSourceSet()
	}
	c := &checkContext{
		ctx:     ctx,
		seg:     seg,
		sources: sources,
		tol:     e.profile.Tolerances.withDefaults(),
		profile: e.profile,
		thr:     e.profile.Thresholds.withDefaults(),
		opts:    opts,
		listed:  make(map[string]int),
		dropped: make(map[string]int),
	}

	c.stats = countPixels(ctx, seg)
	if c.stats.cancelled != nil {
		return e.cancelled(seg, start, c.stats.cancelled)
	}
	c.refs = resolveReferences(seg, sources)
	c.geo = placeFrames(c)

	for _, r := range registry {
		if r.check != nil && e.profile.enabled(r.ID) {
			r.check(c, r)
		}
	}
	c.flushDropped()

	rep := e.newReport(seg, start)
	rep.SourceSeriesUIDs = c.refs.seriesUIDs()
	rep.Segments = segmentReports(c)
	rep.Agreement = c.agreement
	rep.Findings = e.applyProfile(append(seg.Problems, c.findings...))
	rep.Decision = decide(rep.Findings)
	rep.DurationMS = float64(e.now().Sub(start).Microseconds()) / 1000
	return rep
}

// newReport returns a report with the SEG's identification filled in.
func (e *Engine) newReport(seg *Segmentation, start time.Time) *Report {
	return &Report{
		SOPInstanceUID:    seg.SOPInstanceUID,
		SOPClassUID:       seg.SOPClassUID,
		StudyInstanceUID:  seg.StudyInstanceUID,
		SeriesInstanceUID: seg.SeriesInstanceUID,
		SourceSeriesUIDs:  []string{},
		Profile:           e.profile.Info(),
		SegmentationType:  seg.SegmentationType,
		Segments:          []SegmentReport{},
		Findings:          []Finding{},
		CheckedAt:         start.UTC().Truncate(time.Millisecond),
	}
}

// cancelled returns the report of a check that ctx ended.
func (e *Engine) cancelled(seg *Segmentation, start time.Time, err error) *Report {
	rep := e.newReport(seg, start)
	rep.Findings = []Finding{{
		Rule:     RuleCancelled,
		Severity: SeverityError,
		Message:  fmt.Sprintf("the check did not finish: %v", err),
	}}
	rep.Decision = DecisionRejected
	rep.DurationMS = float64(e.now().Sub(start).Microseconds()) / 1000
	return rep
}

// applyProfile drops the findings of disabled rules and sets the severity
// the profile gives each rule. Structure findings without a Failure Reason
// of their own get A900, as a violation of the IOD.
func (e *Engine) applyProfile(in []Finding) []Finding {
	out := make([]Finding, 0, len(in))
	for _, f := range in {
		if !e.profile.enabled(f.Rule) {
			continue
		}
		f.Severity = e.profile.severity(f.Rule, f.Severity)
		if f.FailureReason == 0 && strings.HasPrefix(f.Rule, "structure.") {
			f.FailureReason = failureReasonIODViolation
		}
		out = append(out, f)
	}
	return out
}

// decide turns findings into a decision: any error rejects; warnings alone
// accept with warnings; info findings do not count.
func decide(findings []Finding) Decision {
	d := DecisionAccepted
	for _, f := range findings {
		switch f.Severity {
		case SeverityError:
			return DecisionRejected
		case SeverityWarning:
			d = DecisionAcceptedWithWarnings
		}
	}
	return d
}

// pixelStats holds what one pass over the frames counted.
type pixelStats struct {
	// voxels and frames count, per segment number, the segment's pixels
	// and the frames that encode it: for BINARY and FRACTIONAL the frames
	// the Segment Identification assigns to it, for LABELMAP those that hold
	// at least one of its pixels.
	voxels map[uint16]int64
	frames map[uint16]int
	// frameVoxels counts, per frame, the pixels of the frame's segment
	// (BINARY, FRACTIONAL) or of any described segment but 0 (LABELMAP).
	frameVoxels []int
	// segmentVoxels counts, per frame, the pixels of each segment; LABELMAP
	// only (BINARY and FRACTIONAL frames hold one segment).
	segmentVoxels []map[uint16]int
	// undescribed lists, for LABELMAP, values found in frames that no
	// segment describes (other than 0 and the Pixel Padding Value), with the
	// first frame (1-based) holding each.
	undescribed map[uint16]int
	// decodeErrs are the frames that could not be decoded.
	decodeErrs []frameError
	// unavailable is set when no frame could be decoded for a reason the
	// decoder reports itself (an unsupported transfer syntax, no Pixel
	// Data): pixel counts are unknown and the rules that need them do not
	// run.
	unavailable bool
	// cancelled is the context's error when the pass was cut short.
	cancelled error
}

// frameError is a frame that could not be decoded.
type frameError struct {
	frame int // 1-based
	err   error
}

// countPixels decodes every frame once and counts its pixels.
func countPixels(ctx context.Context, seg *Segmentation) *pixelStats {
	st := &pixelStats{
		voxels:      make(map[uint16]int64),
		frames:      make(map[uint16]int),
		frameVoxels: make([]int, len(seg.Frames)),
		undescribed: make(map[uint16]int),
	}
	if seg.SegmentationType == SegmentationTypeLabelmap {
		countLabelmap(ctx, seg, st)
	} else {
		countBinary(ctx, seg, st)
	}

	// When no frame decodes and the decoder said why (no Pixel Data, a
	// syntax it cannot decode, encapsulation against the syntax), its
	// finding is the one to report, not one per frame.
	if len(seg.Frames) > 0 && len(st.decodeErrs) == len(seg.Frames) &&
		slices.ContainsFunc(seg.Problems, isPixelProblem) {
		st.unavailable = true
		st.decodeErrs = nil
	}
	return st
}

// isPixelProblem reports whether a decoder finding is about the pixel data
// as a whole.
func isPixelProblem(f Finding) bool {
	switch f.Rule {
	case decodeRuleTransferSyntax, decodeRulePixelData, decodeRulePixelDataLength,
		decodeRuleEncapsulation:
		return true
	}
	return false
}

// countBinary counts the frames of a BINARY or FRACTIONAL SEG, each holding
// one segment, with one reused mask.
func countBinary(ctx context.Context, seg *Segmentation, st *pixelStats) {
	var m Mask
	for i, f := range seg.Frames {
		if err := ctx.Err(); err != nil {
			st.cancelled = err
			return
		}
		st.frames[f.SegmentNumber]++
		if err := seg.FrameMask(i, f.SegmentNumber, &m); err != nil {
			st.decodeErrs = append(st.decodeErrs, frameError{frame: i + 1, err: err})
			continue
		}
		n := m.Count()
		st.frameVoxels[i] = n
		st.voxels[f.SegmentNumber] += int64(n)
	}
}

// countLabelmap counts the values of every frame of a LABELMAP SEG with one
// histogram, so each frame is decoded once whatever the number of segments.
func countLabelmap(ctx context.Context, seg *Segmentation, st *pixelStats) {
	described := make(map[uint16]bool, len(seg.Segments))
	for _, d := range seg.Segments {
		described[d.SegmentNumber] = true
	}
	padding := -1
	if seg.PixelPaddingValue != nil {
		padding = *seg.PixelPaddingValue
	}

	st.segmentVoxels = make([]map[uint16]int, len(seg.Frames))
	hist := make([]int, 1<<16)
	var (
		values  []uint16
		touched []uint16
	)
	for i := range seg.Frames {
		if err := ctx.Err(); err != nil {
			st.cancelled = err
			return
		}
		var err error
		values, err = seg.FrameValues(i, values)
		if err != nil {
			st.decodeErrs = append(st.decodeErrs, frameError{frame: i + 1, err: err})
			continue
		}
		touched = touched[:0]
		for _, v := range values {
			if hist[v] == 0 {
				touched = append(touched, v)
			}
			hist[v]++
		}

		slices.Sort(touched)
		counts := make(map[uint16]int, len(touched))
		for _, v := range touched {
			n := hist[v]
			hist[v] = 0
			switch {
			case v == 0 || int(v) == padding && !described[v]:
			case described[v]:
				counts[v] = n
				st.voxels[v] += int64(n)
				st.frames[v]++
				st.frameVoxels[i] += n
			default:
				if _, seen := st.undescribed[v]; !seen {
					st.undescribed[v] = i + 1
				}
			}
		}
		st.segmentVoxels[i] = counts
	}
}

// segmentReports gives the numbers of every described segment but a
// LABELMAP's background segment 0, in the order of the Segment Sequence.
func segmentReports(c *checkContext) []SegmentReport {
	out := []SegmentReport{}
	labelmap := c.seg.SegmentationType == SegmentationTypeLabelmap
	for _, d := range c.seg.Segments {
		if labelmap && d.SegmentNumber == 0 {
			continue
		}
		out = append(out, SegmentReport{
			Number:   int(d.SegmentNumber),
			Label:    d.SegmentLabel,
			Frames:   c.stats.frames[d.SegmentNumber],
			Voxels:   c.stats.voxels[d.SegmentNumber],
			VolumeML: segmentVolume(c, d.SegmentNumber),
		})
	}
	return out
}

// segmentVolume returns the volume of a segment in mL: for each frame, its
// pixels times the frame's pixel area, times the slice spacing (see
// [placement.sliceSpacing]). It is nil when a frame holding the segment has
// no Pixel Spacing, when no slice spacing is known, or when the pixels could
// not be counted.
func segmentVolume(c *checkContext, segment uint16) *float64 {
	if c.stats.unavailable || len(c.stats.decodeErrs) > 0 {
		return nil
	}
	spacing := c.geo.sliceSpacing
	if spacing <= 0 {
		return nil
	}
	labelmap := c.seg.SegmentationType == SegmentationTypeLabelmap
	var mm3 float64
	for i, f := range c.seg.Frames {
		n := 0
		switch {
		case labelmap:
			n = c.stats.segmentVoxels[i][segment]
		case f.SegmentNumber == segment:
			n = c.stats.frameVoxels[i]
		}
		if n == 0 {
			continue
		}
		if len(f.PixelSpacing) != 2 {
			return nil
		}
		mm3 += float64(n) * f.PixelSpacing[0] * f.PixelSpacing[1]
	}
	ml := mm3 * spacing / 1000
	return &ml
}
