package gateway

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
)

// Transfer syntaxes whose frames are native little-endian pixels (PS3.5
// A.1, A.2): the only ones the gateway renders.
const (
	uidImplicitVRLittleEndian = "1.2.840.10008.1.2"
	uidExplicitVRLittleEndian = "1.2.840.10008.1.2.1"
)

// frameAccept asks WADO-RS for one frame as native Explicit VR Little
// Endian bytes (PS3.18 8.7.3.3.2): Orthanc answers frame requests only
// with this multipart form, and transcodes a compressed source when it can.
const frameAccept = `multipart/related; type="application/octet-stream"; ` +
	`transfer-syntax=` + uidExplicitVRLittleEndian

// maxMetadataBytes bounds the WADO-RS metadata of one source instance. An
// enhanced multi-frame instance with thousands of per-frame items is
// refused rather than read.
const maxMetadataBytes = 16 << 20

// DICOM JSON tags (PS3.18 F.2) of the attributes a picture needs.
const (
	tagModality                  = "00080060"
	tagSamplesPerPixel           = "00280002"
	tagPhotometricInterpretation = "00280004"
	tagRows                      = "00280010"
	tagColumns                   = "00280011"
	tagBitsAllocated             = "00280100"
	tagBitsStored                = "00280101"
	tagPixelRepresentation       = "00280103"
	tagWindowCenter              = "00281050"
	tagWindowWidth               = "00281051"
	tagRescaleIntercept          = "00281052"
	tagRescaleSlope              = "00281053"
	tagFrameVOILUTSequence       = "00289132"
	tagPixelValueTransformation  = "00289145"
	tagSharedFunctionalGroups    = "52009229"
	tagPerFrameFunctionalGroups  = "52009230"
)

// serveSEGFrame answers GET /qc/seg/{uid}/frames/{n}.png: SEG frame n's
// source image, windowed, with the outline of every segment on that slice
// drawn over it in the segment's colour. The SEG is read from the archive
// by WADO-URI, the source frame by WADO-RS; a source the gateway cannot
// draw (compressed and not transcoded by the archive, colour, over 8192
// pixels on a side) gets 422, which the page's alternative text covers.
func (s *Server) serveSEGFrame(c *gin.Context) error {
	ctx := c.Request.Context()
	uid := c.Param("uid")
	n, ok := pngFrameNumber(c.Param("file"))
	if !isUID(uid) || !ok {
		return httpError(http.StatusNotFound, "not found", nil)
	}
	r, err := s.store.Latest(ctx, uid)
	if err != nil {
		return fmt.Errorf("reading report: %w", err)
	}
	if !r.Stored || !isUID(r.Report.StudyInstanceUID) ||
		!isUID(r.Report.SeriesInstanceUID) {
		return httpError(http.StatusNotFound, "the SEG is not in the archive", nil)
	}
	seg, err := s.readStoredSEG(ctx, r.Report)
	if err != nil {
		return err
	}
	if n > len(seg.Frames) {
		return httpError(http.StatusNotFound, "the SEG has no such frame", nil)
	}

	img, err := s.framePicture(ctx, seg, n)
	if errors.Is(err, errUnrenderable) {
		return httpError(http.StatusUnprocessableEntity,
			"the source frame cannot be rendered", err)
	}
	if errors.Is(err, dicomweb.ErrNotFound) {
		return httpError(http.StatusNotFound, "the source frame is not in the archive", err)
	}
	if err != nil {
		return err
	}
	b, err := encodePNG(img)
	if err != nil {
		return err
	}
	// The picture shows patient pixels: it may stay in the user's own
	// cache, never in a shared one.
	c.Header("Cache-Control", "private, max-age=300")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "image/png", b)
	return nil
}

