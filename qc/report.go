package qc

import "time"

// Decision is the outcome of a check.
type Decision string

// Decisions, from best to worst.
const (
	DecisionAccepted             Decision = "accepted"
	DecisionAcceptedWithWarnings Decision = "accepted_with_warnings"
	DecisionRejected             Decision = "rejected"
)

// Severity is how much a finding weighs in the decision.
type Severity string

// Severities. Any error rejects a SEG; warnings alone accept it with
// warnings; info never changes the decision.
const (
	SeverityError   Severity = "error"
	SeverityWarning Severity = "warning"
	SeverityInfo    Severity = "info"
)

// Finding is one result of a rule. Segment and Frame are 0 when the finding
// is not about one segment or frame (frames are 1-based).
type Finding struct {
	Rule     string   `json:"rule"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`
	Segment  int      `json:"segment,omitempty"`
	Frame    int      `json:"frame,omitempty"`
	// Reference is the clause of the standard the rule checks, for example
	// "PS3.3 C.8.20.2".
	Reference string `json:"reference"`
	// FailureReason is the STOW-RS Failure Reason (0008,1197) a rejection
	// because of this finding carries, when it is not the QC policy code;
	// 0 when the rule has none of its own.
	FailureReason int `json:"failure_reason,omitempty"`
}

// ProfileInfo identifies the profile a report was made with.
type ProfileInfo struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// SegmentReport gives the numbers of one segment.
type SegmentReport struct {
	Number int    `json:"number"`
	Label  string `json:"label"`
	Frames int    `json:"frames"`
	Voxels int64  `json:"voxels"`
	// VolumeML is nil when the SEG carries no pixel spacing and slice
	// spacing to compute it from.
	VolumeML *float64 `json:"volume_ml"`
}

// Report is the result of checking one SEG. Its JSON form is the contract of
// the report API and of "qcgate check --format json".
type Report struct {
	SOPInstanceUID    string           `json:"sop_instance_uid"`
	SOPClassUID       string           `json:"sop_class_uid"`
	StudyInstanceUID  string           `json:"study_instance_uid"`
	SeriesInstanceUID string           `json:"series_instance_uid"`
	SourceSeriesUIDs  []string         `json:"source_series_uids"`
	Decision          Decision         `json:"decision"`
	Profile           ProfileInfo      `json:"profile"`
	SegmentationType  SegmentationType `json:"segmentation_type"`
	Segments          []SegmentReport  `json:"segments"`
	Findings          []Finding        `json:"findings"`
	// Agreement compares the SEG's segments with those of the same concept
	// in other SEGs of its source series (rule agreement.*); absent when
	// that rule is off or there was nothing to compare.
	Agreement  []Agreement `json:"agreement,omitempty"`
	CheckedAt  time.Time   `json:"checked_at"`
	DurationMS float64     `json:"duration_ms"`
	// Uploader is the subject of the token the SEG was sent with; empty
	// when authentication is off or the report comes from "qcgate check".
	Uploader string `json:"uploader,omitempty"`
}
