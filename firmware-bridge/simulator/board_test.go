package simulator

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
)

func TestNoisyWriterRate(t *testing.T) {
	var buf bytes.Buffer
	w := &noisyWriter{w: &buf, ber: 0.01, rng: rand.New(rand.NewPCG(1, 1))}
	in := make([]byte, 100000)
	if _, err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	flipped := 0
	for _, b := range buf.Bytes() {
		for ; b != 0; b &= b - 1 {
			flipped++
		}
	}
	if flipped < 7000 || flipped > 9000 { // 8000 expected
		t.Fatalf("%d bits flipped of 800000 at 1%%", flipped)
	}
	if in[0] != 0 || bytes.Count(in, []byte{0}) != len(in) {
		t.Fatal("noise changed the caller's buffer")
	}
}

func TestBoardErrors(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	board := New(b, Config{HeartbeatInterval: -1, AckTimeout: 10 * time.Millisecond, Retries: 1})
	go func() { // drain what the board writes
		buf := make([]byte, 4096)
		for {
			if _, err := a.Read(buf); err != nil {
				return
			}
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- board.Run(ctx) }()
	waitBoot(t, board)

	if err := board.Trigger(context.Background(), 1); !errors.Is(err, protocol.ErrTimeout) {
		t.Fatalf("Trigger without a host: %v, want ErrTimeout", err)
	}
	if _, err := board.RebootMidFrame([]byte{1, 2, 3}, 1); err == nil {
		t.Fatal("RebootMidFrame past the last chunk succeeded")
	}
	if _, err := board.SendJPEG(nil); err == nil {
		t.Fatal("empty JPEG sent")
	}
	if err := board.Sensor(1, float32(posInf())); !errors.Is(err, protocol.ErrMalformed) {
		t.Fatalf("infinite sensor value: %v", err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v", err)
	}
	if err := board.Sensor(1, 1); err == nil {
		t.Fatal("write after Run closed the port succeeded")
	}
}

func posInf() float64 { var z float64; return 1 / z }

func TestRebootFailsWaitingEvent(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := a.Read(buf); err != nil {
				return
			}
		}
	}()
	board := New(b, Config{HeartbeatInterval: -1, AckTimeout: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go board.Run(ctx)
	waitBoot(t, board)
	errc := make(chan error, 1)
	go func() { errc <- board.Trigger(context.Background(), 1) }()
	time.Sleep(20 * time.Millisecond)
	if err := board.Reboot(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, ErrRebooted) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting trigger did not fail on reboot")
	}
}

// waitBoot waits until Run has booted the board, so that the boot's reset
// does not race the test.
func waitBoot(t *testing.T, b *Board) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.Stats().Boots == 0 {
		if time.Now().After(deadline) {
			t.Fatal("board did not boot")
		}
		time.Sleep(time.Millisecond)
	}
}
