package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/suyashkumar/dicom"
	"github.com/suyashkumar/dicom/pkg/dicomio"
	"github.com/suyashkumar/dicom/pkg/tag"

	"github.com/qcgate/qcgate/qc"
)

const checkLong = `Check runs the QC engine of the gateway on files and folders. Every
DICOM Segmentation (SEG) found among the paths is checked against the source
images found among the same paths (any other DICOM file), and gets a report.

Output: with --format text (the default), one line per SEG with its decision
and counts, then its findings, then a summary; with --format json, one JSON
array of reports on stdout and nothing else. Progress and notes go to stderr.

Exit status: 0 when no SEG is rejected, 1 when at least one is (a SEG that
cannot be read at all counts as rejected), 2 on usage errors or when no SEG
could be read.`

// progressThreshold is the number of files above which check reports its
// progress on stderr.
const progressThreshold = 50

func init() {
	subcommands = append(subcommands, newCheckCommand())
}

// checkOptions are the flags of "qcgate check".
type checkOptions struct {
	// profile is the path of a YAML profile; empty means the default.
	profile string
	// format is text or json.
	format string
}

// newCheckCommand builds the "qcgate check" command.
func newCheckCommand() *cobra.Command {
	var opts checkOptions
	cmd := &cobra.Command{
		Use:   "check [--profile FILE] [--format text|json] PATH...",
		Short: "Check SEG files against their source images, offline",
		Long:  checkLong,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code := runCheck(cmd.Context(), opts, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.profile, "profile", "", "YAML profile file; default: every rule on")
	f.StringVar(&opts.format, "format", "text", "output format: text or json")
	return cmd
}

// Exit codes of check.
const (
	exitAccepted = 0
	exitRejected = 1
	exitUsage    = 2
)

// checkedSEG is one SEG and what became of it.
type checkedSEG struct {
	path   string
	report *qc.Report
	err    error
}

// runCheck checks the SEGs among paths and writes the result; it returns
// the exit code.
func runCheck(ctx context.Context, opts checkOptions, paths []string,
	stdout, stderr io.Writer) int {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.format != "text" && opts.format != "json" {
		fmt.Fprintf(stderr, "qcgate check: --format %q: want text or json\n", opts.format)
		return exitUsage
	}
	if len(paths) == 0 {
		fmt.Fprintln(stderr, "qcgate check: no path given")
		return exitUsage
	}
	profile := qc.DefaultProfile()
	if opts.profile != "" {
		p, err := qc.LoadProfile(opts.profile)
		if err != nil {
			fmt.Fprintf(stderr, "qcgate check: %v\n", err)
			return exitUsage
		}
		profile = p
	}

	files, err := listFiles(paths)
	if err != nil {
		fmt.Fprintf(stderr, "qcgate check: %v\n", err)
		return exitUsage
	}
	progress := newProgress(stderr, len(files))
	pixels := qc.NewFileSourcePixels()
	segs, sources, other := sortFiles(files, stderr, progress, pixels)

	eng := qc.NewEngine(profile)
	copts := qc.CheckOptions{}
	if profile.RuleEnabled("boundary.air") {
		copts.Pixels = pixels
	}
	var peers qc.PeerList
	if profile.RuleEnabled("labels.consistent") || profile.RuleEnabled("agreement.dice") ||
		profile.RuleEnabled("agreement.hd95") {
		// The SEGs among the paths are one another's peers: each is parsed
		// once and kept for the others' checks.
		peers = parseAll(segs)
		copts.Peers = peers
	}
	results := make([]checkedSEG, 0, len(segs))
	segProgress := newProgress(stderr, len(segs))
	for i, path := range segs {
		if peers != nil {
			results = append(results, checkParsed(ctx, eng, path, peers[i], sources, copts))
		} else {
			results = append(results, checkOne(ctx, eng, path, sources, copts))
		}
		segProgress.step("SEGs checked")
	}

	read, rejected := 0, false
	for _, r := range results {
		if r.err != nil {
			fmt.Fprintf(stderr, "qcgate check: %s: %v\n", r.path, r.err)
			rejected = true
			continue
		}
		read++
		rejected = rejected || r.report.Decision == qc.DecisionRejected
	}

	if opts.format == "json" {
		err = writeJSON(stdout, results)
	} else {
		err = writeText(stdout, results, sources.Len(), other)
	}
	if err != nil {
		fmt.Fprintf(stderr, "qcgate check: writing output: %v\n", err)
		return exitUsage
	}

	switch {
	case read == 0:
		fmt.Fprintf(stderr, "qcgate check: no SEG could be read among %d files\n", len(files))
		return exitUsage
	case rejected:
		return exitRejected
	}
	return exitAccepted
}

// listFiles returns the regular files of paths, walking folders, each once,
// in the order given and then by name.
func listFiles(paths []string) ([]string, error) {
	var out []string
	seen := make(map[string]bool)
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			add(filepath.Clean(root))
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.Type().IsRegular() {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("walking %s: %w", root, err)
		}
	}
	return out, nil
}

