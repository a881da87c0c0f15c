package protocol

import (
	"bytes"
	"testing"
	"time"
)

// testJPEG is a made-up byte string long enough for several chunks.
func testJPEG(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i*7)
	}
	return b
}

func split(t *testing.T, id uint16, data []byte, size int) []CameraChunk {
	t.Helper()
	chunks, err := SplitJPEG(id, data, size)
	if err != nil {
		t.Fatal(err)
	}
	return chunks
}

func TestSplitJPEG(t *testing.T) {
	data := testJPEG(2500, 1)
	chunks := split(t, 9, data, 1000)
	if len(chunks) != 3 || len(chunks[2].Data) != 500 || chunks[1].Index != 1 || chunks[0].Count != 3 {
		t.Fatalf("chunks %+v", chunks)
	}
	for _, c := range chunks {
		if _, err := c.MarshalBinary(); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []struct {
		data []byte
		size int
	}{{data, 0}, {data, MaxChunkData + 1}, {nil, 10}, {make([]byte, 0x10000), 1}} {
		if _, err := SplitJPEG(1, bad.data, bad.size); err == nil {
			t.Errorf("SplitJPEG(%d bytes, %d) succeeded", len(bad.data), bad.size)
		}
	}
}

func TestAssemblerOrders(t *testing.T) {
	data := testJPEG(5000, 3)
	tests := []struct {
		name  string
		order []int // indexes into the 5 chunks; -1 repeats the previous one
		dups  uint64
	}{
		{"in order", []int{0, 1, 2, 3, 4}, 0},
		{"reversed", []int{4, 3, 2, 1, 0}, 0},
		{"shuffled", []int{2, 0, 4, 1, 3}, 0},
		{"duplicates", []int{0, 0, 1, 3, 3, 2, 1, 4}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks := split(t, 77, data, 1000)
			a := NewAssembler()
			now := time.Unix(0, 0)
			var got []JPEGFrame
			for _, i := range tt.order {
				now = now.Add(time.Millisecond)
				if f, ok := a.Add(now, &chunks[i]); ok {
					got = append(got, f)
				}
			}
			if len(got) != 1 {
				t.Fatalf("%d frames completed, want 1", len(got))
			}
			f := got[0]
			if !bytes.Equal(f.Data, data) || f.ID != 77 || f.Chunks != 5 || !f.Completed.After(f.Started) {
				t.Fatalf("frame %d, %d chunks, %d bytes", f.ID, f.Chunks, len(f.Data))
			}
			s := a.Stats()
			if s.Frames != 1 || s.Duplicates != tt.dups || s.InFlight != 0 || s.Buffered != 0 || s.Dropped() != 0 {
				t.Fatalf("stats %+v", s)
			}
		})
	}
}

func TestAssemblerSingleChunk(t *testing.T) {
	a := NewAssembler()
	f, ok := a.Add(time.Now(), &CameraChunk{FrameID: 1, Count: 1, Data: []byte{0xFF, 0xD8}})
	if !ok || !bytes.Equal(f.Data, []byte{0xFF, 0xD8}) {
		t.Fatal("single-chunk frame not completed")
	}
}

