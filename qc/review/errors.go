package review

import "errors"

// Sentinel errors of the package; check them with [errors.Is].
var (
	// ErrNotFound means no review exists for that SEG.
	ErrNotFound = errors.New("review not found")
	// ErrConflict means the review changed since it was read: another
	// move was applied first, or the version the caller expected is not
	// the stored one. Nothing was written.
	ErrConflict = errors.New("review changed concurrently")
	// ErrInvalidAction means the action is unknown, or not possible in
	// the SEG's current state.
	ErrInvalidAction = errors.New("action not allowed in this state")
	// ErrForbidden means the caller lacks the role the action needs.
	ErrForbidden = errors.New("role required")
	// ErrFourEyes means the caller may not act on this SEG because they
	// uploaded it or already reviewed it at an earlier stage.
	ErrFourEyes = errors.New("four-eyes rule")
	// ErrUnauthenticated means the request carries no principal.
	ErrUnauthenticated = errors.New("no authenticated principal")
	// ErrInvalidRequest means a request is malformed: no reason for a
	// return or rejection, a comment too long, a bad filter.
	ErrInvalidRequest = errors.New("invalid review request")
	// ErrInvalidConfig means [Options] are not usable.
	ErrInvalidConfig = errors.New("invalid review configuration")
	// ErrUnsupportedStore means a store location names a kind of store
	// this package does not have.
	ErrUnsupportedStore = errors.New("unsupported review store")
)
