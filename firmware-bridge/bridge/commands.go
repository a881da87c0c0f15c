package bridge

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// SetLED sends cmd as a request and waits, at most the command timeout,
// for the board's ACK. See Commander for the errors.
func (b *Bridge) SetLED(ctx context.Context, cmd protocol.SetLED) error {
	return b.command(ctx, &cmd, protocol.CapLED, fmt.Sprintf("LED %d %s", cmd.ID, cmd.Mode))
}

// SetRelay sends cmd as a request and waits, at most the command timeout,
// for the board's ACK. See Commander for the errors.
func (b *Bridge) SetRelay(ctx context.Context, cmd protocol.SetRelay) error {
	what := fmt.Sprintf("relay %d off", cmd.ID)
	if cmd.On {
		what = fmt.Sprintf("relay %d on", cmd.ID)
	}
	return b.command(ctx, &cmd, protocol.CapRelay, what)
}

// command checks m, then sends it to a board that has capability need.
func (b *Bridge) command(ctx context.Context, m protocol.Message, need protocol.Capability, what string) error {
	if _, err := m.MarshalBinary(); err != nil {
		return fmt.Errorf("bridge: %s: %w", what, err)
	}
	b.mu.Lock()
	link, ready, board := b.link, b.ready, b.board
	b.mu.Unlock()
	if link == nil || !ready {
		return fmt.Errorf("bridge: %s: %w", what, ErrNotConnected)
	}
	if !board.Capabilities.Has(need) {
		return fmt.Errorf("bridge: %s: %w: board %q announces %v", what, ErrUnsupported, board.DeviceID, CapabilityNames(board.Capabilities))
	}
	b.count.commands.Add(1)
	ctx, cancel := context.WithTimeout(ctx, b.cfg.CommandTimeout)
	defer cancel()
	if err := link.Request(ctx, m); err != nil {
		b.count.commandFailures.Add(1)
		b.log.Warn("command failed", slog.String("command", what), slog.Any("err", err))
		return fmt.Errorf("bridge: %s: %w", what, err)
	}
	b.log.Debug("command ACKed", slog.String("command", what))
	return nil
}

// Compile-time check that *Bridge is a Commander.
var _ Commander = (*Bridge)(nil)
