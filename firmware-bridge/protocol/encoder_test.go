package protocol

import (
	"bytes"
	"errors"
	"io"
	"sync"
	"testing"
)

func TestEncoderLeadingDelimiterAndSeq(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	for i := range 300 {
		seq, err := e.WriteMessage(&Heartbeat{UptimeMS: uint32(i)})
		if err != nil {
			t.Fatal(err)
		}
		if seq != uint8(i) {
			t.Fatalf("message %d got seq %d", i, seq)
		}
	}
	if buf.Bytes()[0] != 0 {
		t.Fatal("first byte is not the sync delimiter")
	}
	if bytes.Count(buf.Bytes(), []byte{0}) != 301 {
		t.Fatalf("want 1 sync + 300 delimiters, got %d", bytes.Count(buf.Bytes(), []byte{0}))
	}
	d := NewDecoder(&buf)
	for i := range 300 {
		p, err := d.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if p.Seq != uint8(i) || p.AckRequested || p.Msg.(*Heartbeat).UptimeMS != uint32(i) {
			t.Fatalf("frame %d: %+v", i, p)
		}
	}
}

func TestEncoderRequestAndFrame(t *testing.T) {
	var buf bytes.Buffer
	e := NewEncoder(&buf)
	seq, err := e.WriteRequest(&SetLED{ID: 1, Mode: LEDOn, Brightness: 9})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.WriteFrame(Frame{Type: TypeAck, Seq: 200, Payload: []byte{seq}}); err != nil {
		t.Fatal(err)
	}
	next, _ := e.WriteMessage(&Heartbeat{})
	if next != seq+1 {
		t.Fatalf("WriteFrame moved the counter: next seq %d after %d", next, seq)
	}
	d := NewDecoder(&buf)
	p, _ := d.ReadMessage()
	if !p.AckRequested || p.Seq != seq {
		t.Fatalf("request header %+v", p)
	}
	p, _ = d.ReadMessage()
	if p.Seq != 200 || p.Msg.(*Ack).Seq != seq {
		t.Fatalf("ack %+v", p)
	}
}

func TestEncoderErrors(t *testing.T) {
	e := NewEncoder(io.Discard)
	if _, err := e.WriteMessage(&Button{}); !errors.Is(err, ErrMalformed) {
		t.Fatalf("err = %v, want ErrMalformed", err)
	}
	boom := errors.New("gone")
	e = NewEncoder(failWriter{boom})
	if _, err := e.WriteMessage(&Heartbeat{}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

type failWriter struct{ err error }

func (w failWriter) Write([]byte) (int, error) { return 0, w.err }

// recordWriter keeps each Write separately.
type recordWriter struct {
	mu     sync.Mutex
	writes [][]byte
}

func (w *recordWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, append([]byte(nil), p...))
	return len(p), nil
}

func TestEncoderConcurrentFramesStayWhole(t *testing.T) {
	w := &recordWriter{}
	e := NewEncoder(w)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				if _, err := e.WriteMessage(&Log{Level: LogInfo, Text: string(rune('a'+g)) + string(make([]byte, i))}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	d := NewDecoder(bytes.NewReader(bytes.Join(w.writes, nil)))
	seen := map[uint8]bool{}
	for range 400 {
		p, err := d.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		seen[p.Seq] = true
	}
	if d.Stats().Dropped() != 0 || len(w.writes) != 400 {
		t.Fatalf("dropped %d, writes %d", d.Stats().Dropped(), len(w.writes))
	}
	if len(seen) != 256 {
		t.Fatalf("%d distinct seqs over 400 frames, want all 256", len(seen))
	}
}
