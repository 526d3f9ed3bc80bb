// Package review runs the human review of checked segmentations: the
// stages a SEG passes after automated QC before it may enter a training
// set, who may move it, and the record of every move.
//
// # States
//
// A SEG the gateway stored after automated QC starts in [StatePeerReview].
// A reviewer approves it to [StateSeniorQA]; a senior QA reviewer approves
// it to [StateAudit] when the random audit draws it, else to
// [StateApproved]; an auditor approves an audited SEG to [StateApproved].
// From each of the three review states a SEG can be returned for rework
// ([StateReturned]) or rejected ([StateRejected]), always with a reason. A
// corrected SEG that replaces an earlier one links to it as its next
// version, and the earlier one becomes [StateSuperseded].
//
// # Rules
//
// Each action needs a role of package auth ([RequiredRole]). Four eyes: the
// uploader never reviews their own SEG, the senior QA reviewer is not the
// peer reviewer, and the auditor is neither of them. Every move appends an
// [Entry] to the SEG's trail, which is never changed or deleted; both
// stores refuse updates and deletes of the trail table.
//
// # Concurrency
//
// Every [Review] carries a version. A store applies a move only when the
// stored version is still the one the move was computed from (UPDATE ...
// WHERE version = ?); otherwise it fails with [ErrConflict], which the
// gateway answers with 409. Several gateway replicas can therefore share
// one PostgreSQL database.
//
// # Archive
//
// When an [Archive] is configured, each new state is also written to the
// archive (Orthanc user metadata), and a SEG rejected after storage is
// rejected the way PS3.3 C.17.6 provides: a Key Object Selection document
// titled (113001, DCM, "Rejected for Quality Reasons") that references it
// is stored next to it ([BuildRejectionKOS]).
package review
