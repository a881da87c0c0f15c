package retrieval

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalidQuery wraps every reason a query is refused: a zero or
	// non-finite vector, k < 1, no model, a bad filter.
	ErrInvalidQuery = errors.New("retrieval: invalid query")
	// ErrDimMismatch means the query's dimension differs from the model's
	// vectors. It also matches ErrInvalidQuery.
	ErrDimMismatch = fmt.Errorf("%w: query dimension differs from the model's vectors", ErrInvalidQuery)
)
