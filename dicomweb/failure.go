package dicomweb

import (
	"fmt"
	"net/http"
)

// Failure Reason (0008,1197) values of a STOW-RS answer. PS3.18 I.2.2
// (Table I.2-2) defines the first six, three of them as ranges; it leaves
// other values to the implementation, to be documented in its conformance
// statement. The last two are such values of qcgate.
const (
	// FailureProcessing (0110H): a general failure in processing the
	// instance (PS3.18 Table I.2-2). Orthanc 1.10 also answers it for an
	// instance of another study than the request URL's.
	FailureProcessing = 0x0110
	// FailureSOPClassNotSupported (0122H): the origin server does not
	// support the instance's SOP Class (PS3.18 Table I.2-2).
	FailureSOPClassNotSupported = 0x0122
	// FailureOutOfResources (A700H, range A7xx): the instance was refused
	// for lack of resources (PS3.18 Table I.2-2); qcgate answers it for a
	// part over its size limit.
	FailureOutOfResources = 0xA700
	// FailureDataSetDoesNotMatchSOPClass (A900H, range A9xx): the instance
	// does not conform to its SOP Class (PS3.18 Table I.2-2); qcgate answers
	// it for a SEG that violates the Segmentation IOD (PS3.3 A.51).
	FailureDataSetDoesNotMatchSOPClass = 0xA900
	// FailureCannotUnderstand (C000H, range Cxxx): some data elements could
	// not be understood (PS3.18 Table I.2-2); qcgate answers it for a part
	// that is not a DICOM file or whose file meta cannot be read.
	FailureCannotUnderstand = 0xC000
	// FailureTransferSyntaxNotSupported (C122H): the instance's Transfer
	// Syntax is not supported (PS3.18 Table I.2-2).
	FailureTransferSyntaxNotSupported = 0xC122
	// FailureStudyInstanceUIDMismatch (C409H): the instance's Study Instance
	// UID differs from the study of the request URL. PS3.18 10.5.3 (Table
	// 10.5.3-1) names this mismatch as a cause of 409 but Table I.2-2 has no
	// value for it; C409H, in the Cxxx range, is the value dcm4chee-arc
	// answers, so clients that know one know the other.
	FailureStudyInstanceUIDMismatch = 0xC409
	// FailureQCRejected (C0F0H): qcgate's quality check rejected the SEG
	// under the active profile's policy. The value is in the implementation
	// specific Cxxx range (PS3.18 I.2.2, PS3.7 C); the report behind the
	// verdict is named in the answer's Warning header.
	FailureQCRejected = 0xC0F0
)

// Warning Reason (0008,1196) values of a STOW-RS answer (PS3.18 I.2.1,
// Table I.2-1). qcgate does not use them for QC warnings, whose meaning is
// not one of these.
const (
	// WarningCoercion (B000H): the origin server modified one or more data
	// elements of the instance.
	WarningCoercion = 0xB000
	// WarningDataSetDoesNotMatchSOPClass (B007H): the instance was stored
	// though it does not match its SOP Class.
	WarningDataSetDoesNotMatchSOPClass = 0xB007
	// WarningElementsDiscarded (B006H): the origin server discarded some
	// data elements of the instance.
	WarningElementsDiscarded = 0xB006
)

// FailureReasonText returns the documented meaning of a Failure Reason
// value: exact values first, then the ranges of PS3.18 Table I.2-2.
func FailureReasonText(code int) string {
	switch code {
	case FailureProcessing:
		return "processing failure"
	case FailureSOPClassNotSupported:
		return "SOP class not supported"
	case FailureTransferSyntaxNotSupported:
		return "transfer syntax not supported"
	case FailureStudyInstanceUIDMismatch:
		return "study instance UID does not match the study of the request"
	case FailureQCRejected:
		return "rejected by the quality check policy"
	}
	switch code & 0xFF00 {
	case 0xA700:
		return "refused: out of resources"
	case 0xA900:
		return "data set does not match SOP class"
	}
	if code&0xF000 == 0xC000 {
		return "cannot understand"
	}
	return fmt.Sprintf("unknown failure reason %04XH", code)
}

// WarningReasonText returns the documented meaning of a Warning Reason value
// (PS3.18 Table I.2-1).
func WarningReasonText(code int) string {
	switch code {
	case WarningCoercion:
		return "coercion of data elements"
	case WarningDataSetDoesNotMatchSOPClass:
		return "data set does not match SOP class"
	case WarningElementsDiscarded:
		return "elements discarded"
	}
	return fmt.Sprintf("unknown warning reason %04XH", code)
}

// StatusFor returns the HTTP status of a STOW-RS answer from the number of
// instances stored and failed (PS3.18 10.5.3, Table 10.5.3-1): 200 when all
// were stored, 202 when some were and some failed, 409 when none was stored.
// With nothing stored and nothing failed the request held no instance, and
// the answer is 400. A request the gateway cannot read at all is the
// caller's 400, 413 or 415.
func StatusFor(stored, failed int) int {
	switch {
	case stored > 0 && failed == 0:
		return http.StatusOK
	case stored > 0:
		return http.StatusAccepted
	case failed > 0:
		return http.StatusConflict
	}
	return http.StatusBadRequest
}
