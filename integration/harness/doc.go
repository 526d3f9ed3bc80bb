// Package harness starts the real peers of qcgate for end-to-end tests: an
// Orthanc server from the Debian packages orthanc and orthanc-dicomweb, the
// gateway in the test process in front of it, and the qcgate binary as a
// child process.
//
// # Orthanc
//
// [StartOrthanc] writes a temporary configuration (HTTP only, a random free
// port, random credentials, storage in the test's temporary directory, the
// DICOMweb plugin), starts Orthanc as a child process, waits until
// GET /system answers and stops it with SIGTERM when the test ends. Orthanc
// 1.10 always listens on all addresses: the random port and credentials keep
// other hosts out, and the harness only ever talks to 127.0.0.1. Orthanc's
// log is kept in a file and printed when the test fails.
//
// When Orthanc is not installed the test is skipped with the reason, except
// under CI (the CI environment variable is set), where that fails the test.
//
// # Gateway
//
// [StartGateway] builds the gateway with its package's constructor, with a
// temporary SQLite report store, and serves it on 127.0.0.1. [StartServe]
// builds the qcgate command and runs "qcgate serve" as a child process, for
// the tests of the binary and its environment configuration and for memory
// measurements.
//
// # Requests
//
// [Multipart] and [FilePart] build STOW-RS bodies (PS3.18 10.5),
// [Client.STOW] sends them and [Response] holds the answer with its DICOM
// JSON decoded by this package's own small decoder ([Dataset]), so the tests
// do not check the gateway with the gateway's code.
package harness
