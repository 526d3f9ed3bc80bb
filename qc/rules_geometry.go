package qc

import (
	"fmt"
	"math"
	"strings"
)

// formatFloats writes numbers for messages, shortest first.
func formatFloats(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.6g", x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

var ruleFrameOfReference = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.frame_of_reference",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.4.1, A.51",
		Summary: "the SEG shares the Frame of Reference of its source images, and has one " +
			"when its frames carry positions",
	},
	check: func(c *checkContext, r *rule) {
		seen := make(map[string]bool)
		for _, inst := range c.geo.forMismatch {
			if seen[inst.FrameOfReferenceUID] {
				continue
			}
			seen[inst.FrameOfReferenceUID] = true
			c.addf(r, 0, 0, "a SEG must share the Frame of Reference UID (0020,0052) of its "+
				"source images: the SEG has %s, source series %s has %s",
				c.seg.FrameOfReferenceUID, inst.SeriesInstanceUID, inst.FrameOfReferenceUID)
		}
		if c.seg.FrameOfReferenceUID != "" {
			return
		}
		for _, f := range c.seg.Frames {
			if len(f.ImagePositionPatient) > 0 {
				c.addf(r, 0, 0, "a SEG whose frames carry Plane Position (Patient) must have a "+
					"Frame of Reference UID (0020,0052): found none")
				return
			}
		}
	},
}

var ruleOrientation = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.orientation",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.16.2.4, C.7.6.2.1.1",
		Summary: "each frame's Image Orientation (Patient) equals its source images' within " +
			"the orientation tolerance",
	},
	check: func(c *checkContext, r *rule) {
		for i, fp := range c.geo.frames {
			if !fp.orientationOff {
				continue
			}
			f := c.seg.Frames[i]
			c.addf(r, int(f.SegmentNumber), f.Number, "Image Orientation (Patient) (0020,0037) "+
				"must match the source images' %s within %g: found %s",
				formatFloats(fp.want), c.tol.OrientationCosine,
				formatFloats(f.ImageOrientationPatient))
		}
	},
}

var rulePixelSpacing = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.pixel_spacing",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.16.2.1",
		Summary: "each frame's Pixel Spacing equals its source image's within the relative " +
			"spacing tolerance",
	},
	check: func(c *checkContext, r *rule) {
		for i, fp := range c.geo.frames {
			if (fp.kind != byPatient && fp.kind != byTile) || fp.orientationOff || !fp.spacingOff {
				continue
			}
			f := c.seg.Frames[i]
			c.addf(r, int(f.SegmentNumber), f.Number, "Pixel Spacing (0028,0030) must match "+
				"that of %s, %s mm, within %g relative: found %s mm",
				describeFrameRef(fp.target), formatFloats(fp.target.frame.PixelSpacing),
				c.tol.PixelSpacingRelative, formatFloats(f.PixelSpacing))
		}
	},
}

var ruleFramePosition = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.frame_position",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.16.2.3",
		Summary: "every frame lies on a source slice plane, within the position tolerance " +
			"times the slice spacing",
	},
	check: func(c *checkContext, r *rule) {
		for i, fp := range c.geo.frames {
			if fp.kind != byPatient || fp.orientationOff || fp.planeDistance <= fp.tolerance {
				continue
			}
			f := c.seg.Frames[i]
			c.addf(r, int(f.SegmentNumber), f.Number, "a frame must lie on a source slice plane "+
				"within %.3g mm: Image Position (Patient) %s lies %.3g mm from the nearest one, "+
				"that of %s", fp.tolerance, formatFloats(f.ImagePositionPatient),
				fp.planeDistance, describeFrameRef(fp.target))
		}
	},
}

var ruleSourcePlane = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.source_plane",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.16.2.6, C.7.6.16.2.3",
		Summary:         "a frame that names its source image lies on that image's plane",
	},
	check: func(c *checkContext, r *rule) {
		for i, fp := range c.geo.frames {
			if fp.kind != byPatient || fp.orientationOff || !fp.named ||
				fp.planeDistance > fp.tolerance || fp.namedDistance <= fp.tolerance {
				continue
			}
			f := c.seg.Frames[i]
			c.addf(r, int(f.SegmentNumber), f.Number, "a frame must lie on the plane of the "+
				"source image its Derivation Image Sequence names: it lies %.3g mm from the "+
				"plane of %s (tolerance %.3g mm), on the plane of another source image",
				fp.namedDistance, describeFrameRef(fp.target), fp.tolerance)
		}
	},
}

var rulePixelGrid = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.pixel_grid",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.2.1.1",
		Summary: "each frame's first pixel lies on a pixel of the source grid: a crop is " +
			"offset by whole pixels",
	},
	check: func(c *checkContext, r *rule) {
		for i, fp := range c.geo.frames {
			if fp.kind != byPatient || fp.orientationOff || fp.spacingOff || !fp.offGrid {
				continue
			}
			f := c.seg.Frames[i]
			c.addf(r, int(f.SegmentNumber), f.Number, "a frame must start on a pixel of the "+
				"source grid, offset by whole pixels within %g: it starts %.3f rows and %.3f "+
				"columns from the first pixel of %s", c.tol.PositionFraction,
				fp.rowOffset, fp.columnOffset, describeFrameRef(fp.target))
		}
	},
}

