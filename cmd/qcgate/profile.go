package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/qcgate/qcgate/qc"
)

const profileLintLong = `Lint decodes a QC profile as the gateway and check do, strictly, and
reports every problem at once, one per line on stderr. On success it prints
the profile's name, version and sha256 (the digest every report carries) and
the number of concepts, requirements and rule settings.

Exit status: 0 when the profile is valid, 1 when it has problems, 2 when it
cannot be read.`

func init() {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Work with QC profiles",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "lint FILE",
		Short: "Validate a QC profile and print its sha256",
		Long:  profileLintLong,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			code := runProfileLint(args[0], cmd.OutOrStdout(), cmd.ErrOrStderr())
			if code != 0 {
				return &exitError{code: code}
			}
			return nil
		},
	})
	subcommands = append(subcommands, cmd)
}

// runProfileLint lints one profile file and returns the exit code.
func runProfileLint(path string, stdout, stderr io.Writer) int {
	data, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "qcgate profile lint: %v\n", err)
		return exitUsage
	}
	p, err := qc.ParseProfile(data)
	if err != nil {
		fmt.Fprintf(stderr, "qcgate profile lint: %s: invalid profile\n", path)
		for _, line := range problems(err) {
			fmt.Fprintf(stderr, "  %s\n", line)
		}
		return exitRejected
	}
	fmt.Fprintf(stdout, "%s: ok\nname: %s\nversion: %s\nsha256: %s\n", path, p.Name,
		p.Version, p.SHA256)
	fmt.Fprintf(stdout, "concepts: %d, requirements: %d, rule settings: %d\n",
		len(p.Vocabulary), len(p.Requirements), len(p.Rules))
	return exitAccepted
}

// problems splits a profile error into one line per problem, without the
// sentinel's prefix.
func problems(err error) []string {
	msg := strings.TrimPrefix(err.Error(), qc.ErrInvalidProfile.Error()+": ")
	if !errors.Is(err, qc.ErrInvalidProfile) {
		return []string{msg}
	}
	return strings.Split(msg, "\n")
}
