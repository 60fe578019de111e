package dtmf

import "errors"

var (
	// ErrInvalidKey is returned by Encode and ParseInfo for a key that is not
	// one of '0'-'9', '*', '#', 'A'-'D'.
	ErrInvalidKey = errors.New("invalid dtmf key")

	// ErrContentType is returned by ParseInfo for a body that is neither
	// application/dtmf-relay nor application/dtmf; the caller may answer the
	// INFO with 415 Unsupported Media Type.
	ErrContentType = errors.New("unsupported dtmf content type")

	// ErrNoSignal is returned by ParseInfo for a dtmf-relay body without a
	// Signal line, or an empty application/dtmf body.
	ErrNoSignal = errors.New("no dtmf signal in body")
)
