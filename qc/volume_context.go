package qc

import (
	"context"
	"slices"
	"strings"
)

// CheckOptions carry what the optional rules need besides the SEG and its
// sources. The zero value is valid: rules that need a missing input do not
// run, and say so in an info finding when they are enabled.
type CheckOptions struct {
	// Peers lists other SEGs of the same source series, for the label
	// consistency and agreement rules; nil means none. It is called once,
	// and only when one of those rules is enabled.
	Peers Peers
	// Pixels gives source pixel values, for the CT air rule; nil means
	// none. It is called only when that rule is enabled.
	Pixels SourcePixels
	// BodyPartExamined is the source series' Body Part Examined
	// (0018,0015), for requirements that select by it. Empty means: take
	// it from the source instances of the referenced series (the first
	// that has one, see [SourceInstance.BodyPartExamined]); when none has
	// one, it is unknown.
	BodyPartExamined string
}

// Peer is another SEG of the same source series: an earlier upload, or
// another file given to "qcgate check".
type Peer struct {
	// Segmentation is the decoded peer. Its segment descriptions serve the
	// label rules; its frames, decoded on demand, the agreement rule.
	Segmentation *Segmentation
	// Annotator names who made it, for reports: Content Creator's Name or
	// the uploader; empty when unknown.
	Annotator string
}

// Peers gives the other SEGs whose source series overlap a SEG's. The
// gateway fills it from its store of earlier uploads; [PeerList] serves a
// fixed list.
type Peers interface {
	// Peers returns the peers of seg. seg itself, by SOP Instance UID, must
	// not be among them.
	Peers(ctx context.Context, seg *Segmentation) ([]Peer, error)
}

// PeerList is a fixed list of SEGs, for example every SEG given to "qcgate
// check". Its Peers method returns those that are not seg and share a
// referenced source series with it.
type PeerList []Peer

// Peers implements [Peers].
func (l PeerList) Peers(_ context.Context, seg *Segmentation) ([]Peer, error) {
	series := referencedSeries(seg)
	var out []Peer
	for _, p := range l {
		if p.Segmentation == nil || p.Segmentation.SOPInstanceUID == seg.SOPInstanceUID {
			continue
		}
		if slices.ContainsFunc(referencedSeries(p.Segmentation), func(s string) bool {
			return slices.Contains(series, s)
		}) {
			out = append(out, p)
		}
	}
	return out, nil
}

// referencedSeries lists the series of the Referenced Series Sequence.
func referencedSeries(seg *Segmentation) []string {
	var out []string
	for _, rs := range seg.ReferencedSeries {
		if rs.SeriesInstanceUID != "" {
			out = append(out, rs.SeriesInstanceUID)
		}
	}
	return out
}

// SourcePixels gives the pixel values of source frames. The gateway's
// implementation fetches frames by WADO-RS
// (/studies/{s}/series/{s}/instances/{i}/frames/{n}); [FileSourcePixels]
// reads files.
type SourcePixels interface {
	// FrameValues returns the values of 1-based frame of inst after the
	// Modality LUT transformation (Rescale Slope and Intercept, PS3.3
	// C.11.1.1.2), Rows x Columns in row-major order: Hounsfield units
	// for CT.
	FrameValues(ctx context.Context, inst *SourceInstance, frame int) ([]float64, error)
}

// bodyPartExamined returns the Body Part Examined (0018,0015) of the
// checked SEG's sources: the option when set, else the first value found
// among the source instances of the referenced series, else "".
func (c *checkContext) bodyPartExamined() string {
	if c.opts.BodyPartExamined != "" {
		return c.opts.BodyPartExamined
	}
	for _, inst := range c.sourceInstances() {
		if v := strings.TrimSpace(inst.BodyPartExamined); v != "" {
			return v
		}
	}
	return ""
}

// peers returns the peers of the checked SEG, asking opts.Peers once.
func (c *checkContext) peers() ([]Peer, error) {
	if c.peerList != nil || c.peerErr != nil || c.opts.Peers == nil {
		return c.peerList, c.peerErr
	}
	c.peerList, c.peerErr = c.opts.Peers.Peers(c.ctx, c.seg)
	if c.peerList == nil && c.peerErr == nil {
		c.peerList = []Peer{}
	}
	return c.peerList, c.peerErr
}