// sortFiles reads every file once: SEGs are listed, other DICOM files
// become sources, the rest are counted. A source that cannot be read is
// noted on stderr and left out.
func sortFiles(files []string, stderr io.Writer, pr *progress,
	pixels *qc.FileSourcePixels) ([]string, *qc.SourceSet, int) {
	var segs []string
	sources := qc.NewSourceSet()
	other := 0
	for _, path := range files {
		class, err := peekSOPClass(path)
		switch {
		case errors.Is(err, qc.ErrNotDICOM):
			if strings.EqualFold(filepath.Ext(path), ".dcm") {
				// Named as DICOM but not one: say so, since the user
				// probably meant it to be checked.
				fmt.Fprintf(stderr, "qcgate check: skipping %s: %v (no DICM prefix at byte 128)\n",
					path, err)
			}
			other++
		case err != nil:
			fmt.Fprintf(stderr, "qcgate check: skipping %s: %v\n", path, err)
			other++
		case qc.IsSegmentationClass(class):
			segs = append(segs, path)
		default:
			inst, err := readSource(path)
			if err != nil {
				fmt.Fprintf(stderr, "qcgate check: skipping source %s: %v\n", path, err)
				other++
				break
			}
			sources.Add(inst)
			pixels.Add(inst.SOPInstanceUID, path)
		}
		pr.step("files read")
	}
	return segs, sources, other
}

// peekSOPClass returns the SOP Class UID of a Part 10 file from its File
// Meta Information (Media Storage SOP Class UID), or from the data set when
// the meta information lacks it, reading no further than needed.
func peekSOPClass(path string) (class string, err error) {
	defer func() {
		// The dicom package panics on some malformed headers (an unknown
		// transfer syntax leaves it without a byte order).
		if rec := recover(); rec != nil {
			class, err = "", fmt.Errorf("reading file meta information: %w: parser: %v",
				qc.ErrMalformed, rec)
		}
	}()
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()

	br := bufio.NewReader(f)
	head, err := br.Peek(132)
	if err != nil || string(head[128:]) != "DICM" {
		return "", qc.ErrNotDICOM
	}
	p, err := dicom.NewParser(br, dicomio.LimitReadUntilEOF, nil, dicom.SkipPixelData(),
		dicom.AllowUnknownSpecificCharacterSet(), dicom.AllowMissingMetaElementGroupLength())
	if err != nil {
		return "", fmt.Errorf("reading file meta information: %w", err)
	}
	meta := p.GetMetadata()
	if e, err := meta.FindElementByTag(tag.MediaStorageSOPClassUID); err == nil {
		if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 && v[0] != "" {
			return strings.Trim(v[0], " \x00"), nil
		}
	}
	for {
		e, err := p.Next()
		if err != nil {
			return "", fmt.Errorf("looking for SOP Class UID: %w", err)
		}
		if e.Tag == tag.SOPClassUID {
			if v, ok := e.Value.GetValue().([]string); ok && len(v) > 0 {
				return strings.Trim(v[0], " \x00"), nil
			}
		}
		if e.Tag.Compare(tag.SOPClassUID) > 0 {
			return "", errors.New("no SOP Class UID")
		}
	}
}

// readSource reads the geometry of one source file.
func readSource(path string) (*qc.SourceInstance, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return qc.ReadSourceInstance(f)
}

// checkOne reads and checks one SEG file.
func checkOne(ctx context.Context, eng *qc.Engine, path string, sources *qc.SourceSet,
	opts qc.CheckOptions) checkedSEG {
	data, err := os.ReadFile(path)
	if err != nil {
		return checkedSEG{path: path, err: err}
	}
	seg, err := qc.ParseSegmentation(data)
	if err != nil {
		return checkedSEG{path: path, err: fmt.Errorf("parsing segmentation: %w", err)}
	}
	return checkParsed(ctx, eng, path, qc.Peer{Segmentation: seg}, sources, opts)
}

