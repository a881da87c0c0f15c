package protocol

import "fmt"

// cameraHeaderSize is frame id, chunk index and chunk count.
const cameraHeaderSize = 6

// MaxChunkData is the most JPEG bytes one CAMERA_FRAME chunk carries.
const MaxChunkData = MaxPayload - cameraHeaderSize

// CameraChunk is one piece of a JPEG from the board's camera: CAMERA_FRAME,
// 0x0A. Chunks are sent without ACK; an Assembler puts them back together.
type CameraChunk struct {
	// FrameID names the JPEG; all its chunks share it.
	FrameID uint16
	// Index is this chunk's place, 0 <= Index < Count.
	Index uint16
	// Count is how many chunks the JPEG has, at least 1.
	Count uint16
	// Data is 1 to MaxChunkData bytes of the JPEG.
	Data []byte
}

// Type is TypeCameraFrame.
func (m *CameraChunk) Type() Type { return TypeCameraFrame }

func (m *CameraChunk) check() error {
	if m.Count == 0 {
		return malformed(TypeCameraFrame, "chunk count 0")
	}
	if m.Index >= m.Count {
		return malformed(TypeCameraFrame, "chunk index %d not below count %d", m.Index, m.Count)
	}
	if len(m.Data) == 0 || len(m.Data) > MaxChunkData {
		return malformed(TypeCameraFrame, "%d data bytes, want 1..%d", len(m.Data), MaxChunkData)
	}
	return nil
}

// AppendBinary appends the payload to b.
func (m *CameraChunk) AppendBinary(b []byte) ([]byte, error) {
	if err := m.check(); err != nil {
		return b, err
	}
	b = appendU16(appendU16(appendU16(b, m.FrameID), m.Index), m.Count)
	return append(b, m.Data...), nil
}

// MarshalBinary returns the payload.
func (m *CameraChunk) MarshalBinary() ([]byte, error) { return m.AppendBinary(nil) }

// UnmarshalBinary decodes payload into m; Data is a copy.
func (m *CameraChunk) UnmarshalBinary(payload []byte) error {
	r := newPayloadReader(TypeCameraFrame, payload)
	v := CameraChunk{FrameID: r.u16("frame id"), Index: r.u16("chunk index"), Count: r.u16("chunk count")}
	v.Data = append([]byte(nil), r.rest()...)
	if err := r.done(); err != nil {
		return err
	}
	if err := v.check(); err != nil {
		return err
	}
	*m = v
	return nil
}

// SplitJPEG cuts data into the chunks of frame id, each with at most
// chunkSize bytes (1..MaxChunkData). The chunks share data's memory.
func SplitJPEG(id uint16, data []byte, chunkSize int) ([]CameraChunk, error) {
	if chunkSize < 1 || chunkSize > MaxChunkData {
		return nil, fmt.Errorf("protocol: chunk size %d out of range 1..%d", chunkSize, MaxChunkData)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("protocol: frame %d is empty", id)
	}
	n := (len(data) + chunkSize - 1) / chunkSize
	if n > 0xFFFF {
		return nil, fmt.Errorf("%w: frame %d of %d bytes needs %d chunks of %d, max 65535", ErrTooLarge, id, len(data), n, chunkSize)
	}
	chunks := make([]CameraChunk, n)
	for i := range chunks {
		lo := i * chunkSize
		hi := min(lo+chunkSize, len(data))
		chunks[i] = CameraChunk{FrameID: id, Index: uint16(i), Count: uint16(n), Data: data[lo:hi:hi]}
	}
	return chunks, nil
}
