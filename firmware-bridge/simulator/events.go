package simulator

import (
	"context"
	"fmt"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

// Trigger fires trigger input source and waits until the host ACKs it,
// resending as the firmware would.
func (b *Board) Trigger(ctx context.Context, source uint8) error {
	return b.request(ctx, &protocol.Trigger{Source: source, BoardTimeMS: b.UptimeMS()})
}

// Press reports a press of button id and waits until the host ACKs it.
func (b *Board) Press(ctx context.Context, id uint8, kind protocol.PressKind) error {
	return b.request(ctx, &protocol.Button{ID: id, Press: kind})
}

// Sensor sends one reading of sensor id, without ACK.
func (b *Board) Sensor(id uint8, value float32) error {
	return b.send(&protocol.Sensor{ID: id, Value: value})
}

// Log sends one firmware log line, without ACK.
func (b *Board) Log(level protocol.LogLevel, text string) error {
	return b.send(&protocol.Log{Level: level, Text: text})
}

// SendJPEG sends jpeg as CAMERA_FRAME chunks of the configured size under
// the board's next frame id, and returns the id.
func (b *Board) SendJPEG(jpeg []byte) (uint16, error) {
	id, chunks, err := b.chunk(jpeg)
	if err != nil {
		return 0, err
	}
	b.wmu.Lock()
	defer b.wmu.Unlock()
	for i := range chunks {
		if err := b.writeLocked(&chunks[i]); err != nil {
			return id, fmt.Errorf("simulator: frame %d chunk %d: %w", id, i, err)
		}
	}
	return id, nil
}

// SendChunk sends one CAMERA_FRAME chunk as given, for tests that reorder or
// repeat chunks (make them with protocol.SplitJPEG).
func (b *Board) SendChunk(c *protocol.CameraChunk) error { return b.send(c) }

// chunk takes the next frame id and splits jpeg.
func (b *Board) chunk(jpeg []byte) (uint16, []protocol.CameraChunk, error) {
	b.mu.Lock()
	id := b.nextFrame
	b.nextFrame++
	b.mu.Unlock()
	chunks, err := protocol.SplitJPEG(id, jpeg, b.cfg.ChunkSize)
	if err != nil {
		return 0, nil, fmt.Errorf("simulator: %w", err)
	}
	return id, chunks, nil
}
