package gateway

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
)

func TestMetadataCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	c := newMetadataCache(2, time.Minute, clock)
	src := func(uid string) []*qc.SourceInstance {
		return []*qc.SourceInstance{{SOPInstanceUID: uid}}
	}
	has := func(series string) bool {
		_, ok := c.get(series)
		return ok
	}

	c.put("A", src("a"))
	c.put("B", src("b"))
	has("A") // A is now the most recently used
	c.put("C", src("c"))
	if got := []bool{has("A"), has("B"), has("C")}; !cmp.Equal(got, []bool{true, false, true}) {
		t.Errorf("after evicting one of 2: A,B,C cached = %v, want true,false,true", got)
	}

	now = now.Add(61 * time.Second)
	if has("A") || c.len() != 1 {
		t.Errorf("an entry older than the TTL is still served (len %d)", c.len())
	}

	off := newMetadataCache(0, time.Minute, clock)
	off.put("A", src("a"))
	if _, ok := off.get("A"); ok {
		t.Errorf("a cache of size 0 keeps entries")
	}
}

// fakeFetcher serves series metadata from a map and counts the calls.
type fakeFetcher struct {
	// series maps "study/series" to datasets.
	series map[string][]dicomweb.Dataset
	// studyOf maps a series to its study for FindSeriesStudy.
	studyOf map[string]string
	err     error
	calls   int
}

func (f *fakeFetcher) SeriesMetadata(_ context.Context, study, series string) (
	[]dicomweb.Dataset, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	md, ok := f.series[study+"/"+series]
	if !ok {
		return nil, &dicomweb.StatusError{Status: 404}
	}
	return md, nil
}

func (f *fakeFetcher) FindSeriesStudy(_ context.Context, series string) (string, error) {
	if s, ok := f.studyOf[series]; ok {
		return s, nil
	}
	return "", dicomweb.ErrNotFound
}

func TestFetchSeries(t *testing.T) {
	raw, err := os.ReadFile("testdata/orthanc-liver-ct-metadata.json")
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	md, err := dicomweb.DecodeDatasets(bytesReader(raw))
	if err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	ref := qc.ReferencedSeries{SeriesInstanceUID: liverCTSeries,
		Instances: []qc.ImageReference{{SOPInstanceUID: liverCT1}, {SOPInstanceUID: liverCT3}}}

	tests := []struct {
		name      string
		study     string
		f         *fakeFetcher
		wantUIDs  []string
		wantCalls int
		wantErr   error
	}{
		{"same study", liverStudy, &fakeFetcher{series: map[string][]dicomweb.Dataset{
			liverStudy + "/" + liverCTSeries: md}},
			[]string{liverCT1, liverCT2, liverCT3}, 1, nil},
		{"other study", "9.9", &fakeFetcher{series: map[string][]dicomweb.Dataset{
			liverStudy + "/" + liverCTSeries: md},
			studyOf: map[string]string{liverCTSeries: liverStudy}},
			[]string{liverCT1, liverCT2, liverCT3}, 2, nil},
		{"nowhere", liverStudy, &fakeFetcher{}, nil, 1, nil},
		{"upstream down", liverStudy, &fakeFetcher{err: dicomweb.ErrUpstreamUnreachable},
			nil, 1, dicomweb.ErrUpstreamUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{sources: newMetadataCache(8, time.Minute, time.Now)}
			got, err := s.fetchSeries(context.Background(), tt.f, tt.study, ref)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("fetchSeries error = %v, want %v", err, tt.wantErr)
			}
			var uids []string
			for _, inst := range got {
				uids = append(uids, inst.SOPInstanceUID)
			}
			if diff := cmp.Diff(tt.wantUIDs, uids); diff != "" {
				t.Errorf("fetchSeries mismatch (-want +got):\n%s", diff)
			}
			if tt.f.calls != tt.wantCalls {
				t.Errorf("metadata requests = %d, want %d", tt.f.calls, tt.wantCalls)
			}

			// A second lookup of a found series is served by the cache; a
			// reference to an instance the cache lacks fetches again.
			if len(got) == 0 {
				return
			}
			calls := tt.f.calls
			s.fetchSeries(context.Background(), tt.f, tt.study, ref)
			if tt.f.calls != calls {
				t.Errorf("cached series fetched again")
			}
			missing := ref
			missing.Instances = append(missing.Instances, qc.ImageReference{SOPInstanceUID: "7.7"})
			s.fetchSeries(context.Background(), tt.f, tt.study, missing)
			if tt.f.calls == calls {
				t.Errorf("series lacking a referenced instance not fetched again")
			}
		})
	}
}

// bytesReader returns a reader of b.
func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }
