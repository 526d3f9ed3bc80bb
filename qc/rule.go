package qc

import (
	"context"
	"fmt"
	"slices"
)

// RuleInfo describes one QC rule: its stable dotted ID, the severity of its
// findings unless a profile says otherwise, the clause of the standard it
// checks and a one-line summary for documentation.
type RuleInfo struct {
	ID              string   `json:"id"`
	DefaultSeverity Severity `json:"default_severity"`
	Reference       string   `json:"reference"`
	Summary         string   `json:"summary"`
	// FromDecoder is true for rules whose findings the decoder reports while
	// reading the SEG ([Segmentation.Problems]); the engine passes them on.
	FromDecoder bool `json:"from_decoder,omitempty"`
	// Optional is true for rules that run only when a profile enables
	// them, by ID or by family (see [Profile.Rules]): the rules that need a
	// profile's vocabulary or thresholds, 3D work, source pixels or other
	// SEGs.
	Optional bool `json:"optional,omitempty"`
}

// rule is one core rule: its description and the check that produces its
// findings. check is nil for rules whose findings come from the decoder.
type rule struct {
	RuleInfo
	check func(c *checkContext, r *rule)
}

// maxFindingsPerRule bounds the findings one rule lists for one SEG; the
// rest are counted in a last finding, so a SEG with thousands of bad frames
// gives a report of readable size.
const maxFindingsPerRule = 20

// Failure Reason (0008,1197) of a SEG rejected for a structure finding:
// A900 "Data Set does not match SOP Class" (PS3.4 GG.4, Storage Service
// Class status codes).
const failureReasonIODViolation = 0xA900

// registry lists every rule, in the order the engine runs them and the
// README documents them. IDs are stable: a profile names rules by them.
var registry = []*rule{
	ruleType1,
	ruleSegmentationType,
	ruleImagePixel,
	ruleSegmentDescription,
	ruleSegmentNumbers,
	ruleFrameSegment,
	rulePixelDecode,
	ruleSourceMissing,
	ruleInstanceMissing,
	ruleFrameNumber,
	ruleSeriesListed,
	ruleStudy,
	ruleFrameOfReference,
	ruleOrientation,
	rulePixelSpacing,
	ruleFramePosition,
	ruleSourcePlane,
	rulePixelGrid,
	ruleMatrixSize,
	ruleFramePlacement,
	ruleTilePosition,
	ruleSegmentsEmpty,
	ruleLabelsVocabulary,
	ruleLabelsUnique,
	ruleLabelsConsistent,
	ruleRequiredSegment,
	ruleSliceGap,
	ruleOverlap,
	ruleFractionalBinaryLike,
	ruleFractionalBitField,
	ruleVolumeRange,
	ruleLaterality,
	ruleComponents,
	ruleIslands,
	ruleHoles,
	ruleImageBorder,
	ruleAirShare,
	ruleAgreementDice,
	ruleAgreementHD95,
}

// Rules returns the description of every rule qc knows, core rules first in
// the order they run, then the rules the decoder reports through. The
// README's rule table and the profile loader use it.
func Rules() []RuleInfo {
	out := make([]RuleInfo, 0, len(registry)+len(decoderRules))
	for _, r := range registry {
		out = append(out, r.RuleInfo)
	}
	return append(out, decoderRules...)
}

// ruleInfo returns the description of the rule with that ID.
func ruleInfo(id string) (RuleInfo, bool) {
	i := slices.IndexFunc(Rules(), func(r RuleInfo) bool { return r.ID == id })
	if i < 0 {
		return RuleInfo{}, false
	}
	return Rules()[i], true
}

// checkContext holds what the rules of one check share: the SEG, its
// sources, the tolerances, and what the engine worked out once for all
// rules (pixel counts, resolved references, source planes).
type checkContext struct {
	ctx     context.Context
	seg     *Segmentation
	sources *SourceSet
	tol     Tolerances
	profile *Profile
	// thr holds the profile's thresholds with defaults filled in.
	thr  Thresholds
	opts CheckOptions
	// agreement collects the agreement rule's comparisons for the report.
	agreement     []Agreement
	agreementDone bool
	// peerList and peerErr cache what opts.Peers gave.
	peerList []Peer
	peerErr  error
	// grid caches the plane indexing of the SEG's frames.
	grid *frameGrid
	// shapes caches the 3D analysis of each segment.
	shapes map[uint16]*segmentShape

	// stats holds the pixel counts of the single pass over the frames.
	stats *pixelStats
	// refs holds the resolved references to sources.
	refs *references
	// geo holds the placement of frames on the source grid.
	geo *placement

	findings []Finding
	// listed and dropped count, per rule, the findings kept and those over
	// maxFindingsPerRule.
	listed  map[string]int
	dropped map[string]int
}

// addf records a finding of r about a segment and a 1-based frame (0 when
// the finding is not about one), with the rule's default severity.
func (c *checkContext) addf(r *rule, segment, frame int, format string, args ...any) {
	if c.listed[r.ID] >= maxFindingsPerRule {
		c.dropped[r.ID]++
		return
	}
	c.listed[r.ID]++
	f := Finding{
		Rule:      r.ID,
		Severity:  r.DefaultSeverity,
		Message:   fmt.Sprintf(format, args...),
		Segment:   segment,
		Frame:     frame,
		Reference: r.Reference,
	}
	c.findings = append(c.findings, f)
}

// flushDropped appends, for every rule that had more findings than it may
// list, one finding that counts the rest.
func (c *checkContext) flushDropped() {
	for _, r := range Rules() {
		n := c.dropped[r.ID]
		if n == 0 {
			continue
		}
		c.findings = append(c.findings, Finding{
			Rule:      r.ID,
			Severity:  r.DefaultSeverity,
			Message:   fmt.Sprintf("%d more findings of this rule are not listed", n),
			Reference: r.Reference,
		})
	}
}
