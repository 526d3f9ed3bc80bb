// Package plant plants known defects in clean DICOM Segmentation (SEG)
// cases, in memory, and measures what the QC rules of package qc find:
// the planted-defect benchmark of "qcgate bench-defects".
//
// [Plant] edits the SEG's bytes with a small data set editor: it reads a
// DICOM Part 10 file as a tree of elements (explicit or implicit VR little
// endian, PS3.5 7.1; encapsulated Pixel Data is kept as it is), changes
// values, and writes the tree back with sequences and items of undefined
// length (PS3.5 7.5). Pixel edits unpack and re-pack native Pixel Data:
// BINARY frames packed one after the other, one bit per pixel (PS3.5
// 8.1.1), or 8-bit LABELMAP frames. Compressed SEGs (RLE, JPEG 2000,
// deflated frames) take the defects that change only attributes; pixel
// defects do not apply to them.
//
// [Run] checks every clean case, then every case with each defect of
// [Defects] planted, and reports recall per rule family and the errors on
// the clean cases; [BenchProfile] is the profile it is meant for.
package plant
