package qc

import (
	"math"
	"sync"

	"github.com/qcgate/qcgate/qc/metrics"
)

// Agreement compares one segment of the checked SEG with the segment of the
// same concept in another SEG of the same source series (package
// [metrics] defines the values; distances in mm).
type Agreement struct {
	OtherSOPInstanceUID string `json:"other_sop_instance_uid"`
	// OtherAnnotator names who made the other SEG, when known.
	OtherAnnotator string  `json:"other_annotator,omitempty"`
	Segment        int     `json:"segment"`
	OtherSegment   int     `json:"other_segment"`
	Concept        string  `json:"concept"`
	Dice           float64 `json:"dice"`
	Jaccard        float64 `json:"jaccard"`
	// HDMM, HD95MM and ASSDMM are null when one of the two segments is
	// empty (the distance is infinite).
	HDMM   *float64 `json:"hd_mm"`
	HD95MM *float64 `json:"hd95_mm"`
	ASSDMM *float64 `json:"assd_mm"`
	NSD    float64  `json:"nsd"`
	// NSDToleranceMM is the tolerance NSD was computed at.
	NSDToleranceMM float64 `json:"nsd_tolerance_mm"`
}

var ruleAgreementDice = &rule{
	RuleInfo: RuleInfo{
		ID:              "agreement.dice",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2, Table 10-25; profile: dice_min",
		Summary: "a segment's Dice with the same concept in another SEG of the source " +
			"series (another annotator) is at least the profile's dice_min; the " +
			"comparisons go in the report's agreement list",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		for _, a := range c.agreements(r) {
			if a.Dice < c.thr.DiceMin {
				c.addf(r, a.Segment, 0, "two annotators of %q must agree with Dice at least "+
					"%g: segment %d has Dice %.4f with segment %d of SEG %s",
					a.Concept, c.thr.DiceMin, a.Segment, a.Dice, a.OtherSegment,
					a.OtherSOPInstanceUID)
			}
		}
	},
}

var ruleAgreementHD95 = &rule{
	RuleInfo: RuleInfo{
		ID:              "agreement.hd95",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2, Table 10-25; profile: hd95_max_mm",
		Summary: "a segment's HD95 (the larger directed 95th percentile of surface " +
			"distances) to the same concept in another SEG of the source series is at most " +
			"the profile's hd95_max_mm",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		for _, a := range c.agreements(r) {
			switch {
			case a.HD95MM == nil:
				c.addf(r, a.Segment, 0, "two annotators of %q must agree with HD95 at most "+
					"%g mm: segment %d or segment %d of SEG %s is empty, so HD95 is infinite",
					a.Concept, c.thr.HD95MaxMM, a.Segment, a.OtherSegment,
					a.OtherSOPInstanceUID)
			case *a.HD95MM > c.thr.HD95MaxMM:
				c.addf(r, a.Segment, 0, "two annotators of %q must agree with HD95 at most "+
					"%g mm: segment %d has HD95 %.4g mm to segment %d of SEG %s",
					a.Concept, c.thr.HD95MaxMM, a.Segment, *a.HD95MM, a.OtherSegment,
					a.OtherSOPInstanceUID)
			}
		}
	},
}