// pngFrameNumber parses "n.png", n a positive frame number.
func pngFrameNumber(file string) (int, bool) {
	num, ok := strings.CutSuffix(file, ".png")
	if !ok || num == "" || len(num) > 7 || num[0] == '0' {
		return 0, false
	}
	n, err := strconv.Atoi(num)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// framePicture draws SEG frame n (1-based) over its source frame, with the
// outlines of every segment on the frames of the same slice.
func (s *Server) framePicture(ctx context.Context, seg *qc.Segmentation, n int) (
	*image.RGBA, error) {
	ref, frameNo, err := frameSource(seg, n)
	if err != nil {
		return nil, err
	}
	series := refSeries(seg, ref.SOPInstanceUID)
	if series == "" {
		return nil, fmt.Errorf("%w: no Referenced Series names source %s", errUnrenderable,
			ref.SOPInstanceUID)
	}
	loc := sourceLocation{Study: seg.StudyInstanceUID, Series: series,
		Instance: ref.SOPInstanceUID, Frame: frameNo}
	meta, err := s.sourceMetadata(ctx, loc)
	if err != nil {
		return nil, err
	}
	layout, err := layoutOf(meta, frameNo)
	if err != nil {
		return nil, err
	}
	if layout.Rows != seg.Rows || layout.Columns != seg.Columns {
		return nil, fmt.Errorf("%w: SEG of %d x %d over a source of %d x %d",
			errUnrenderable, seg.Rows, seg.Columns, layout.Rows, layout.Columns)
	}
	f, err := s.nativeFrame(ctx, loc, layout)
	if err != nil {
		return nil, err
	}
	outlines, err := sliceOutlines(seg, n)
	if err != nil {
		return nil, err
	}
	return renderOutlines(f, windowOf(meta, frameNo, f), outlines)
}

// frameSource returns the source image of SEG frame n and the source's
// 1-based frame number: the frame's own Source Image Sequence (PS3.3
// C.7.6.16.2.6), else the SEG's only top-level source image.
func frameSource(seg *qc.Segmentation, n int) (qc.ImageReference, int, error) {
	refs := seg.Frames[n-1].SourceImages
	if len(refs) == 0 && len(seg.SourceImages) == 1 {
		refs = seg.SourceImages
	}
	if len(refs) == 0 {
		return qc.ImageReference{}, 0, fmt.Errorf("%w: frame %d names no source image",
			errUnrenderable, n)
	}
	ref := refs[0]
	if !isUID(ref.SOPInstanceUID) {
		return qc.ImageReference{}, 0, fmt.Errorf("%w: source of frame %d is not a UID",
			errUnrenderable, n)
	}
	frameNo := 1
	if len(ref.ReferencedFrameNumber) > 0 && ref.ReferencedFrameNumber[0] > 0 {
		frameNo = ref.ReferencedFrameNumber[0]
	}
	return ref, frameNo, nil
}

// refSeries returns the series of source instance sop from the SEG's
// Referenced Series Sequence (PS3.3 C.8.20.2.2), or "".
func refSeries(seg *qc.Segmentation, sop string) string {
	for _, rs := range seg.ReferencedSeries {
		for _, in := range rs.Instances {
			if in.SOPInstanceUID == sop && isUID(rs.SeriesInstanceUID) {
				return rs.SeriesInstanceUID
			}
		}
	}
	return ""
}

// sliceOutlines returns the outlines of every segment on the frames at the
// position of SEG frame n (one frame per segment in a BINARY SEG, one for
// all in a LABELMAP), each in its segment's colour.
func sliceOutlines(seg *qc.Segmentation, n int) ([]outline, error) {
	pos := framePosition(seg.Frames[n-1], n-1)
	var out []outline
	for i, f := range seg.Frames {
		if math.Abs(framePosition(f, i)-pos) >= 1e-3 {
			continue
		}
		for _, sd := range seg.Segments {
			num := sd.SegmentNumber
			if num == 0 || (f.SegmentNumber != 0 && f.SegmentNumber != num) {
				continue
			}
			m := qc.NewMask(seg.Rows, seg.Columns)
			if err := seg.FrameMask(i, num, m); err != nil {
				return nil, fmt.Errorf("decoding SEG frame %d: %w", i+1, err)
			}
			if !m.Empty() {
				out = append(out, outline{Mask: m, Color: segmentColor(sd)})
			}
		}
	}
	return out, nil
}

// sourceLocation names one frame of a source instance.
type sourceLocation struct {
	Study, Series, Instance string
	// Frame is 1-based.
	Frame int
}

// instanceURL returns the WADO-RS URL of the instance under base.
func (l sourceLocation) instanceURL(base *url.URL) string {
	return base.JoinPath("studies", l.Study, "series", l.Series, "instances",
		l.Instance).String()
}

// sourceMetadata fetches the WADO-RS metadata of the source instance
// (PS3.18 10.4.1.1.2).
func (s *Server) sourceMetadata(ctx context.Context, l sourceLocation) (dicomweb.Dataset,
	error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		l.instanceURL(s.client.Base)+"/metadata", nil)
	if err != nil {
		return nil, fmt.Errorf("building metadata request: %w", err)
	}
	req.Header.Set("Accept", "application/dicom+json")
	res, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching source metadata: %w", err)
	}
	defer res.Body.Close()
	if err := upstreamStatus(res, "fetching source metadata"); err != nil {
		return nil, err
	}
	dss, err := dicomweb.DecodeDatasets(io.LimitReader(res.Body, maxMetadataBytes))
	if err != nil {
		return nil, fmt.Errorf("decoding source metadata: %w", err)
	}
	if len(dss) != 1 {
		return nil, fmt.Errorf("source metadata: %d data sets, want 1: %w", len(dss),
			dicomweb.ErrNotFound)
	}
	return dss[0], nil
}

