package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"github.com/qcgate/qcgate/dicomweb"
	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/store"
)

// projectPrefix starts the paths of a project's DICOMweb service,
// /projects/{name}/dicom-web/... and /projects/{name}/wado, checked by the
// same guard as /dicom-web.
const projectPrefix = "/projects/"

// projectNamePattern is a project name the gateway accepts in a path.
var projectNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Bounds of the peer SEGs one check fetches from the upstream for the
// agreement and label consistency rules.
const (
	maxStorePeers   = 8
	maxPeerBytes    = 256 << 20
	peerReportsScan = 200
)

// loadProfiles builds the profile set and one engine per profile: the
// given profile alone, or the files and folder of the configuration.
func (s *Server) loadProfiles(given *qc.Profile) error {
	var set *qc.ProfileSet
	var err error
	switch {
	case given != nil:
		set, err = qc.NewProfileSet([]*qc.Profile{given}, given.Name)
	default:
		opts := qc.ProfileSetOptions{Dir: s.cfg.ProfilesDir, Default: s.cfg.DefaultProfile}
		if s.cfg.Profile != "" {
			opts.Files = []string{s.cfg.Profile}
			if opts.Default == "" {
				// The single profile file of earlier versions is the
				// default unless another is named.
				p, err := qc.LoadProfile(s.cfg.Profile)
				if err != nil {
					return fmt.Errorf("loading profile: %w", err)
				}
				opts.Default = p.Name
			}
		}
		set, err = qc.LoadProfileSet(opts)
	}
	if err != nil {
		return fmt.Errorf("loading profiles: %w", err)
	}
	s.profiles = set
	s.engines = map[*qc.Profile]*qc.Engine{}
	for _, p := range append(set.Profiles(), set.Default()) {
		s.engines[p] = qc.NewEngine(p)
	}
	s.engine = s.engines[set.Default()]
	return nil
}

// splitProject takes the project prefix off a raw path: it returns the
// project's name and the rest of the path ("/dicom-web/..." or "/wado"),
// or "" and the path unchanged when it has no prefix. A malformed or
// unknown project is ErrNotDICOMweb (404): a request never falls back to
// another project's profile.
func (s *Server) splitProject(raw string) (string, string, error) {
	rest, ok := strings.CutPrefix(raw, projectPrefix)
	if !ok {
		return "", raw, nil
	}
	name, tail, _ := strings.Cut(rest, "/")
	if !projectNamePattern.MatchString(name) {
		return "", "", fmt.Errorf("%w: malformed project name", ErrNotDICOMweb)
	}
	if _, ok := s.profiles.Project(name); !ok {
		return "", "", fmt.Errorf("%w: unknown project", ErrNotDICOMweb)
	}
	return name, "/" + tail, nil
}

// checkSEG checks seg with the profile chosen for it (project, then its
// Clinical Trial Protocol ID, then the default), gathering peers and
// source pixels only when a rule of that profile needs them. inRequest are
// the other SEGs of the same STOW-RS request, sent the images of that
// request (nil when none): their pixels are not read, see [wadoPixels].
func (s *Server) checkSEG(ctx context.Context, seg *qc.Segmentation, sources *qc.SourceSet,
	project string, inRequest qc.PeerList, sent *qc.SourceSet) *qc.Report {
	p := s.profiles.Select(seg, project)
	eng, ok := s.engines[p]
	if !ok {
		eng = s.engine
	}
	var opts qc.CheckOptions
	if p != nil && (p.RuleEnabled("agreement.dice") || p.RuleEnabled("agreement.hd95") ||
		p.RuleEnabled("labels.consistent")) {
		opts.Peers = &peerSource{s: s, inRequest: inRequest}
	}
	if p != nil && p.RuleEnabled("boundary.air") {
		// Frames are fetched lazily, only for CT sources under the SEG.
		opts.Pixels = s.newWADOPixels(sent)
	}
	return eng.CheckWith(ctx, seg, sources, opts)
}

// peerSource finds the other SEGs of a SEG's source series: those of the
// same request, then accepted earlier uploads listed in the report store,
// fetched from the upstream by WADO-RS.
type peerSource struct {
	s         *Server
	inRequest qc.PeerList
}

// Peers implements [qc.Peers].
func (ps *peerSource) Peers(ctx context.Context, seg *qc.Segmentation) ([]qc.Peer, error) {
	peers, err := ps.inRequest.Peers(ctx, seg)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{seg.SOPInstanceUID: true}
	for _, p := range peers {
		seen[p.Segmentation.SOPInstanceUID] = true
	}
	series := map[string]bool{}
	for _, ref := range seg.ReferencedSeries {
		series[ref.SeriesInstanceUID] = true
	}

	list, err := ps.s.store.List(ctx, store.Filter{StudyInstanceUID: seg.StudyInstanceUID,
		Limit: peerReportsScan})
	if err != nil {
		return peers, fmt.Errorf("listing earlier reports: %w", err)
	}
	var errs []error
	fetched := 0
	for _, r := range list {
		rep := r.Report
		if fetched == maxStorePeers || rep == nil || !r.Stored || seen[rep.SOPInstanceUID] ||
			!slices.ContainsFunc(rep.SourceSeriesUIDs, func(u string) bool { return series[u] }) {
			continue
		}
		seen[rep.SOPInstanceUID] = true
		fetched++
		peer, err := ps.s.fetchSEG(ctx, rep.StudyInstanceUID, rep.SeriesInstanceUID,
			rep.SOPInstanceUID)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		peers = append(peers, qc.Peer{Segmentation: peer, Annotator: rep.Uploader})
	}
	return peers, errors.Join(errs...)
}

// fetchSEG retrieves one instance from the upstream by WADO-RS (PS3.18
// 10.4.1.1.3) and parses it as a SEG.
func (s *Server) fetchSEG(ctx context.Context, study, series, instance string) (
	*qc.Segmentation, error) {
	for _, uid := range []string{study, series, instance} {
		if !isUID(uid) {
			return nil, errors.New("fetching peer SEG: malformed UID in a stored report")
		}
	}
	u := s.upstream.String() + "/studies/" + study + "/series/" + series + "/instances/" +
		instance
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching peer SEG: %w", err)
	}
	req.Header.Set("Accept", `multipart/related; type="application/dicom"`)
	res, err := s.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching peer SEG: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching peer SEG: upstream answered %d", res.StatusCode)
	}
	mt, err := dicomweb.ParseSTOWMediaType(res.Header.Get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("fetching peer SEG: answer media type: %w", err)
	}
	part, err := dicomweb.NewPartReader(res.Body, mt.Boundary, dicomweb.PartLimits{}).Next()
	if err != nil {
		return nil, fmt.Errorf("fetching peer SEG: reading answer: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(part.Body, maxPeerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetching peer SEG: reading answer: %w", err)
	}
	if len(data) > maxPeerBytes {
		return nil, errors.New("fetching peer SEG: larger than 256 MiB")
	}
	seg, err := qc.ParseSegmentation(data)
	if err != nil {
		return nil, fmt.Errorf("fetching peer SEG: %w", err)
	}
	return seg, nil
}

var _ qc.Peers = (*peerSource)(nil)
