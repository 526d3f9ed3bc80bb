package qc

import (
	"fmt"
	"slices"
)

// references is what the SEG references, resolved against the sources
// (PS3.3 C.12.2 Common Instance Reference, C.7.6.16.2.6 Derivation Image).
type references struct {
	// series lists the referenced series: those of the Referenced Series
	// Sequence first, then those of other referenced instances found among
	// the sources.
	series []string
	// listedSeries and listedInstances are what the Referenced Series
	// Sequence lists.
	listedSeries    map[string]bool
	listedInstances map[string]bool
	// instances lists every referenced SOP Instance UID once, in the order
	// first met: Referenced Series Sequence, then the frames' and the
	// top-level Source Image Sequences.
	instances []string
	// instanceSeries maps an instance to the series the Referenced Series
	// Sequence puts it in, or the series of the source found for it.
	instanceSeries map[string]string
	// firstFrame maps an instance to the first frame (1-based) naming it in
	// its Derivation Image Sequence; 0 for instances no frame names.
	firstFrame map[string]int
	// frames holds, per SEG frame, the source frames it names that are
	// present; own is false when those names come from the shared
	// functional groups and so name the same images for every frame.
	frames []frameRefs
}

// frameRefs are the source frames one SEG frame names.
type frameRefs struct {
	refs []sourceRef
	own  bool
}

// sourceRef is one present source frame.
type sourceRef struct {
	inst  *SourceInstance
	frame *SourceFrame
}

// seriesUIDs returns the referenced series for a report.
func (r *references) seriesUIDs() []string {
	return append([]string{}, r.series...)
}

// resolveReferences collects the SEG's references and finds them among the
// sources.
func resolveReferences(seg *Segmentation, sources *SourceSet) *references {
	r := &references{
		listedSeries:    make(map[string]bool),
		listedInstances: make(map[string]bool),
		instanceSeries:  make(map[string]string),
		firstFrame:      make(map[string]int),
		frames:          make([]frameRefs, len(seg.Frames)),
	}
	addInstance := func(uid, series string) {
		if uid == "" {
			return
		}
		if _, seen := r.instanceSeries[uid]; !seen {
			r.instances = append(r.instances, uid)
			r.instanceSeries[uid] = series
		}
		if r.instanceSeries[uid] == "" {
			r.instanceSeries[uid] = series
		}
	}
	addSeries := func(uid string) {
		if uid != "" && !slices.Contains(r.series, uid) {
			r.series = append(r.series, uid)
		}
	}

	for _, rs := range seg.ReferencedSeries {
		r.listedSeries[rs.SeriesInstanceUID] = true
		addSeries(rs.SeriesInstanceUID)
		for _, ref := range rs.Instances {
			r.listedInstances[ref.SOPInstanceUID] = true
			addInstance(ref.SOPInstanceUID, rs.SeriesInstanceUID)
		}
	}

	shared := seg.SharedFunctionalGroups["DerivationImageSequence"]
	for i, f := range seg.Frames {
		r.frames[i].own = !shared
		for _, ref := range f.SourceImages {
			if _, named := r.firstFrame[ref.SOPInstanceUID]; !named {
				r.firstFrame[ref.SOPInstanceUID] = f.Number
			}
			inst := sources.Instance(ref.SOPInstanceUID)
			series := ""
			if inst != nil {
				series = inst.SeriesInstanceUID
			}
			addInstance(ref.SOPInstanceUID, series)
			r.frames[i].refs = append(r.frames[i].refs, presentFrames(inst, ref)...)
		}
	}
	for _, ref := range seg.SourceImages {
		inst := sources.Instance(ref.SOPInstanceUID)
		series := ""
		if inst != nil {
			series = inst.SeriesInstanceUID
		}
		addInstance(ref.SOPInstanceUID, series)
	}

	// Series of referenced instances that the Referenced Series Sequence
	// does not list still hold source images.
	for _, uid := range r.instances {
		if inst := sources.Instance(uid); inst != nil {
			addSeries(inst.SeriesInstanceUID)
		}
	}
	return r
}

// presentFrames returns the frames of inst that ref names: the Referenced
// Frame Numbers within range, or every frame when it names none.
func presentFrames(inst *SourceInstance, ref ImageReference) []sourceRef {
	if inst == nil {
		return nil
	}
	var out []sourceRef
	if len(ref.ReferencedFrameNumber) == 0 {
		for i := range inst.Frames {
			out = append(out, sourceRef{inst: inst, frame: &inst.Frames[i]})
		}
		return out
	}
	for _, n := range ref.ReferencedFrameNumber {
		if n >= 1 && n <= len(inst.Frames) {
			out = append(out, sourceRef{inst: inst, frame: &inst.Frames[n-1]})
		}
	}
	return out
}

// sourceInstances returns the source instances of the referenced series
// that are present, in series order then the order they were added.
func (c *checkContext) sourceInstances() []*SourceInstance {
	var out []*SourceInstance
	for _, s := range c.refs.series {
		out = append(out, c.sources.Series(s)...)
	}
	return out
}

