// Package gateway is qcgate's HTTP side: a DICOMweb reverse proxy in front
// of an archive that quality-checks every DICOM Segmentation (SEG) sent to
// it with STOW-RS before the archive stores it.
//
// # Routes
//
// Only DICOMweb resources (PS3.18 10.4 to 10.6) under /dicom-web and
// WADO-URI (PS3.18 9) at /wado reach the upstream; any other path, however
// it is encoded, gets 404 from the gateway. Searches and retrievals are
// passed through and streamed; STOW-RS requests are read part by part:
// parts that are not SEGs are forwarded as they arrive, SEGs are held,
// checked by the qc engine, and forwarded only when accepted. The client
// gets one PS3.18 answer for the whole request.
//
// The gateway also serves the QC reports (/qc/v1/reports), /healthz,
// /readyz and /metrics.
//
// # Use
//
// Load a [Config] with [LoadConfig], build a [Server] with [New], and
// serve its [Server.Handler], or call [Server.ListenAndServe], which shuts
// down gracefully when its context ends.
package gateway
