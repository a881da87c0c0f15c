package weights

import "errors"

// ErrMismatch is wrapped when the tensors in a file do not fit the
// architecture they are loaded into: a tensor missing, unexpected or of
// another shape. The message names the tensors and both shapes.
var ErrMismatch = errors.New("state dict does not match the architecture")

// ErrMetadata is wrapped when a file lacks the metadata that says which
// architecture it holds, or that metadata is malformed.
var ErrMetadata = errors.New("bad architecture metadata")

// ErrLayout is wrapped when a State's buffers do not have the sizes its
// architecture needs.
var ErrLayout = errors.New("state buffers do not fit the architecture")
