package plant

import "errors"

// Errors of package plant.
var (
	// ErrFormat means the input is not a DICOM file the editor can read and
	// write: Part 10 with explicit or implicit VR little endian data sets
	// (encapsulated Pixel Data is kept as it is).
	ErrFormat = errors.New("unsupported DICOM encoding")
	// ErrNotApplicable means a defect cannot be planted in a case, for
	// example a removed slice in a segment of fewer than three frames, or a
	// pixel edit in a compressed SEG.
	ErrNotApplicable = errors.New("defect not applicable")
)
