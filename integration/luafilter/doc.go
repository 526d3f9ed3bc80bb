// Package luafilter tests the Orthanc Lua filter shipped in
// docker/orthanc-seg-filter.lua against a real Orthanc server: SEG instances
// reach the archive only through the REST API as the gateway's user,
// whatever other way (DICOMweb STOW-RS, C-STORE, WebDAV, REST as another
// user, modification of a stored instance) they are pushed by.
//
// The package holds tests only. It starts its own Orthanc, because the
// filter needs two registered users, a DICOM port and a Lua script, which the
// shared integration harness does not configure; it uses the harness's
// HTTP client and request builders.
package luafilter
