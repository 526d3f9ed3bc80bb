package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
)

// Bounds of the source pixels one check fetches for the CT air rule
// (boundary.air): at most maxPixelFrames frames, and at most maxPixelBytes
// bytes of native frames (a 512 x 512 CT slice of 16 bits is 512 KiB, so
// the byte bound is met first only by larger images). Frames are decoded
// one at a time, so memory stays at one frame; the bounds limit the time
// and the upstream traffic of one check. The frame past a bound is refused
// and the rule reports that it did not run.
const (
	maxPixelFrames = 1000
	maxPixelBytes  = 512 << 20
)

// tagSOPInstanceUID is SOP Instance UID (0008,0018) in DICOM JSON (PS3.18
// F.2).
const tagSOPInstanceUID = "00080018"

// Reasons a source frame is not read; their text ends in the QC report.
var (
	// errSourceInRequest: the source came in the STOW-RS request of the
	// SEG, whose upstream request is still open when SEGs are checked.
	errSourceInRequest = errors.New("sent in the same request: not yet in the archive")
	// errPixelBudget: the check has read as many frames or bytes as one
	// check may.
	errPixelBudget = errors.New("over the source pixel bound of one check")
	// errNoPixelMetadata: the series metadata does not list the instance.
	errNoPixelMetadata = errors.New("no metadata for the instance")
)

// wadoPixels gives the qc engine the pixel values of source frames,
// fetched from the upstream by WADO-RS when the engine asks, which it does
// only when a pixel rule (boundary.air) is on: the series metadata once per
// series (PS3.18 10.4.1.1.2) for the pixel layout and the modality rescale,
// then each frame as native Explicit VR Little Endian bytes (PS3.18
// 10.4.1.1.3). One value serves one check; it is safe for concurrent use.
//
// Limits: sources sent in the same STOW-RS request as the SEG are not read
// (the upstream request that stores them is still open when the SEG is
// checked, and an archive that stores parts as they stream would make the
// outcome depend on timing), so the rule does not run for such a SEG; send
// the images first. A source the upstream cannot give as native pixels
// (compressed and not transcoded, colour), or a check past the bounds of
// maxPixelFrames and maxPixelBytes, makes the rule skip too.
type wadoPixels struct {
	s *Server
	// sent are the sources of the STOW-RS request being served; nil when
	// none.
	sent *qc.SourceSet

	mu sync.Mutex
	// series holds the metadata of each series fetched, by SOP Instance
	// UID, keyed by Series Instance UID; a failed fetch keeps its error.
	series map[string]seriesPixelMetadata
	frames int
	bytes  int64
}

// seriesPixelMetadata is one series' metadata by SOP Instance UID, or the
// error fetching it.
type seriesPixelMetadata struct {
	byInstance map[string]dicomweb.Dataset
	err        error
}

// newWADOPixels returns the pixel source of one check; sent are the
// sources that came in the same request, nil when none.
func (s *Server) newWADOPixels(sent *qc.SourceSet) *wadoPixels {
	return &wadoPixels{s: s, sent: sent, series: map[string]seriesPixelMetadata{}}
}

// FrameValues implements [qc.SourcePixels].
func (p *wadoPixels) FrameValues(ctx context.Context, inst *qc.SourceInstance,
	frame int) ([]float64, error) {
	values, err := p.frameValues(ctx, inst, frame)
	if err != nil {
		return nil, fmt.Errorf("source %s frame %d: %w", inst.SOPInstanceUID, frame,
			safeUpstreamError(err))
	}
	return values, nil
}

// frameValues fetches and decodes one frame within the bounds.
func (p *wadoPixels) frameValues(ctx context.Context, inst *qc.SourceInstance,
	frame int) ([]float64, error) {
	if p.sent != nil && p.sent.Instance(inst.SOPInstanceUID) != nil {
		return nil, errSourceInRequest
	}
	for _, uid := range []string{inst.StudyInstanceUID, inst.SeriesInstanceUID,
		inst.SOPInstanceUID} {
		if !isUID(uid) {
			return nil, fmt.Errorf("%w: a UID of the source is malformed",
				dicomweb.ErrInvalidUID)
		}
	}
	meta, err := p.instanceMetadata(ctx, inst)
	if err != nil {
		return nil, err
	}
	layout, err := layoutOf(meta, frame)
	if err != nil {
		return nil, err
	}
	if err := p.spend(layout.frameBytes()); err != nil {
		return nil, err
	}

	// The upstream client's own timeout does not cover Do; the STOW-RS
	// check runs without the client's cancellation, so bound each frame.
	if t := p.s.cfg.UpstreamTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	loc := sourceLocation{Study: inst.StudyInstanceUID, Series: inst.SeriesInstanceUID,
		Instance: inst.SOPInstanceUID, Frame: frame}
	f, err := p.s.nativeFrame(ctx, loc, layout)
	if err != nil {
		return nil, err
	}
	return f.Values, nil
}

// spend counts one frame of n bytes against the bounds of the check.
func (p *wadoPixels) spend(n int) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frames+1 > maxPixelFrames || p.bytes+int64(n) > maxPixelBytes {
		return fmt.Errorf("%w (%d frames, %d MiB)", errPixelBudget, maxPixelFrames,
			maxPixelBytes>>20)
	}
	p.frames++
	p.bytes += int64(n)
	return nil
}

// instanceMetadata returns the metadata of inst from its series' WADO-RS
// metadata, fetched once per series for the check.
func (p *wadoPixels) instanceMetadata(ctx context.Context, inst *qc.SourceInstance) (
	dicomweb.Dataset, error) {
	p.mu.Lock()
	sm, ok := p.series[inst.SeriesInstanceUID]
	p.mu.Unlock()
	if !ok {
		sm = p.fetchSeries(ctx, inst.StudyInstanceUID, inst.SeriesInstanceUID)
		p.mu.Lock()
		p.series[inst.SeriesInstanceUID] = sm
		p.mu.Unlock()
	}
	if sm.err != nil {
		return nil, sm.err
	}
	meta, ok := sm.byInstance[inst.SOPInstanceUID]
	if !ok {
		return nil, errNoPixelMetadata
	}
	return meta, nil
}

// fetchSeries reads a series' metadata and indexes it by SOP Instance UID.
func (p *wadoPixels) fetchSeries(ctx context.Context, study, series string) seriesPixelMetadata {
	dss, err := p.s.client.SeriesMetadata(ctx, study, series)
	if err != nil {
		return seriesPixelMetadata{err: fmt.Errorf("fetching series metadata: %w", err)}
	}
	by := make(map[string]dicomweb.Dataset, len(dss))
	for _, ds := range dss {
		if uid := ds.String(tagSOPInstanceUID); uid != "" {
			by[uid] = ds
		}
	}
	return seriesPixelMetadata{byInstance: by}
}

// safeUpstreamError drops the cause of a transport error, whose text names
// the upstream's URL, keeping its class: the text ends in a QC report.
func safeUpstreamError(err error) error {
	switch {
	case errors.Is(err, dicomweb.ErrUpstreamTimeout):
		return dicomweb.ErrUpstreamTimeout
	case errors.Is(err, dicomweb.ErrUpstreamUnreachable):
		return dicomweb.ErrUpstreamUnreachable
	case errors.Is(err, context.DeadlineExceeded):
		return context.DeadlineExceeded
	}
	return err
}

var _ qc.SourcePixels = (*wadoPixels)(nil)
