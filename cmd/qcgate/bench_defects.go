package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/qcgate/qcgate/qc"
	"github.com/qcgate/qcgate/qc/plant"
)

const benchDefectsLong = `Bench-defects measures what the QC rules find. It reads the clean cases
of DIR (one folder per case: one SEG at the top, its source images under
source/), checks each as it is, then plants each kind of defect the rules
look for, one at a time and in memory, and checks again.

It prints one row per case and defect (found, missed, or n/a when the case
cannot hold the defect), the recall of each rule family (found / planted)
and the findings of severity error on the clean cases, which should be
none. Without --profile it uses the benchmark profile of package
qc/plant, which enables every rule family with thresholds for small cases.

Exit status: 0 when every family's recall is 1 and no clean case has an
error, 1 otherwise, 2 on usage errors.`

// benchDefectsOptions are the flags of "qcgate bench-defects".
type benchDefectsOptions struct {
	// profile is the path of a YAML profile; empty means plant's benchmark
	// profile.
	profile string
	// format is text or json.
	format string
}

func init() {
	var opts benchDefectsOptions
	cmd := &cobra.Command{
		Use:   "bench-defects [--profile FILE] [--format text|json] DIR",
		Short: "Plant known defects in clean cases and report what the rules find",
		Long:  benchDefectsLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code := runBenchDefects(cmd.Context(), opts, args[0], cmd.OutOrStdout(),
				cmd.ErrOrStderr())
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.profile, "profile", "", "YAML profile file; default: the benchmark profile")
	f.StringVar(&opts.format, "format", "text", "output format: text or json")
	subcommands = append(subcommands, cmd)
}

// runBenchDefects runs the benchmark on dir and returns the exit code.
func runBenchDefects(ctx context.Context, opts benchDefectsOptions, dir string,
	stdout, stderr io.Writer) int {
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.format != "text" && opts.format != "json" {
		fmt.Fprintf(stderr, "qcgate bench-defects: --format %q: want text or json\n",
			opts.format)
		return exitUsage
	}
	var profile *qc.Profile
	var err error
	if opts.profile != "" {
		profile, err = qc.LoadProfile(opts.profile)
	} else {
		profile, err = plant.BenchProfile()
	}
	if err != nil {
		fmt.Fprintf(stderr, "qcgate bench-defects: %v\n", err)
		return exitUsage
	}
	cases, err := plant.LoadCases(dir)
	if err != nil {
		fmt.Fprintf(stderr, "qcgate bench-defects: %v\n", err)
		return exitUsage
	}
	if len(cases) == 0 {
		fmt.Fprintf(stderr, "qcgate bench-defects: no case folder with a SEG in %s\n", dir)
		return exitUsage
	}
	res, err := plant.Run(ctx, cases, profile)
	if err != nil {
		fmt.Fprintf(stderr, "qcgate bench-defects: %v\n", err)
		return exitUsage
	}

	if opts.format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(res)
	} else {
		err = writeBenchText(stdout, res)
	}
	if err != nil {
		fmt.Fprintf(stderr, "qcgate bench-defects: writing output: %v\n", err)
		return exitUsage
	}
	if len(res.FalseErrors) > 0 {
		return exitRejected
	}
	for _, f := range res.Families {
		if f.Found < f.Planted {
			return exitRejected
		}
	}
	return exitAccepted
}

// writeBenchText prints the rows, the recall per family and the false
// errors as aligned tables.
func writeBenchText(w io.Writer, res *plant.Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "profile %s %s (sha256 %s), %d clean cases\n\n", res.Profile.Name,
		res.Profile.Version, res.Profile.SHA256, res.Cases)
	fmt.Fprintln(tw, "case\tdefect\tfamily\tstatus\tfinding")
	for _, r := range res.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Case, r.Defect, r.Family, r.Status,
			shorten(r.Finding, 100))
	}
	fmt.Fprintln(tw, "\nfamily\tplanted\tfound\trecall")
	for _, f := range res.Families {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.2f\n", f.Family, f.Planted, f.Found, f.Recall)
	}
	fmt.Fprintf(tw, "\nerrors on clean cases (should be none): %d\n", len(res.FalseErrors))
	for _, f := range res.FalseErrors {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Case, f.Rule, shorten(f.Message, 100))
	}
	return tw.Flush()
}

// shorten cuts s to n bytes, marking the cut.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-3] + "..."
}
