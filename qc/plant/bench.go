package plant

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/qcgate/qcgate/qc"
)

// LoadCases reads the case folders of dir: each holds one SEG at its top
// level and its source images under source/. Files that are not DICOM are
// skipped; a folder without a SEG or without source images is skipped, as
// a case whose sources are missing is not clean.
func LoadCases(dir string) ([]Case, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("reading cases: %w", err)
	}
	var out []Case
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c, ok, err := loadCase(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", e.Name(), err)
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// loadCase reads one case folder; ok is false when it holds no SEG.
func loadCase(dir string) (Case, bool, error) {
	c := Case{Name: filepath.Base(dir), SourcePaths: make(map[string]string)}
	top, err := os.ReadDir(dir)
	if err != nil {
		return c, false, err
	}
	for _, e := range top {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".dcm") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return c, false, err
		}
		if _, err := qc.ParseSegmentation(b); err == nil {
			c.SEG = b
			break
		}
	}
	if c.SEG == nil {
		return c, false, nil
	}
	src, err := os.ReadDir(filepath.Join(dir, "source"))
	if errors.Is(err, os.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, err
	}
	for _, e := range src {
		path := filepath.Join(dir, "source", e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return c, false, err
		}
		inst, err := qc.ReadSourceInstance(bytes.NewReader(b))
		if err != nil {
			continue
		}
		c.Sources = append(c.Sources, b)
		c.SourcePaths[inst.SOPInstanceUID] = path
	}
	return c, len(c.Sources) > 0, nil
}

// Status is the outcome of one planted defect.
type Status string

// Outcomes of a planted defect.
const (
	// StatusFound: a rule of the defect's family reported it.
	StatusFound Status = "found"
	// StatusMissed: planted, and no rule of its family reported it.
	StatusMissed Status = "missed"
	// StatusNotApplicable: the case cannot hold the defect, or its rules
	// already fire on the clean case; not counted in recall.
	StatusNotApplicable Status = "n/a"
)

// Row is one case and defect.
type Row struct {
	Case   string `json:"case"`
	Defect Defect `json:"defect"`
	Family string `json:"family"`
	Status Status `json:"status"`
	// Finding is the first finding that found it, or why it did not apply.
	Finding string `json:"finding,omitempty"`
}

// FamilyRecall counts the planted and found defects of one family.
type FamilyRecall struct {
	Family  string  `json:"family"`
	Planted int     `json:"planted"`
	Found   int     `json:"found"`
	Recall  float64 `json:"recall"`
}

// FalseFinding is a finding of severity error on a clean case.
type FalseFinding struct {
	Case    string `json:"case"`
	Rule    string `json:"rule"`
	Message string `json:"message"`
}

// Result is the outcome of [Run].
type Result struct {
	Profile     qc.ProfileInfo `json:"profile"`
	Cases       int            `json:"cases"`
	Rows        []Row          `json:"rows"`
	Families    []FamilyRecall `json:"families"`
	FalseErrors []FalseFinding `json:"false_errors"`
}

// Run checks every clean case with profile, then every case with each
// defect of [Defects] planted, and counts what the rules found.
//
// A defect counts as found when the planted case's report holds a warning
// or error of one of the defect's rules that the clean report does not hold
// (same rule, segment, frame and message). It does not apply when the
// clean check notes that one of its rules did not run, or when the rule
// says so in an info finding on the planted case. For a defect that is not Counting,
// the clean report must hold no finding of its rules on the planted
// segment (or on the whole SEG); otherwise the defect does not apply.
func Run(ctx context.Context, cases []Case, profile *qc.Profile) (*Result, error) {
	eng := qc.NewEngine(profile)
	res := &Result{Profile: profile.Info(), Cases: len(cases)}
	planted := make(map[string]*FamilyRecall)
	for _, c := range cases {
		clean, err := check(ctx, eng, c, c.SEG, c.Sources, nil)
		if err != nil {
			return nil, fmt.Errorf("case %s: %w", c.Name, err)
		}
		for _, f := range clean.Findings {
			if f.Severity == qc.SeverityError {
				res.FalseErrors = append(res.FalseErrors,
					FalseFinding{Case: c.Name, Rule: f.Rule, Message: f.Message})
			}
		}
		for _, d := range Defects() {
			row, err := runDefect(ctx, eng, c, d, clean)
			if err != nil {
				return nil, fmt.Errorf("case %s, defect %s: %w", c.Name, d.Defect, err)
			}
			res.Rows = append(res.Rows, row)
			if row.Status == StatusNotApplicable {
				continue
			}
			fr := planted[d.Family]
			if fr == nil {
				fr = &FamilyRecall{Family: d.Family}
				planted[d.Family] = fr
			}
			fr.Planted++
			if row.Status == StatusFound {
				fr.Found++
			}
		}
	}
	for _, d := range Defects() {
		if fr := planted[d.Family]; fr != nil && !slices.ContainsFunc(res.Families,
			func(x FamilyRecall) bool { return x.Family == d.Family }) {
			fr.Recall = float64(fr.Found) / float64(fr.Planted)
			res.Families = append(res.Families, *fr)
		}
	}
	return res, nil
}

