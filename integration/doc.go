// Package integration holds qcgate's end-to-end tests: the gateway in front
// of a real Orthanc (Debian packages orthanc and orthanc-dicomweb), fed with
// the real SEG cases of qc/testdata/real, and the benchmarks that compare
// the gateway with direct Orthanc. The harness that starts the peers is in
// the harness subpackage.
//
// The tests run in the default "go test ./..." when Orthanc is installed;
// without it they skip and say why, except when the CI environment variable
// is set, where a missing Orthanc fails the run.
package integration