func TestAssemblerDrops(t *testing.T) {
	t0 := time.Unix(100, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	c := func(id, idx, count uint16, data ...byte) *CameraChunk {
		if len(data) == 0 {
			data = []byte{byte(idx)}
		}
		return &CameraChunk{FrameID: id, Index: idx, Count: count, Data: data}
	}
	type step struct {
		at       time.Time
		chunk    *CameraChunk
		complete bool
	}
	tests := []struct {
		name  string
		opts  []AssemblerOption
		steps []step
		want  AssemblerStats // Chunks and Frames are compared too
	}{
		{
			name: "timeout drops a stalled frame",
			opts: []AssemblerOption{WithFrameTimeout(100 * time.Millisecond)},
			steps: []step{
				{ms(0), c(1, 0, 2), false},
				{ms(150), c(1, 1, 2), false}, // frame 1 expired first; this starts a new one
				{ms(160), c(1, 0, 2), true},
			},
			want: AssemblerStats{Chunks: 3, Frames: 1, Expired: 1},
		},
		{
			name: "progress keeps a frame alive",
			opts: []AssemblerOption{WithFrameTimeout(100 * time.Millisecond)},
			steps: []step{
				{ms(0), c(1, 0, 3), false},
				{ms(90), c(1, 1, 3), false},
				{ms(180), c(1, 2, 3), true},
			},
			want: AssemblerStats{Chunks: 3, Frames: 1},
		},
		{
			name: "oldest evicted past max in flight",
			opts: []AssemblerOption{WithMaxInFlight(2)},
			steps: []step{
				{ms(0), c(1, 0, 2), false},
				{ms(1), c(2, 0, 2), false},
				{ms(2), c(3, 0, 2), false}, // evicts 1
				{ms(3), c(2, 1, 2), true},
				{ms(4), c(1, 1, 2), false}, // 1 starts over
			},
			want: AssemblerStats{Chunks: 5, Frames: 1, Evicted: 1, InFlight: 2, Buffered: 2},
		},
		{
			name: "too many bytes",
			opts: []AssemblerOption{WithMaxFrameBytes(3)},
			steps: []step{
				{ms(0), c(1, 0, 2, 1, 2), false},
				{ms(1), c(1, 1, 2, 3, 4), false},
			},
			want: AssemblerStats{Chunks: 2, Oversize: 1},
		},
		{
			name:  "too many chunks",
			opts:  []AssemblerOption{WithMaxChunks(10)},
			steps: []step{{ms(0), c(1, 0, 11), false}},
			want:  AssemblerStats{Chunks: 1, Oversize: 1},
		},
		{
			name: "count changes: board restarted ids",
			steps: []step{
				{ms(0), c(0, 0, 3), false},
				{ms(1), c(0, 0, 2), false},
				{ms(2), c(0, 1, 2), true},
			},
			want: AssemblerStats{Chunks: 3, Frames: 1, Restarted: 1},
		},
		{
			name: "same index other bytes: board restarted ids",
			steps: []step{
				{ms(0), c(0, 0, 2, 0xAA), false},
				{ms(1), c(0, 0, 2, 0xBB), false},
				{ms(2), c(0, 1, 2, 0xCC), true},
			},
			want: AssemblerStats{Chunks: 3, Frames: 1, Restarted: 1},
		},
		{
			name: "invalid headers",
			steps: []step{
				{ms(0), &CameraChunk{FrameID: 1, Count: 0, Data: []byte{1}}, false},
				{ms(0), &CameraChunk{FrameID: 1, Index: 2, Count: 2, Data: []byte{1}}, false},
				{ms(0), &CameraChunk{FrameID: 1, Count: 1}, false},
			},
			want: AssemblerStats{Chunks: 3, Invalid: 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := NewAssembler(tt.opts...)
			for i, s := range tt.steps {
				if _, ok := a.Add(s.at, s.chunk); ok != s.complete {
					t.Fatalf("step %d: complete = %v, want %v", i, ok, s.complete)
				}
			}
			if got := a.Stats(); got != tt.want {
				t.Fatalf("stats %+v\nwant  %+v", got, tt.want)
			}
		})
	}
}

func TestAssemblerExpireAndReset(t *testing.T) {
	a := NewAssembler(WithFrameTimeout(time.Second))
	t0 := time.Unix(0, 0)
	a.Add(t0, &CameraChunk{FrameID: 1, Count: 2, Data: []byte{1, 2, 3}})
	a.Add(t0.Add(500*time.Millisecond), &CameraChunk{FrameID: 2, Count: 2, Data: []byte{4}})
	if n := a.Expire(t0.Add(1200 * time.Millisecond)); n != 1 {
		t.Fatalf("Expire dropped %d, want 1", n)
	}
	if s := a.Stats(); s.InFlight != 1 || s.Buffered != 1 || s.Expired != 1 {
		t.Fatalf("stats %+v", s)
	}
	a.Reset()
	if s := a.Stats(); s.InFlight != 0 || s.Buffered != 0 || s.Abandoned != 1 || s.Dropped() != 2 {
		t.Fatalf("stats after Reset %+v", s)
	}
}

func TestAssemblerMemoryBound(t *testing.T) {
	const maxBytes, inFlight = 4000, 3
	a := NewAssembler(WithMaxFrameBytes(maxBytes), WithMaxInFlight(inFlight))
	now := time.Unix(0, 0)
	for id := range uint16(200) {
		for idx := range uint16(5) { // never complete: count is 6
			a.Add(now, &CameraChunk{FrameID: id, Index: idx, Count: 6, Data: make([]byte, 900)})
			if s := a.Stats(); s.InFlight > inFlight || s.Buffered > inFlight*maxBytes {
				t.Fatalf("holding %d frames, %d bytes", s.InFlight, s.Buffered)
			}
		}
	}
}