// upstreamStatus turns an upstream answer other than 200 into an error;
// 404 matches [dicomweb.ErrNotFound].
func upstreamStatus(res *http.Response, what string) error {
	switch res.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusNotFound:
		return fmt.Errorf("%s: upstream answered 404: %w", what, dicomweb.ErrNotFound)
	case http.StatusNotAcceptable:
		// The archive cannot give the frame as native pixels.
		return fmt.Errorf("%w: %s: upstream answered 406", errUnrenderable, what)
	}
	return fmt.Errorf("%s: upstream answered %d", what, res.StatusCode)
}

// sourceFrameBytes fetches one frame of the source by WADO-RS (PS3.18
// 10.4.1.1.3) as native bytes and returns the single part's content,
// which must be exactly want bytes long.
func (s *Server) sourceFrameBytes(ctx context.Context, l sourceLocation, want int) (
	[]byte, error) {
	u := l.instanceURL(s.client.Base) + "/frames/" + strconv.Itoa(l.Frame)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("building frame request: %w", err)
	}
	req.Header.Set("Accept", frameAccept)
	res, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching source frame: %w", err)
	}
	defer res.Body.Close()
	if err := upstreamStatus(res, "fetching source frame"); err != nil {
		return nil, err
	}
	mt, err := dicomweb.ParseMediaType(res.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("%w: frame answer: %w", errUnrenderable, err)
	}
	pr := dicomweb.NewPartReader(res.Body, mt.Boundary, dicomweb.PartLimits{MaxParts: 1})
	part, err := pr.Next()
	if err != nil {
		return nil, fmt.Errorf("reading frame answer: %w", err)
	}
	if err := checkNativePart(part); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(part.Body, int64(want)+1))
	if err != nil {
		return nil, fmt.Errorf("reading source frame: %w", err)
	}
	if len(b) != want {
		// A compressed frame sent despite the Accept: refused, not
		// misread as pixels.
		return nil, fmt.Errorf("%w: frame of %d bytes, want %d native bytes",
			errUnrenderable, len(b), want)
	}
	return b, nil
}

// nativeFrame fetches one native frame of the source by WADO-RS and
// decodes it with layout: the values after the modality rescale. The SEG
// page's pictures and the QC air rule's [wadoPixels] read frames with it.
func (s *Server) nativeFrame(ctx context.Context, l sourceLocation, layout pixelLayout) (
	*sourceFrame, error) {
	raw, err := s.sourceFrameBytes(ctx, l, layout.frameBytes())
	if err != nil {
		return nil, err
	}
	return decodeNativeFrame(raw, layout)
}