var ruleMatrixSize = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.matrix_size",
		DefaultSeverity: SeverityWarning,
		Reference:       "PS3.3 C.7.6.3, C.8.20.2",
		Summary: "the SEG's pixel matrix is the source's; a different size or offset that " +
			"still lies on the source grid is reported",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		for i, fp := range c.geo.frames {
			if fp.kind != byPatient || fp.orientationOff || fp.spacingOff || fp.offGrid {
				continue
			}
			t := fp.target.inst
			ro, co := int(math.Round(fp.rowOffset)), int(math.Round(fp.columnOffset))
			if t.Rows == seg.Rows && t.Columns == seg.Columns && ro == 0 && co == 0 {
				continue
			}
			f := seg.Frames[i]
			c.addf(r, 0, f.Number, "a SEG frame should cover its source image's pixel matrix: "+
				"it is %dx%d at row %d, column %d of the %dx%d grid of %s; it lies on that grid",
				seg.Rows, seg.Columns, ro, co, t.Rows, t.Columns, describeFrameRef(fp.target))
			// One frame tells the story; the rest of a cropped SEG is alike.
			return
		}
		if seg.TotalPixelMatrixRows == 0 {
			return
		}
		for _, fp := range c.geo.frames {
			if fp.kind != byTile || fp.target.inst == nil {
				continue
			}
			t := fp.target.inst
			if t.TotalPixelMatrixRows != seg.TotalPixelMatrixRows ||
				t.TotalPixelMatrixColumns != seg.TotalPixelMatrixColumns {
				c.addf(r, 0, 0, "a slide microscopy SEG should cover its source's total pixel "+
					"matrix: it is %dx%d, source image %s is %dx%d",
					seg.TotalPixelMatrixRows, seg.TotalPixelMatrixColumns, t.SOPInstanceUID,
					t.TotalPixelMatrixRows, t.TotalPixelMatrixColumns)
			}
			return
		}
	},
}

var ruleFramePlacement = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.frame_placement",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.7.6.16.2.6, C.7.6.16.2.3",
		Summary: "every frame can be placed on a source image: by position, by tile, or by " +
			"naming one source image with the same pixel matrix",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		for i, fp := range c.geo.frames {
			f := seg.Frames[i]
			switch fp.kind {
			case unplaced:
				c.addf(r, int(f.SegmentNumber), f.Number, "a frame must carry Plane Position "+
					"(Patient) or name one source image of its own to be placed: it has neither")
			case byReference:
				t := fp.target.inst
				if t.Rows != seg.Rows || t.Columns != seg.Columns {
					c.addf(r, int(f.SegmentNumber), f.Number, "a frame without Plane Position "+
						"(Patient) is placed as the pixel matrix of its source image, so it must "+
						"be as large: it is %dx%d, %s is %dx%d", seg.Rows, seg.Columns,
						describeFrameRef(fp.target), t.Rows, t.Columns)
				}
			}
		}
	},
}

var ruleTilePosition = &rule{
	RuleInfo: RuleInfo{
		ID:              "geometry.tile_position",
		DefaultSeverity: SeverityError,
		Reference:       "PS3.3 C.8.12.6.1, C.7.6.17.3",
		Summary: "a slide microscopy tile lies in the total pixel matrix, at the position of " +
			"the source tile it names",
	},
	check: func(c *checkContext, r *rule) {
		seg := c.seg
		for i, fp := range c.geo.frames {
			if fp.kind != byTile {
				continue
			}
			f := seg.Frames[i]
			row := f.RowPositionInTotalImagePixelMatrix
			col := f.ColumnPositionInTotalImagePixelMatrix
			total := [2]int{seg.TotalPixelMatrixRows, seg.TotalPixelMatrixColumns}
			if fp.target.inst != nil && fp.target.inst.TotalPixelMatrixRows > 0 {
				total = [2]int{fp.target.inst.TotalPixelMatrixRows,
					fp.target.inst.TotalPixelMatrixColumns}
			}
			if total[0] > 0 && (row < 1 || col < 1 || row > total[0] || col > total[1]) {
				c.addf(r, int(f.SegmentNumber), f.Number, "a tile must start within the "+
					"%dx%d total pixel matrix: it starts at row %d, column %d",
					total[0], total[1], row, col)
				continue
			}
			if fp.tileWant != [2]int{} && fp.tileWant != [2]int{row, col} {
				c.addf(r, int(f.SegmentNumber), f.Number, "a tile must lie where the source "+
					"tile it names lies, row %d, column %d of the total pixel matrix (%s): "+
					"found row %d, column %d", fp.tileWant[0], fp.tileWant[1],
					describeFrameRef(fp.target), row, col)
			}
		}
	},
}
