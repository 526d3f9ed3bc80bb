package gateway

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/qcgate/qcgate/qc"
)

// maxPictures bounds the pictures one SEG page shows; each costs the
// gateway a SEG read and a source frame fetch.
const maxPictures = 12

// pictureWidth is the width, in CSS pixels, a picture takes on the page.
const pictureWidth = 320

// pictureView is one slice picture on a SEG's page: the source frame of a
// SEG frame with the segments' outlines over it.
type pictureView struct {
	// Frame is the 1-based SEG frame drawn; Anchor is the id of its figure.
	Frame  int
	Anchor string
	// URL is the PNG's address on the gateway.
	URL string
	// Alt describes the picture for those who cannot see it; browsers also
	// show it in place of a picture the gateway refuses to draw.
	Alt string
	// Rules are the rules with findings on this slice.
	Rules []string
	// Width and Height are the displayed size, in CSS pixels.
	Width, Height int
}

// slicePictures chooses the pictures of a SEG's page: one per slice with
// findings that name a frame, else the middle frame of each segment; one
// per slice either way (frames of one position share a picture), at most
// maxPictures. anchors maps each frame with findings that has a picture to
// the picture's anchor, for links from the findings table; more counts the
// slices with findings left out.
func slicePictures(rep *qc.Report, sc *sliceCounts) (pics []pictureView,
	anchors map[int]string, more int) {
	anchors = map[int]string{}
	if sc == nil || len(sc.FrameSlices) == 0 {
		return nil, anchors, 0
	}
	nFrames := len(sc.FrameSlices)
	bySlice := map[int]int{} // slice index to index in pics
	add := func(frame int, rule string) {
		slice := sc.FrameSlices[frame-1]
		i, ok := bySlice[slice]
		if !ok {
			if len(pics) == maxPictures {
				more++
				return
			}
			i = len(pics)
			bySlice[slice] = i
			pics = append(pics, newPictureView(rep, sc, frame))
		}
		if rule != "" && !slices.Contains(pics[i].Rules, rule) {
			pics[i].Rules = append(pics[i].Rules, rule)
		}
		if rule != "" {
			anchors[frame] = pics[i].Anchor
		}
	}

	var frames []int
	for _, f := range rep.Findings {
		if f.Frame > 0 && f.Frame <= nFrames {
			frames = append(frames, f.Frame)
		}
	}
	slices.Sort(frames)
	frames = slices.Compact(frames)
	for _, fr := range frames {
		for _, f := range rep.Findings {
			if f.Frame == fr {
				add(fr, f.Rule)
			}
		}
	}
	if len(frames) > 0 {
		return pics, anchors, more
	}

	for _, sr := range rep.Segments {
		fs := slices.Clone(sc.Frames[uint16(sr.Number)])
		if len(fs) == 0 {
			continue
		}
		slices.Sort(fs)
		add(fs[len(fs)/2], "")
	}
	return pics, anchors, 0
}

// newPictureView describes the picture of SEG frame n.
func newPictureView(rep *qc.Report, sc *sliceCounts, frame int) pictureView {
	slice := sc.FrameSlices[frame-1]
	var labels []string
	for _, sr := range rep.Segments {
		if cs := sc.Counts[uint16(sr.Number)]; slice < len(cs) && cs[slice] > 0 {
			labels = append(labels, sr.Label)
		}
	}
	what := "no segment"
	if len(labels) > 0 {
		what = "the outline of " + strings.Join(labels, ", ")
	}
	w, h := pictureWidth, pictureWidth
	if sc.Rows > 0 && sc.Columns > 0 {
		h = max(1, pictureWidth*sc.Rows/sc.Columns)
	}
	return pictureView{Frame: frame, Anchor: "frame-" + strconv.Itoa(frame),
		URL: dashboardPath + "seg/" + rep.SOPInstanceUID + "/frames/" +
			strconv.Itoa(frame) + ".png",
		Alt: fmt.Sprintf("Source image of SEG frame %d (slice at %.1f mm) with %s drawn "+
			"over it", frame,
			sc.Positions[slice], what),
		Width: w, Height: h}
}