// runDefect plants d in c and checks the result against the clean report.
func runDefect(ctx context.Context, eng *qc.Engine, c Case, d Info,
	clean *qc.Report) (Row, error) {
	row := Row{Case: c.Name, Defect: d.Defect, Family: d.Family}
	p, err := Plant(c, d.Defect)
	if errors.Is(err, ErrNotApplicable) || errors.Is(err, ErrFormat) {
		row.Status, row.Finding = StatusNotApplicable, err.Error()
		return row, nil
	}
	if err != nil {
		return row, err
	}
	if why := notApplicable(eng.Profile(), c, d, p, clean); why != "" {
		row.Status, row.Finding = StatusNotApplicable, why
		return row, nil
	}
	if !d.Counting {
		for _, f := range clean.Findings {
			if slices.Contains(d.Rules, f.Rule) && (p.Segment == 0 || f.Segment == 0 ||
				f.Segment == p.Segment) {
				row.Status = StatusNotApplicable
				row.Finding = "the clean case already has " + f.Rule + ": " + f.Message
				return row, nil
			}
		}
	}
	rep, err := check(ctx, eng, c, p.SEG, p.Sources, p.Peer)
	if err != nil {
		return row, err
	}
	row.Status = StatusMissed
	for _, f := range rep.Findings {
		if slices.Contains(d.Rules, f.Rule) && f.Severity == qc.SeverityInfo ||
			skipped(f, d.Rules) {
			// The rule says it could not run on the planted case (an
			// agreement without a 3D grid, for example).
			row.Status, row.Finding = StatusNotApplicable, "rule did not run: "+f.Message
		}
	}
	for _, f := range rep.Findings {
		if !slices.Contains(d.Rules, f.Rule) || f.Severity == qc.SeverityInfo ||
			slices.ContainsFunc(clean.Findings,
				func(x qc.Finding) bool {
					return x.Rule == f.Rule && x.Segment == f.Segment && x.Frame == f.Frame &&
						x.Message == f.Message
				}) {
			continue
		}
		row.Status, row.Finding = StatusFound, f.Rule+": "+f.Message
		break
	}
	return row, nil
}

// notApplicable says why a planted defect cannot be found on this case
// whatever the rules do, or returns "": when the clean check notes that one
// of the defect's rules did not run (no 3D grid, for example), or when the
// volume defect's segment has no volume or its concept no range.
func notApplicable(profile *qc.Profile, c Case, d Info, p *Planted,
	clean *qc.Report) string {
	for _, f := range clean.Findings {
		if skipped(f, d.Rules) {
			return "rule did not run on the clean case: " + f.Message
		}
	}
	if d.Defect != DefectVolumeTimesTen {
		return ""
	}
	i := slices.IndexFunc(clean.Segments, func(s qc.SegmentReport) bool {
		return s.Number == p.Segment
	})
	if i < 0 || clean.Segments[i].VolumeML == nil {
		return "segment has no volume (no pixel and slice spacing)"
	}
	seg, err := qc.ParseSegmentation(c.SEG)
	if err != nil {
		return "SEG does not parse: " + err.Error()
	}
	for _, s := range seg.Segments {
		if int(s.SegmentNumber) == p.Segment && volumeRange(profile, &s) == nil {
			return "the segment's concept has no volume range in the profile"
		}
	}
	return ""
}

// skipped reports whether f notes that one of rules did not run.
func skipped(f qc.Finding, rules []string) bool {
	return f.Rule == "check.skipped" && slices.ContainsFunc(rules, func(r string) bool {
		return strings.HasPrefix(f.Message, r+" ")
	})
}

// volumeRange returns the volume range of the concept whose codes d
// carries, or nil.
func volumeRange(profile *qc.Profile, d *qc.SegmentDescription) *qc.Range {
	for _, con := range profile.Vocabulary {
		codings := append([]qc.Coding{{Category: con.Category, Type: con.Type}},
			con.AlsoCodedAs...)
		for _, k := range codings {
			if k.Category.CodeValue == d.SegmentedPropertyCategory.CodeValue &&
				k.Type.CodeValue == d.SegmentedPropertyType.CodeValue &&
				strings.EqualFold(k.Type.CodingSchemeDesignator,
					d.SegmentedPropertyType.CodingSchemeDesignator) {
				return con.VolumeML
			}
		}
	}
	return nil
}

// check runs the engine on a SEG with its sources and an optional peer.
func check(ctx context.Context, eng *qc.Engine, c Case, segBytes []byte, sources [][]byte,
	peer []byte) (*qc.Report, error) {
	seg, err := qc.ParseSegmentation(segBytes)
	if err != nil {
		return nil, fmt.Errorf("parsing SEG: %w", err)
	}
	set := qc.NewSourceSet()
	for _, b := range sources {
		inst, err := qc.ReadSourceInstance(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("reading source: %w", err)
		}
		set.Add(inst)
	}
	// Planting changes no source pixel value: the original files serve.
	px := qc.NewFileSourcePixels()
	for uid, path := range c.SourcePaths {
		px.Add(uid, path)
	}
	opts := qc.CheckOptions{Pixels: px}
	if peer != nil {
		ps, err := qc.ParseSegmentation(peer)
		if err != nil {
			return nil, fmt.Errorf("parsing the second annotator's SEG: %w", err)
		}
		opts.Peers = qc.PeerList{{Segmentation: ps, Annotator: "planted"}}
	}
	return eng.CheckWith(ctx, seg, set, opts), nil
}
