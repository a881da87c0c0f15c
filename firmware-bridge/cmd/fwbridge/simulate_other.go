//go:build !linux

package main

import (
	"context"
	"errors"
	"log/slog"
)

// cmdSimulate needs Linux pseudo-terminals.
func cmdSimulate(context.Context, *options, stdio, *slog.Logger) error {
	return errors.New("simulate needs Linux pseudo-terminals")
}