var ruleSourceMissing = &rule{
	RuleInfo: RuleInfo{
		ID:              "references.source_missing",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.12.2",
		Summary: "every series the SEG references has instances among the sources, " +
			"and the SEG references at least one source image",
	},
	check: func(c *checkContext, r *rule) {
		if len(c.refs.series) == 0 && len(c.refs.instances) == 0 {
			c.addf(r, 0, 0, "a SEG must reference the images it segments "+
				"(Referenced Series Sequence (0008,1115) or Source Image Sequence (0008,2112)): "+
				"found no reference")
			return
		}
		for _, s := range c.refs.series {
			if c.sources.HasSeries(s) {
				continue
			}
			n := 0
			for _, uid := range c.refs.instances {
				if c.refs.instanceSeries[uid] == s {
					n++
				}
			}
			c.addf(r, 0, 0, "referenced source series %s must be available to check the SEG "+
				"against: none of its %d referenced instances is among the %d source "+
				"instances found", s, n, c.sources.Len())
		}
		// Instances whose series nobody names and which are not present.
		for _, uid := range c.refs.instances {
			if c.refs.instanceSeries[uid] == "" && c.sources.Instance(uid) == nil {
				c.addf(r, 0, c.refs.firstFrame[uid], "referenced source image %s must be "+
					"available to check the SEG against: it is not among the sources and no "+
					"Referenced Series Sequence item names its series", uid)
			}
		}
	},
}

var ruleInstanceMissing = &rule{
	RuleInfo: RuleInfo{
		ID:              "references.instance_missing",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.12.2",
		Summary:         "every referenced instance of a source series that is present is found",
	},
	check: func(c *checkContext, r *rule) {
		for _, uid := range c.refs.instances {
			series := c.refs.instanceSeries[uid]
			if c.sources.Instance(uid) != nil || series == "" || !c.sources.HasSeries(series) {
				continue
			}
			c.addf(r, 0, c.refs.firstFrame[uid], "referenced source image %s must be among the "+
				"sources: its series %s is there with %d instances, but not this one",
				uid, series, len(c.sources.Series(series)))
		}
	},
}

var ruleFrameNumber = &rule{
	RuleInfo: RuleInfo{
		ID:              "references.frame_number",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.16.2.6, Table 10-3",
		Summary:         "a Referenced Frame Number names a frame the source image has",
	},
	check: func(c *checkContext, r *rule) {
		for _, f := range c.seg.Frames {
			for _, ref := range f.SourceImages {
				inst := c.sources.Instance(ref.SOPInstanceUID)
				if inst == nil {
					continue
				}
				for _, n := range ref.ReferencedFrameNumber {
					if n < 1 || n > inst.NumberOfFrames {
						c.addf(r, int(f.SegmentNumber), f.Number, "Referenced Frame "+
							"Number (0008,1160) must lie in 1..%d, the frames of source "+
							"image %s: found %d", inst.NumberOfFrames, inst.SOPInstanceUID, n)
					}
				}
			}
		}
	},
}

var ruleSeriesListed = &rule{
	RuleInfo: RuleInfo{
		ID:              "references.series_listed",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.12.2",
		Summary: "every source image the frames reference is listed in the " +
			"Referenced Series Sequence",
	},
	check: func(c *checkContext, r *rule) {
		if len(c.seg.ReferencedSeries) == 0 {
			if len(c.refs.instances) > 0 {
				c.addf(r, 0, 0, "the Referenced Series Sequence (0008,1115) must list the %d "+
					"source images the SEG references: it is absent or empty",
					len(c.refs.instances))
			}
			return
		}
		for _, uid := range c.refs.instances {
			if c.refs.listedInstances[uid] {
				continue
			}
			c.addf(r, 0, c.refs.firstFrame[uid], "source image %s is referenced but not listed "+
				"in the Referenced Series Sequence (0008,1115)", uid)
		}
	},
}

var ruleStudy = &rule{
	RuleInfo: RuleInfo{
		ID:              "references.study",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.12.2, C.7.2.1",
		Summary:         "the SEG is in the study of its source images",
	},
	check: func(c *checkContext, r *rule) {
		seen := make(map[string]bool)
		for _, inst := range c.sourceInstances() {
			s := inst.StudyInstanceUID
			if s == "" || s == c.seg.StudyInstanceUID || seen[s] {
				continue
			}
			seen[s] = true
			c.addf(r, 0, 0, "a SEG must be in the study of its source images: its Study "+
				"Instance UID is %q, source series %s is in study %s",
				c.seg.StudyInstanceUID, inst.SeriesInstanceUID, s)
		}
	},
}

// describeFrameRef names a source frame in messages.
func describeFrameRef(ref sourceRef) string {
	if ref.inst.NumberOfFrames > 1 {
		return fmt.Sprintf("frame %d of source image %s", ref.frame.Number, ref.inst.SOPInstanceUID)
	}
	return "source image " + ref.inst.SOPInstanceUID
}