// checkParsed checks a parsed SEG; p.Segmentation is nil when it could not
// be parsed, and p.Annotator then holds the error text.
func checkParsed(ctx context.Context, eng *qc.Engine, path string, p qc.Peer,
	sources *qc.SourceSet, opts qc.CheckOptions) checkedSEG {
	if p.Segmentation == nil {
		return checkedSEG{path: path, err: errors.New(p.Annotator)}
	}
	rep := eng.CheckWith(ctx, p.Segmentation, sources, opts)
	if err := ctx.Err(); err != nil {
		return checkedSEG{path: path, report: rep, err: fmt.Errorf("checking segmentation: %w",
			err)}
	}
	return checkedSEG{path: path, report: rep}
}

// parseAll parses every SEG file, in order; one that cannot be read or
// parsed gives a peer with no Segmentation and the error in Annotator.
func parseAll(paths []string) qc.PeerList {
	out := make(qc.PeerList, len(paths))
	for i, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			out[i] = qc.Peer{Annotator: err.Error()}
			continue
		}
		seg, err := qc.ParseSegmentation(data)
		if err != nil {
			out[i] = qc.Peer{Annotator: fmt.Sprintf("parsing segmentation: %v", err)}
			continue
		}
		out[i] = qc.Peer{Segmentation: seg, Annotator: filepath.Base(path)}
	}
	return out
}

// writeJSON writes the reports as one JSON array.
func writeJSON(w io.Writer, results []checkedSEG) error {
	reports := make([]*qc.Report, 0, len(results))
	for _, r := range results {
		if r.err == nil {
			reports = append(reports, r.report)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(reports)
}

// writeText writes a line per SEG with its decision and counts, its
// findings indented below it, and a summary line.
func writeText(w io.Writer, results []checkedSEG, sources, other int) error {
	bw := bufio.NewWriter(w)
	count := map[qc.Decision]int{}
	unreadable := 0
	for _, r := range results {
		if r.err != nil {
			unreadable++
			fmt.Fprintf(bw, "%s: unreadable: %v\n", r.path, r.err)
			continue
		}
		rep := r.report
		count[rep.Decision]++
		frames, voxels := 0, int64(0)
		for _, s := range rep.Segments {
			frames += s.Frames
			voxels += s.Voxels
		}
		sev := map[qc.Severity]int{}
		for _, f := range rep.Findings {
			sev[f.Severity]++
		}
		fmt.Fprintf(bw, "%s: %s (%d segments, %d frames, %d voxels; "+
			"%d errors, %d warnings, %d info)\n", r.path, rep.Decision, len(rep.Segments),
			frames, voxels, sev[qc.SeverityError], sev[qc.SeverityWarning], sev[qc.SeverityInfo])
		for _, f := range rep.Findings {
			fmt.Fprintf(bw, "    %-7s %s%s: %s\n", f.Severity, f.Rule, where(f), f.Message)
		}
	}
	fmt.Fprintf(bw, "%d SEGs: %d accepted, %d accepted with warnings, %d rejected",
		len(results), count[qc.DecisionAccepted], count[qc.DecisionAcceptedWithWarnings],
		count[qc.DecisionRejected])
	if unreadable > 0 {
		fmt.Fprintf(bw, ", %d unreadable", unreadable)
	}
	fmt.Fprintf(bw, "; %d source images, %d other files\n", sources, other)
	return bw.Flush()
}

// where names the segment and frame of a finding, if any.
func where(f qc.Finding) string {
	var s string
	if f.Segment != 0 {
		s += fmt.Sprintf(" segment %d", f.Segment)
	}
	if f.Frame != 0 {
		s += fmt.Sprintf(" frame %d", f.Frame)
	}
	return s
}

// progress writes "N% (i/n what)" lines to stderr at every tenth of the
// work, when there is enough work to be worth it. A nil progress writes
// nothing.
type progress struct {
	w    io.Writer
	n, i int
	last int
}

// newProgress returns a progress over n steps, or nil when n is small.
func newProgress(w io.Writer, n int) *progress {
	if n <= progressThreshold {
		return nil
	}
	return &progress{w: w, n: n}
}

// step counts one step done.
func (p *progress) step(what string) {
	if p == nil {
		return
	}
	p.i++
	if tenth := p.i * 10 / p.n; tenth > p.last || p.i == p.n {
		p.last = tenth
		fmt.Fprintf(p.w, "qcgate check: %d%% (%d/%d %s)\n", p.i*100/p.n, p.i, p.n, what)
	}
}
