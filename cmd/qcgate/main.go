// Command qcgate is a DICOMweb gateway that quality-checks DICOM
// Segmentation objects before they reach an archive, and the same checks
// offline on files.
//
// Usage:
//
//	qcgate serve [--config FILE] [flags]
//	qcgate check [--profile FILE] [--format text|json] PATH...
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitError carries the exit code a subcommand wants.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

func main() {
	root := &cobra.Command{
		Use:           "qcgate",
		Short:         "Quality gate for DICOM Segmentation objects",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(subcommands...)

	err := root.Execute()
	if err == nil {
		return
	}
	code := 2
	if ee, ok := errors.AsType[*exitError](err); ok {
		code = ee.code
		if ee.err == nil {
			os.Exit(code)
		}
	}
	fmt.Fprintln(os.Stderr, "qcgate:", err)
	os.Exit(code)
}

// subcommands are registered by the files that define them, in init.
var subcommands []*cobra.Command
