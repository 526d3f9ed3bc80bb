package gateway

import (
	"bytes"
	"container/list"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
)

// metadataCache keeps the source geometry of series fetched from the
// upstream, by Series Instance UID, bounded in entries (least recently
// used out first) and in age. It is safe for concurrent use.
type metadataCache struct {
	mu      sync.Mutex
	size    int
	ttl     time.Duration
	now     func() time.Time
	order   *list.List // of *cacheEntry, most recently used first
	entries map[string]*list.Element
}

// cacheEntry is one cached series.
type cacheEntry struct {
	series  string
	sources []*qc.SourceInstance
	expires time.Time
}

// newMetadataCache returns a cache of at most size series, each kept for
// ttl (0: no age limit). A size of 0 caches nothing.
func newMetadataCache(size int, ttl time.Duration, now func() time.Time) *metadataCache {
	return &metadataCache{size: size, ttl: ttl, now: now, order: list.New(),
		entries: make(map[string]*list.Element)}
}

// get returns the sources of series and whether they were cached and
// fresh.
func (mc *metadataCache) get(series string) ([]*qc.SourceInstance, bool) {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	el, ok := mc.entries[series]
	if !ok {
		return nil, false
	}
	e := el.Value.(*cacheEntry)
	if mc.ttl > 0 && !mc.now().Before(e.expires) {
		mc.order.Remove(el)
		delete(mc.entries, series)
		return nil, false
	}
	mc.order.MoveToFront(el)
	return e.sources, true
}

// put stores the sources of series, evicting the least recently used
// series beyond the size.
func (mc *metadataCache) put(series string, sources []*qc.SourceInstance) {
	if mc.size <= 0 {
		return
	}
	mc.mu.Lock()
	defer mc.mu.Unlock()
	e := &cacheEntry{series: series, sources: sources, expires: mc.now().Add(mc.ttl)}
	if el, ok := mc.entries[series]; ok {
		el.Value = e
		mc.order.MoveToFront(el)
		return
	}
	mc.entries[series] = mc.order.PushFront(e)
	for mc.order.Len() > mc.size {
		last := mc.order.Back()
		mc.order.Remove(last)
		delete(mc.entries, last.Value.(*cacheEntry).series)
	}
}

// len returns the number of cached series.
func (mc *metadataCache) len() int {
	mc.mu.Lock()
	defer mc.mu.Unlock()
	return mc.order.Len()
}

// seriesFetcher fetches WADO-RS series metadata; [*dicomweb.Client] is one.
type seriesFetcher interface {
	SeriesMetadata(ctx context.Context, study, series string) ([]dicomweb.Dataset, error)
	FindSeriesStudy(ctx context.Context, series string) (string, error)
}

// resolveSources returns the source set of seg: the instances of its
// referenced series met in the same request (inRequest), then those the
// cache or the upstream knows. A series found nowhere is left out: the
// engine reports it as a missing source. The error is only for an upstream
// that failed (unreachable, timeout, or an unexpected answer) and says
// which series could not be looked up; the set is still usable.
func (s *Server) resolveSources(ctx context.Context, seg *qc.Segmentation,
	inRequest *qc.SourceSet) (*qc.SourceSet, error) {
	set := qc.NewSourceSet()
	var errs []error
	for _, ref := range seg.ReferencedSeries {
		series := ref.SeriesInstanceUID
		if series == "" {
			continue
		}
		for _, inst := range inRequest.Series(series) {
			set.Add(inst)
		}
		if inRequest.HasSeries(series) && coversInstances(set.Series(series), ref.Instances) {
			continue
		}
		// Instances not in the request may have been stored before.
		found, err := s.fetchSeries(ctx, s.client, seg.StudyInstanceUID, ref)
		if err != nil {
			errs = append(errs, err)
		}
		for _, inst := range found {
			set.Add(inst)
		}
	}
	return set, errors.Join(errs...)
}

// fetchSeries returns the source geometry of a referenced series from the
// cache or from the upstream's WADO-RS metadata. A cached series that lacks
// a referenced instance is fetched again, since instances may have arrived
// since. A series the upstream does not have gives no sources and no
// error. A series of another study than the SEG's is looked up by QIDO-RS.
func (s *Server) fetchSeries(ctx context.Context, f seriesFetcher, study string,
	ref qc.ReferencedSeries) ([]*qc.SourceInstance, error) {
	series := ref.SeriesInstanceUID
	if cached, ok := s.sources.get(series); ok && coversInstances(cached, ref.Instances) {
		return cached, nil
	}
	md, err := f.SeriesMetadata(ctx, study, series)
	if errors.Is(err, dicomweb.ErrNotFound) {
		other, ferr := f.FindSeriesStudy(ctx, series)
		switch {
		case errors.Is(ferr, dicomweb.ErrNotFound) || (ferr == nil && other == ""):
			return nil, nil
		case ferr != nil:
			return nil, fmt.Errorf("looking up the study of a source series: %w", ferr)
		case other == study:
			return nil, nil
		}
		md, err = f.SeriesMetadata(ctx, other, series)
		if errors.Is(err, dicomweb.ErrNotFound) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("fetching source series metadata: %w", err)
	}

	// qc reads geometry from DICOM JSON; the datasets go back to their
	// JSON form for it.
	b, err := json.Marshal(md)
	if err != nil {
		return nil, fmt.Errorf("encoding source series metadata: %w", err)
	}
	found, err := qc.SourcesFromMetadata(bytes.NewReader(b))
	if len(found) == 0 && err != nil {
		return nil, fmt.Errorf("reading source series metadata: %w", err)
	}
	// Instances whose geometry could not be read are left out; the engine
	// reports the references it cannot place.
	s.sources.put(series, found)
	return found, nil
}

// coversInstances reports whether every referenced instance is among
// sources.
func coversInstances(sources []*qc.SourceInstance, refs []qc.ImageReference) bool {
	have := make(map[string]bool, len(sources))
	for _, inst := range sources {
		have[inst.SOPInstanceUID] = true
	}
	for _, r := range refs {
		if !have[r.SOPInstanceUID] {
			return false
		}
	}
	return true
}
