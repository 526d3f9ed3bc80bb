// Package qc decodes DICOM Segmentation objects (SEG) and checks them
// against their source images.
//
// A [Segmentation] is read from a Part 10 file or a STOW-RS part with
// [ParseSegmentation]. Its frames are placed on the grid of the source series,
// described by a [SourceSet] that is filled from DICOM files
// ([ReadSourceInstance]) or from WADO-RS metadata ([SourcesFromMetadata]).
// An [Engine] runs the rules of a [Profile] over both and returns a [Report],
// whose decision is accepted, accepted_with_warnings or rejected.
//
// The package does not log: problems with the input are findings in the
// report, and only failures to read anything at all are returned as errors.
//
// References to the standard use its parts: PS3.3 C.8.20 (Segmentation
// modules), PS3.3 C.7.6.16 (Multi-frame Functional Groups), PS3.5 8.1.1
// (pixel data encoding) and PS3.5 Annex G (RLE).
package qc
