// Package dicomweb holds the DICOMweb pieces qcgate needs on both sides of
// the gateway, with plain net/http types. It does not log: it returns errors
// that wrap the sentinels of errors.go.
//
// # Multipart
//
// STOW-RS requests are multipart/related bodies (PS3.18 8.6, RFC 2387).
// [ParseSTOWMediaType] and [ParseMediaType] read the Content-Type header,
// quoted or not, and [NewPartReader] streams the parts of a body one at a
// time, so that a gateway can forward a part while it arrives. A body cut in
// the middle gives an error wrapping [ErrTruncated]; part headers and the
// number of parts are bounded by [PartLimits]. [NewStowWriter] writes the
// upstream side of a STOW-RS request.
//
// # DICOM JSON
//
// [Dataset] and [Attribute] are the DICOM JSON Model (PS3.18 F.2), decoded
// from QIDO-RS answers and WADO-RS metadata with [DecodeDatasets]; numbers
// sent as JSON numbers or as strings read the same through the accessors.
// [EncodeNativeXML] and [DecodeNativeXML] cover the Native DICOM Model
// (PS3.19 A.1) as far as STOW-RS answers need it.
//
// # STOW-RS answer
//
// [StoreResponse] is the Store Instances Response Module (PS3.18 10.5.3 and
// Annex I), parsed from an upstream's answer with [ParseStoreResponse] and
// written as DICOM JSON or XML. The Failure Reason values qcgate answers,
// with their sources in the standard, are in failure.go; [StatusFor] picks
// the HTTP status of an answer from the counts of stored and failed
// instances.
//
// # Upstream
//
// [Client] talks to an upstream DICOMweb server: WADO-RS series metadata
// ([Client.SeriesMetadata]), QIDO-RS searches ([Client.Search]) and STOW-RS
// uploads ([Client.Store]), streamed and with gzip answers decoded. It maps
// transport failures to [ErrUpstreamUnreachable] and [ErrUpstreamTimeout]
// and unexpected statuses to [StatusError]. UIDs are checked
// ([ValidUID]) before they go into an upstream path.
//
// [RepairQuery] rewrites a QIDO-RS query so that Orthanc 1.10, which does
// not percent-decode query values, matches what the client asked for.
// [Client.OrthancSetMetadata] and [Client.OrthancMetadata] use Orthanc's own
// REST API, not DICOMweb, to tag instances.
package dicomweb
