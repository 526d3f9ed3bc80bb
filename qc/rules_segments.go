package qc

var ruleSegmentsEmpty = &rule{
	RuleInfo: RuleInfo{
		ID:              "segments.empty",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2",
		Summary: "every described segment has at least one pixel (a LABELMAP's background " +
			"segment 0 excepted)",
	},
	check: func(c *checkContext, r *rule) {
		if c.stats.unavailable || len(c.stats.decodeErrs) > 0 {
			return
		}
		labelmap := c.seg.SegmentationType == SegmentationTypeLabelmap
		for _, d := range c.seg.Segments {
			if labelmap && d.SegmentNumber == 0 {
				continue
			}
			if c.stats.voxels[d.SegmentNumber] > 0 {
				continue
			}
			c.addf(r, int(d.SegmentNumber), 0, "a described segment should hold at least one "+
				"pixel: segment %d (%q) has none in its %d frames",
				d.SegmentNumber, d.SegmentLabel, c.stats.frames[d.SegmentNumber])
		}
	},
}

// decoderRules describe the rules whose findings the decoder reports in
// [Segmentation.Problems]; the engine passes those findings on and a profile
// may override them like any rule.
var decoderRules = []RuleInfo{
	{
		ID:              decodeRuleTransferSyntax,
		DefaultSeverity: SeverityError,
		Reference:       "PS3.5 8.2, PS3.18 10.5.3",
		Summary: "the pixel data is in a transfer syntax qc decodes; a rejection for this " +
			"carries Failure Reason C122",
		FromDecoder: true,
	},
	{
		ID:              decodeRulePixelData,
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.3, C.8.20.2",
		Summary: "Pixel Data is present and its bits, samples, rows and columns describe " +
			"frames that can be decoded",
		FromDecoder: true,
	},
	{
		ID:              decodeRulePixelDataLength,
		DefaultSeverity: SeverityError,
		Reference:       "PS3.5 8.1.1, 7.1.1",
		Summary: "native Pixel Data is exactly as long as rows, columns, frames and bits " +
			"need, rounded up to even; 1-bit frames padded one by one are an error",
		FromDecoder: true,
	},
	{
		ID:              decodeRuleEncapsulation,
		DefaultSeverity: SeverityError,
		Reference:       "PS3.5 A.4, 8.2",
		Summary: "Pixel Data is encapsulated exactly when the transfer syntax says so, " +
			"with its frames in fragments as PS3.5 A.4 lays out",
		FromDecoder: true,
	},
	{
		ID:              decodeRuleFunctionalGroups,
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.16, C.7.6.17.3",
		Summary: "the Per-frame Functional Groups Sequence has one item per frame, and a " +
			"TILED_FULL SEG has as many frames as its tiling needs",
		FromDecoder: true,
	},
}
