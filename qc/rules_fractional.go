package qc

import (
	"fmt"
	"math/bits"
	"strings"
)

// fractionalValues returns the distinct non-zero values of a FRACTIONAL
// SEG's frames, sorted, or nil when it is not FRACTIONAL or a frame does
// not decode.
func fractionalValues(c *checkContext) []int {
	if c.seg.SegmentationType != SegmentationTypeFractional || c.stats.unavailable ||
		len(c.stats.decodeErrs) > 0 {
		return nil
	}
	var seen [1 << 16]bool
	var vals []uint16
	for i := range c.seg.Frames {
		var err error
		vals, err = c.seg.FrameValues(i, vals)
		if err != nil {
			return nil
		}
		for _, v := range vals {
			seen[v] = true
		}
	}
	var out []int
	for v := 1; v < len(seen); v++ {
		if seen[v] {
			out = append(out, v)
		}
	}
	return out
}

// formatValues writes at most twelve values.
func formatValues(v []int) string {
	var parts []string
	for i, x := range v {
		if i == 12 {
			parts = append(parts, fmt.Sprintf("... (%d values)", len(v)))
			break
		}
		parts = append(parts, fmt.Sprint(x))
	}
	return strings.Join(parts, ", ")
}

var ruleFractionalBinaryLike = &rule{
	RuleInfo: RuleInfo{
		ID:              "fractional.binary_like",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2.3",
		Summary: "a FRACTIONAL SEG holds values between 0 and the Maximum Fractional Value; " +
			"one with only 0 and the maximum is a binary mask and should be BINARY",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		vals := fractionalValues(c)
		if len(vals) == 1 && vals[0] == c.seg.MaximumFractionalValue {
			c.addf(r, 0, 0, "a FRACTIONAL SEG whose pixels are only 0 and the Maximum "+
				"Fractional Value %d is binary: use Segmentation Type BINARY (1 bit, 8 times "+
				"smaller); found the values 0 and %d only", c.seg.MaximumFractionalValue,
				vals[0])
		}
	},
}

var ruleFractionalBitField = &rule{
	RuleInfo: RuleInfo{
		ID:              "fractional.bit_field",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.8.20.2.3",
		Summary: "a FRACTIONAL SEG's values are probabilities or occupancies, not flags: " +
			"values that are all distinct powers of two look like segments packed as bits",
		Optional: true,
	},
	check: func(c *checkContext, r *rule) {
		vals := fractionalValues(c)
		if len(vals) < 2 {
			return
		}
		for _, v := range vals {
			if bits.OnesCount(uint(v)) != 1 {
				return
			}
		}
		c.addf(r, 0, 0, "FRACTIONAL values are a probability or occupancy up to %d, not "+
			"flags: every non-zero value is a power of two (%s), as if segments were packed "+
			"as bits; write one BINARY segment per flag", c.seg.MaximumFractionalValue,
			formatValues(vals))
	},
}
