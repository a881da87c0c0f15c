package probe

import "errors"

// Sentinel errors; test with errors.Is.
var (
	// ErrTooFewLabels means a class has fewer than Options.MinPerClass
	// labels, or fewer than two classes have labels. The error names the
	// classes that lack labels.
	ErrTooFewLabels = errors.New("probe: too few labels")
	// ErrInvalidExample wraps every reason Train refuses an example: an
	// empty label, the reserved label Unknown, empty, non-finite or
	// mismatched features.
	ErrInvalidExample = errors.New("probe: invalid example")
	// ErrInvalidOptions wraps every reason Train refuses its Options.
	ErrInvalidOptions = errors.New("probe: invalid options")
	// ErrInvalidFeatures means a feature vector handed to Predict holds a
	// NaN or an infinity.
	ErrInvalidFeatures = errors.New("probe: invalid features")
	// ErrDimMismatch means features do not have the model's dimension.
	ErrDimMismatch = errors.New("probe: feature dimension differs from the model's")
	// ErrCorrupt means a stored probe failed its format, checksum or
	// consistency checks.
	ErrCorrupt = errors.New("probe: corrupt probe file")
	// ErrNoProbe means a Store holds no valid probe (or not the version
	// asked for).
	ErrNoProbe = errors.New("probe: no stored probe")
)