// checkNativePart refuses a frame part whose type or transfer syntax says
// it is not native pixels.
func checkNativePart(p *dicomweb.Part) error {
	if p.Type != "" && p.Type != "application/octet-stream" {
		return fmt.Errorf("%w: frame part of type %s", errUnrenderable, p.Type)
	}
	_, params, _ := strings.Cut(p.ContentType, ";")
	for param := range strings.SplitSeq(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(param), "=")
		if !strings.EqualFold(k, "transfer-syntax") {
			continue
		}
		v = strings.Trim(v, `"`)
		if v != uidExplicitVRLittleEndian && v != uidImplicitVRLittleEndian {
			return fmt.Errorf("%w: frame in transfer syntax %s", errUnrenderable, v)
		}
	}
	return nil
}

// frameGroupValue returns the first value of attribute tag of sequence seq
// in the per-frame functional group of frame (1-based), else in the shared
// group (PS3.3 C.7.6.16), else at the top level.
func frameGroupValue(meta dicomweb.Dataset, frame int, seq, tag string) []float64 {
	if pf := meta.Sequence(tagPerFrameFunctionalGroups); frame <= len(pf) {
		for _, it := range pf[frame-1].Sequence(seq) {
			if v := it.Float64s(tag); len(v) > 0 {
				return v
			}
		}
	}
	for _, sh := range meta.Sequence(tagSharedFunctionalGroups) {
		for _, it := range sh.Sequence(seq) {
			if v := it.Float64s(tag); len(v) > 0 {
				return v
			}
		}
	}
	return meta.Float64s(tag)
}

// layoutOf reads the Image Pixel module (PS3.3 C.7.6.3) and the modality
// rescale of frame (1-based) from the source metadata. It refuses colour
// and multi-sample images.
func layoutOf(meta dicomweb.Dataset, frame int) (pixelLayout, error) {
	num := func(tag string) int {
		v, _ := meta.Int(tag)
		return v
	}
	if spp, ok := meta.Int(tagSamplesPerPixel); ok && spp != 1 {
		return pixelLayout{}, fmt.Errorf("%w: %d samples per pixel", errUnrenderable, spp)
	}
	pi := strings.TrimSpace(meta.String(tagPhotometricInterpretation))
	if pi != "" && pi != "MONOCHROME1" && pi != "MONOCHROME2" {
		return pixelLayout{}, fmt.Errorf("%w: Photometric Interpretation %s",
			errUnrenderable, pi)
	}
	l := pixelLayout{Rows: num(tagRows), Columns: num(tagColumns),
		BitsAllocated: num(tagBitsAllocated), BitsStored: num(tagBitsStored),
		Signed: num(tagPixelRepresentation) == 1, Monochrome1: pi == "MONOCHROME1"}
	if l.BitsStored == 0 {
		l.BitsStored = l.BitsAllocated
	}
	if v := frameGroupValue(meta, frame, tagPixelValueTransformation,
		tagRescaleSlope); len(v) > 0 {
		l.Slope = v[0]
	}
	if v := frameGroupValue(meta, frame, tagPixelValueTransformation,
		tagRescaleIntercept); len(v) > 0 {
		l.Intercept = v[0]
	}
	return l, l.check()
}

// windowOf returns the window of frame: the source's first Window Center
// and Width (PS3.3 C.11.2), else for CT the abdomen window, else the
// frame's value range.
func windowOf(meta dicomweb.Dataset, frame int, f *sourceFrame) voiWindow {
	c := frameGroupValue(meta, frame, tagFrameVOILUTSequence, tagWindowCenter)
	w := frameGroupValue(meta, frame, tagFrameVOILUTSequence, tagWindowWidth)
	if len(c) > 0 && len(w) > 0 && w[0] >= 1 {
		return voiWindow{Center: c[0], Width: w[0]}
	}
	if strings.TrimSpace(meta.String(tagModality)) == "CT" {
		return defaultCTWindow
	}
	return minMaxWindow(f)
}
