package qc

import "errors"

// Sentinel errors of the package. Functions wrap them with context; test for
// them with [errors.Is].
var (
	// ErrNotDICOM means the input is not a DICOM Part 10 file: it has no
	// 128-byte preamble followed by "DICM" (PS3.10 7.1).
	ErrNotDICOM = errors.New("not a DICOM part 10 file")

	// ErrNotSegmentation means the file is DICOM but its SOP Class is not
	// Segmentation Storage or Label Map Segmentation Storage.
	ErrNotSegmentation = errors.New("not a segmentation")

	// ErrMalformed means the data set cannot be read: an element runs past
	// the end of its container, a sequence holds something that is not an
	// item, or a count claims more than the input can hold.
	ErrMalformed = errors.New("malformed data set")

	// ErrUnsupportedTransferSyntax means the pixel data is encoded in a
	// transfer syntax that qc cannot decode (PS3.5 8.2). The rest of the
	// Segmentation is still read.
	ErrUnsupportedTransferSyntax = errors.New("unsupported transfer syntax")

	// ErrPixelData means the pixel data of a frame is missing, too short or
	// cannot be decoded.
	ErrPixelData = errors.New("undecodable pixel data")

	// ErrFrameRange means a frame index lies outside the frames of the
	// Segmentation.
	ErrFrameRange = errors.New("frame index out of range")

	// ErrInvalidSource means a source image's data set cannot be read, or
	// one of its geometry attributes holds a value invalid for its VR.
	ErrInvalidSource = errors.New("invalid source image")

	// ErrInvalidProfile means a profile file cannot be used: it is not valid
	// YAML, has unknown keys or rule IDs, or holds values out of range.
	ErrInvalidProfile = errors.New("invalid profile")
)
