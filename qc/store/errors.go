package store

import "errors"

// Sentinel errors of the package; check them with [errors.Is].
var (
	// ErrNotFound means no report matches the request.
	ErrNotFound = errors.New("report not found")
	// ErrInvalidFilter means a [Filter] holds a value a store cannot use,
	// for example a negative offset or an unknown decision.
	ErrInvalidFilter = errors.New("invalid report filter")
	// ErrInvalidReport means a report cannot be stored as given, for
	// example because it has no SOP Instance UID.
	ErrInvalidReport = errors.New("invalid report")
	// ErrUnsupportedStore means a store location names a kind of store
	// this build does not have.
	ErrUnsupportedStore = errors.New("unsupported store")
)
