//go:build !cgo

package qc

import "fmt"

// jpeg2000Available reports whether this build decodes JPEG 2000. Without
// cgo there is no OpenJPEG, so JPEG 2000 SEGs get the
// structure.transfer_syntax finding like any other syntax qc cannot decode.
const jpeg2000Available = false

// decodeJPEG2000 always fails: this build has no JPEG 2000 decoder.
func decodeJPEG2000(_ []byte, _ frameLayout, _ *[]byte) error {
	return fmt.Errorf("JPEG 2000 without cgo: %w", ErrUnsupportedTransferSyntax)
}
