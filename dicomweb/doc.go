// Package dicomweb holds the DICOMweb pieces qcgate needs on both sides of
// the gateway, with plain net/http types and no logging.
//
// # Multipart
//
// STOW-RS requests and some retrievals are multipart/related bodies
// (PS3.18 8.6, RFC 2387). [ParseMediaType] reads a Content-Type header and
// [NewPartReader] streams the parts of a body one at a time, so a gateway
// can forward a part while it arrives. A body cut in the middle of a part
// gives an error wrapping [ErrTruncated]. [NewStowWriter] writes the
// upstream side of a STOW-RS request.
//
// # DICOM JSON
//
// [Dataset] and [Attribute] are the DICOM JSON Model (PS3.18 F.2), decoded
// from QIDO-RS answers and WADO-RS metadata with [DecodeDatasets].
//
// # STOW-RS answer
//
// [StoreResponse] is the Store Instances Response Module (PS3.18 10.5.3),
// parsed from an upstream's answer with [ParseStoreResponse] and written as
// DICOM JSON or as the Native DICOM Model (PS3.19 A.1). The Failure Reason
// values qcgate uses are in failure.go; [StatusFor] picks the HTTP status of
// a STOW-RS answer from the counts of stored and failed instances.
//
// # Upstream
//
// [Client] talks to an upstream DICOMweb server: WADO-RS series metadata,
// QIDO-RS lookups and STOW-RS uploads, mapping transport failures to
// [ErrUpstreamUnreachable] and [ErrUpstreamTimeout] and HTTP failures to
// [StatusError]. [RepairQuery] rewrites a QIDO-RS query so that Orthanc 1.10,
// which does not percent-decode query values, matches what the client asked.
// [Client.OrthancSetMetadata] uses Orthanc's own REST API, not DICOMweb.
package dicomweb
