package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qcgate/qcgate/qc"
)

const rulesLong = `Rules lists every QC rule qcgate knows: its stable ID, its default
severity, whether it runs only when a profile enables it, what it checks and
the clause of the standard or of the profile it checks against.

--format markdown prints the table the README carries; a test keeps the two
equal.`

func init() {
	var format string
	cmd := &cobra.Command{
		Use:   "rules",
		Short: "List the QC rules with their IDs, severities and clauses",
		Long:  rulesLong,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return writeRules(cmd.OutOrStdout(), format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text, markdown or json")
	subcommands = append(subcommands, cmd)
}

// writeRules prints qc.Rules in the given format.
func writeRules(w io.Writer, format string) error {
	rules := qc.Rules()
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rules)
	case "markdown":
		_, err := io.WriteString(w, rulesMarkdown(rules))
		return err
	case "text":
		for _, r := range rules {
			if _, err := fmt.Fprintf(w, "%-32s %-18s %s\n", r.ID, ruleSeverity(r),
				r.Summary); err != nil {
				return err
			}
		}
		return nil
	}
	err := fmt.Errorf("unknown format %q: want text, markdown or json", format)
	return &exitError{code: exitUsage, err: err}
}

// ruleSeverity gives a rule's default severity, marked when it is optional.
func ruleSeverity(r qc.RuleInfo) string {
	if r.Optional {
		return string(r.DefaultSeverity) + ", optional"
	}
	return string(r.DefaultSeverity)
}

// rulesMarkdown renders the rule table of the README.
func rulesMarkdown(rules []qc.RuleInfo) string {
	var b strings.Builder
	b.WriteString("| rule | default | what it checks | clause |\n|---|---|---|---|\n")
	for _, r := range rules {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.ID, ruleSeverity(r),
			strings.ReplaceAll(r.Summary, "|", `\|`), r.Reference)
	}
	return b.String()
}
