// Package gateway is qcgate's HTTP side: a DICOMweb reverse proxy in front
// of an archive that quality-checks every DICOM Segmentation (SEG) sent to
// it with STOW-RS before the archive stores it. It is the only package of
// qcgate that uses gin and that logs.
//
// # Routes
//
// Only DICOMweb resources (PS3.18 10.4 to 10.6) under /dicom-web and
// WADO-URI (PS3.18 9) at /wado reach the upstream. Paths are checked on
// their raw form against the resource patterns (UIDs, frame lists, bulk
// data tags), so an encoded slash or dot, a dot segment or a double slash
// never reaches another resource: any other path, Orthanc's REST API
// included, gets 404 from the gateway. Searches and retrievals (GET, HEAD)
// are passed through and streamed both ways; POST is accepted only on
// /dicom-web/studies[/{study}].
//
// The gateway also serves the QC reports (GET /qc/v1/reports/{uid} and
// GET /qc/v1/reports), /healthz, /readyz and /metrics.
//
// # Pass-through
//
// The client's Authorization, Cookie, Expect and forwarding headers never go
// upstream; the gateway sends its own HTTP Basic credentials and a
// Forwarded header naming itself, from which Orthanc builds the absolute
// URLs of its answers. URLs of the upstream's own root left in JSON and XML
// answers are rewritten to the gateway's as they stream (a gzip answer is
// decompressed for that). QIDO-RS queries are repaired for Orthanc 1.10
// (dicomweb.RepairQuery).
//
// # STOW-RS
//
// A STOW-RS request is read part by part as it arrives. A part that is not
// a SEG is forwarded at once into one upstream STOW-RS request, which
// streams once its body passes 1 MiB (a smaller one is sent whole, with a
// Content-Length, when the client's body ends);
// a SEG (either SOP Class UID of its file meta or data set names one) is
// held in memory, up to max_seg_part_bytes, until the body ends. A SEG
// whose declared Pixel Data length passes that limit is refused (413)
// before its pixels are read; one of undefined length when the bytes read
// pass it. All requests together hold at most max_held_bytes of SEGs: a
// SEG that finds no room within held_wait fails alone with Failure Reason
// A700 (out of resources), the DICOM answer to a full server (PS3.18
// 10.5.3, PS3.4 Table B.2-1), rather than a 503 that would fail the whole
// request. max_request_bytes counts a gzip body after decompression too,
// and a body that sends nothing for body_idle_timeout gets 408. Then each
// SEG is checked by the qc engine against its source images: those sent in
// the same request, else the upstream's WADO-RS metadata of the referenced
// series (cached by series UID). Accepted SEGs follow the other parts in
// the same upstream request, or go through Orthanc's REST API when
// seg_store is orthanc_rest; rejected ones are never sent.
//
// The client gets one PS3.18 answer (10.5.3): 200 when every instance is
// stored, 202 for a mix, 409 when none is, 400 for a malformed request,
// 408 for a body that stalled, 413 over a size limit, 415 for a media type the gateway cannot inspect,
// 502 or 504 when the upstream failed. Each refused part is an item of
// Failed SOP Sequence with a Failure Reason (dicomweb/failure.go), and a
// Warning: 299 header says why, with the report's URL for a SEG. What the
// answer calls stored is what the upstream holds: instances its answer
// does not list are looked up, and so are the SEGs it lists, since Orthanc
// lists instances that its own filters dropped. A body that breaks off
// aborts the upstream request; the answer then lists what the upstream
// holds anyway.
//
// Every checked SEG's report is kept in the report store, with whether the
// archive holds the SEG, and a stored SEG is tagged in Orthanc (user
// metadata QCDecision and QCReport) after the answer.
//
// # Use
//
// Load a [Config] with [LoadConfig], build a [Server] with [New], and
// serve its [Server.Handler], or call [Server.ListenAndServe], which shuts
// down gracefully when its context ends; then call [Server.Close].
//
// # Authentication
//
// Every route but /healthz and /readyz (and /metrics with
// auth.metrics_public) needs a bearer token in the Authorization header,
// verified before the path is looked at, so an anonymous client gets 401
// for any path. Each route then requires a role: viewer for QIDO-RS,
// WADO-RS, WADO-URI and the report API, annotator for STOW-RS, auditor for
// /metrics; routes added later declare theirs with the authenticate and
// requireRole middlewares. A missing or bad token is answered 401 with a
// WWW-Authenticate challenge, a missing role 403. Each client, the token's
// subject or else its address, has a token bucket (rate_limit, rate_burst):
// over it the answer is 429 with Retry-After, never for a QC verdict.
//
// # Projects
//
// /projects/{name}/dicom-web/... and /projects/{name}/wado serve the same
// resources as /dicom-web and /wado, and choose the QC profile of that
// project for SEGs sent there; an unknown project is 404.
//
// # Limits
//
// Source pixels for the boundary.air rule are not fetched: with that rule
// on, its check is reported skipped. Retrieve URLs in answers to project
// requests point at /dicom-web, not at the project's path.
package gateway