// agreements compares, once for both agreement rules, every segment with
// the segments of the same concept in the peers.
func (c *checkContext) agreements(r *rule) []Agreement {
	if c.agreement != nil || c.agreementDone {
		return c.agreement
	}
	c.agreementDone = true
	if c.stats.unavailable || len(c.stats.decodeErrs) > 0 {
		return nil
	}
	peers, err := c.peers()
	if err != nil {
		c.addInfo(r, "the other SEGs of the source series could not be listed: %v", err)
		return nil
	}
	g := c.frameGrid()
	if len(peers) > 0 && !g.ok {
		c.addInfo(r, "the SEG's frames do not form a 3D grid")
		return nil
	}
	w := workspaces.Get().(*metrics.Workspace)
	defer workspaces.Put(w)
	for i := range c.seg.Segments {
		d := &c.seg.Segments[i]
		if isBackground(c.seg, d) {
			continue
		}
		key := conceptKey(c.profile, d)
		var mine *voxelVolume
		for _, p := range peers {
			pg := newFrameGrid(p.Segmentation, g.spacing[0], c.tol)
			if !pg.ok || !sameOrientation(pg.iop, g.iop, c.tol.OrientationCosine) ||
				math.Abs(pg.spacing[1]-g.spacing[1]) > 1e-3*g.spacing[1] ||
				math.Abs(pg.spacing[2]-g.spacing[2]) > 1e-3*g.spacing[2] {
				continue
			}
			for j := range p.Segmentation.Segments {
				o := &p.Segmentation.Segments[j]
				if isBackground(p.Segmentation, o) || conceptKey(c.profile, o) != key {
					continue
				}
				if mine == nil {
					if mine = segmentVolume3D(c.seg, g, d.SegmentNumber); mine == nil {
						break
					}
				}
				other := segmentVolume3D(p.Segmentation, pg, o.SegmentNumber)
				a, ok := compareVolumes(w, mine, other, c.thr.NSDToleranceMM)
				if !ok {
					continue
				}
				a.OtherSOPInstanceUID = p.Segmentation.SOPInstanceUID
				a.OtherAnnotator = p.Annotator
				a.Segment, a.OtherSegment = int(d.SegmentNumber), int(o.SegmentNumber)
				a.Concept = key
				c.agreement = append(c.agreement, a)
			}
		}
	}
	return c.agreement
}

// conceptKey names the concept of a segment for matching across SEGs: the
// profile's concept ID, else the type code and modifier, else (for the
// generic "Tissue" type) the label.
func conceptKey(p *Profile, d *SegmentDescription) string {
	if con, _ := p.resolve(d); con != nil {
		return con.ID
	}
	if !d.SegmentedPropertyType.IsZero() && !isGenericType(d.SegmentedPropertyType) {
		k := d.SegmentedPropertyType.CodingSchemeDesignator + ":" +
			d.SegmentedPropertyType.CodeValue
		if m := d.SegmentedPropertyTypeModifier; !m.IsZero() {
			k += "/" + m.CodingSchemeDesignator + ":" + m.CodeValue
		}
		return k
	}
	return "label:" + labelKey(d.SegmentLabel)
}

// compareVolumes computes the metrics of two volumes of one grid on the
// box that bounds both, with w's buffers; ok is false when both are empty.
func compareVolumes(w *metrics.Workspace, a, b *voxelVolume,
	tolerance float64) (Agreement, bool) {
	// A volume's box is the bounding box of its voxels ([segmentVolume3D]);
	// a nil volume has none.
	var lo, hi [3]int
	var spacing [3]float64
	switch {
	case a == nil && b == nil:
		return Agreement{}, false
	case a == nil:
		lo, hi, spacing = b.lo, b.last(), b.spacing
	case b == nil:
		lo, hi, spacing = a.lo, a.last(), a.spacing
	default:
		la, lb := a.last(), b.last()
		for x := range 3 {
			lo[x], hi[x] = min(a.lo[x], b.lo[x]), max(la[x], lb[x])
		}
		spacing = a.spacing
	}
	// The box bounds every voxel of both masks, so distances measured in it
	// are those of the whole grid (package metrics).
	grid := metrics.Grid{
		Dims:    [3]int{hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1},
		Spacing: spacing,
	}
	ma, mb := w.BitMasks(grid)
	if a != nil {
		a.fillBits(lo, grid, ma)
	}
	if b != nil {
		b.fillBits(lo, grid, mb)
	}
	res, err := w.CompareBits(grid, ma, mb, tolerance)
	if err != nil {
		return Agreement{}, false
	}
	return Agreement{
		Dice: res.Dice, Jaccard: res.Jaccard, HDMM: finite(res.HausdorffMM),
		HD95MM: finite(res.HD95MM), ASSDMM: finite(res.ASSDMM), NSD: res.NSD,
		NSDToleranceMM: tolerance,
	}, true
}

// workspaces keeps the agreement buffers of finished checks for the next,
// so that a gateway checking SEG after SEG does not allocate them anew.
var workspaces = sync.Pool{New: func() any { return new(metrics.Workspace) }}

// finite returns &v, or nil when v is infinite or NaN (which JSON cannot
// hold).
func finite(v float64) *float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return nil
	}
	return &v
}
