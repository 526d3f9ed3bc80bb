package dicomweb

// Failure Reason (0008,1197) values (PS3.18 10.5.3, PS3.4 GG.4).
const (
	FailureProcessing                  = 0x0110
	FailureSOPClassNotSupported        = 0x0122
	FailureOutOfResources              = 0xA700
	FailureDataSetDoesNotMatchSOPClass = 0xA900
	FailureCannotUnderstand            = 0xC000
	FailureTransferSyntaxNotSupported  = 0xC122
	FailureQCRejected                  = 0xC0F0
)

// FailureReasonText returns the meaning of a Failure Reason value.
func FailureReasonText(code int) string { return "" }

// StatusFor returns the HTTP status of a STOW-RS answer.
func StatusFor(stored, failed int) int { return 200 }
