//go:build linux

package firmware

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/jpeg"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/protocol"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

const wait = 5 * time.Second

// cBoard is the C firmware's Linux port running as a process on a
// pseudo-terminal it created.
type cBoard struct {
	pty   string
	stdin io.WriteCloser
	lines chan string
	cmd   *exec.Cmd

	mu  sync.Mutex
	log []string // every line the board printed
}

// startCBoard builds and starts fwboard --pty with args.
func startCBoard(t *testing.T, args ...string) *cBoard {
	t.Helper()
	bin := boardBinary(t)
	cmd := exec.Command(bin, append([]string{"--pty"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &cBoard{stdin: stdin, lines: make(chan string, 4096), cmd: cmd}
	go func() {
		defer close(b.lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			b.mu.Lock()
			b.log = append(b.log, sc.Text())
			b.mu.Unlock()
			b.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		fmt.Fprintln(stdin, "quit")
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("fwboard: %v\n%s", err, stderr.String())
			}
		case <-time.After(wait):
			cmd.Process.Signal(syscall.SIGKILL)
			t.Error("fwboard did not quit")
		}
	})
	first := b.await(t, "pty ")
	b.pty = strings.TrimPrefix(first, "pty ")
	return b
}

// await returns the next line starting with prefix, skipping others.
func (b *cBoard) await(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case l, ok := <-b.lines:
			if !ok {
				t.Fatalf("fwboard exited before %q", prefix)
			}
			if strings.HasPrefix(l, prefix) {
				return l
			}
		case <-timeout:
			t.Fatalf("fwboard printed no %q within %v", prefix, wait)
		}
	}
}

// do sends a command line and waits for its "ok".
func (b *cBoard) do(t *testing.T, line string) {
	t.Helper()
	if _, err := fmt.Fprintln(b.stdin, line); err != nil {
		t.Fatal(err)
	}
	verb := strings.Fields(line)[0]
	timeout := time.After(wait)
	for {
		select {
		case l := <-b.lines:
			if l == "ok "+verb {
				return
			}
			if strings.HasPrefix(l, "error") {
				t.Fatalf("fwboard %q: %s", line, l)
			}
		case <-timeout:
			t.Fatalf("fwboard did not answer %q", line)
		}
	}
}

// printed reports whether the board printed line at some point.
func (b *cBoard) printed(line string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.log {
		if l == line {
			return true
		}
	}
	return false
}

// stat runs "stats" and returns one counter.
func (b *cBoard) stat(t *testing.T, name string) int {
	t.Helper()
	fmt.Fprintln(b.stdin, "stats")
	line := b.await(t, "stats ")
	for _, f := range strings.Fields(line)[1:] {
		k, v, _ := strings.Cut(f, "=")
		if k == name {
			var n int
			fmt.Sscan(v, &n)
			return n
		}
	}
	t.Fatalf("no %s in %q", name, line)
	return 0
}

// runBridge runs a bridge on path until the test ends. heartbeat is the
// board's heartbeat interval (its --heartbeat): the bridge's watchdog counts
// silence in those intervals.
func runBridge(t *testing.T, path string, s bridge.Sink, frameQueue int, heartbeat time.Duration) *bridge.Bridge {
	t.Helper()
	return bridgetest.Run(t, bridge.Config{
		Port:       bridge.PortSpec{Path: path},
		Heartbeat:  heartbeat,
		FrameQueue: frameQueue,
		Backoff:    bridge.Backoff{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond},
	}, s)
}

// testJPEG returns a detailed w×h JPEG and a file holding it.
func testJPEG(t *testing.T, w, h int, seed uint64) ([]byte, string) {
	t.Helper()
	pic, err := simulator.Picture(w, h, seed)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), fmt.Sprintf("pic-%d.jpg", seed))
	if err := os.WriteFile(path, pic, 0o644); err != nil {
		t.Fatal(err)
	}
	return pic, path
}

// TestCFirmwareWithBridge runs the C firmware on a pseudo-terminal and the
// Go bridge on its other side: the two implementations of the protocol
// talk to each other.
func TestCFirmwareWithBridge(t *testing.T) {
	board := startCBoard(t, "--id", "c-door", "--firmware", "ref-c-9", "--heartbeat", "50", "--chunk", "700")
	s := bridgetest.NewRecorder()
	b := runBridge(t, board.pty, s, 8, 50*time.Millisecond)

	// Handshake.
	ready := s.AwaitStatus(t, bridge.StateReady)
	want := bridge.BoardInfo{Protocol: 1, FirmwareVersion: "ref-c-9", DeviceID: "c-door",
		Capabilities: protocol.CapLED | protocol.CapRelay | protocol.CapButton | protocol.CapTrigger |
			protocol.CapSensor | protocol.CapCamera | protocol.CapLog}
	if ready.Board != want {
		t.Fatalf("board %+v, want %+v", ready.Board, want)
	}

	// Heartbeats both ways.
	deadline := time.Now().Add(wait)
	for b.Stats().HeartbeatsIn < 3 {
		if time.Now().After(deadline) {
			t.Fatal("no heartbeats from the C firmware")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := board.stat(t, "heartbeats_in"); n < 2 {
		t.Fatalf("the C firmware decoded %d heartbeats from the bridge", n)
	}

	// Events, including a press classified from raw GPIO levels.
	board.do(t, "trigger 3")
	if tr := bridgetest.Recv(t, s.Events, "trigger").(bridge.Trigger); tr.Source != 3 || tr.Device != "c-door" || tr.BoardTimeMS == 0 {
		t.Fatalf("trigger %+v", tr)
	}
	board.do(t, "button 1 long")
	if bt := bridgetest.Recv(t, s.Events, "button").(bridge.Button); bt.ID != 1 || bt.Press != protocol.PressLong {
		t.Fatalf("button %+v", bt)
	}
	board.do(t, "level 0 1")
	time.Sleep(80 * time.Millisecond)
	board.do(t, "level 0 0")
	if bt := bridgetest.Recv(t, s.Events, "classified button").(bridge.Button); bt.ID != 0 || bt.Press != protocol.PressShort {
		t.Fatalf("button %+v", bt)
	}
	board.do(t, "sensor 2 21.5")
	if se := bridgetest.Recv(t, s.Events, "sensor").(bridge.Sensor); se.ID != 2 || se.Value != 21.5 {
		t.Fatalf("sensor %+v", se)
	}
	board.do(t, "log warn hello  world")
	if lg := bridgetest.Recv(t, s.Events, "log").(bridge.Log); lg.Level != protocol.LogWarn || lg.Text != "hello  world" {
		t.Fatalf("log %+v", lg)
	}

	// Commands, ACKed by the C firmware.
	ctx := context.Background()
	if err := b.SetLED(ctx, protocol.SetLED{ID: 1, Mode: protocol.LEDBlink, Brightness: 200, OnMS: 100, OffMS: 400}); err != nil {
		t.Fatalf("LED: %v", err)
	}
	var nack *protocol.NackError
	if err := b.SetLED(ctx, protocol.SetLED{ID: 7, Mode: protocol.LEDOn}); !errors.As(err, &nack) || nack.Reason != protocol.ReasonInvalid {
		t.Fatalf("LED 7: %v, want NACK invalid", err)
	}
	if err := b.SetRelay(ctx, protocol.SetRelay{ID: 0, On: true, PulseMS: 100}); err != nil {
		t.Fatalf("relay: %v", err)
	}
	board.do(t, "state")
	if !board.printed("led 1 mode=2 brightness=200 on=100 off=400") {
		t.Fatal("the C firmware did not apply the LED command")
	}
	board.await(t, "relay 0 on=0") // the pulse ended
	if !board.printed("relay 0 on=1") || !board.printed("led 1 level=200") {
		t.Fatal("the C firmware did not drive the outputs")
	}

	// A real JPEG, reassembled byte for byte.
	pic, path := testJPEG(t, 320, 240, 1)
	board.do(t, "jpeg "+path)
	f := bridgetest.Recv(t, s.Frames, "camera frame")
	if !bytes.Equal(f.JPEG, pic) || f.Chunks != (len(pic)+699)/700 || f.Device != "c-door" {
		t.Fatalf("frame %d: %d bytes in %d chunks, sent %d bytes", f.ID, len(f.JPEG), f.Chunks, len(pic))
	}
	if _, err := jpeg.Decode(bytes.NewReader(f.JPEG)); err != nil {
		t.Fatal(err)
	}

	// A reboot: frame ids and uptime start over; the bridge notices.
	board.do(t, "reboot")
	board.do(t, "jpeg "+path)
	if f := bridgetest.Recv(t, s.Frames, "frame after reboot"); f.ID != 0 || !bytes.Equal(f.JPEG, pic) {
		t.Fatalf("frame after reboot: id %d", f.ID)
	}
	deadline = time.Now().Add(wait)
	for b.Stats().Reboots != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("reboot not noticed: %+v", b.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	board.do(t, "trigger 1")
	bridgetest.Recv(t, s.Events, "trigger after reboot")

	st := b.Stats()
	if st.BadFrames.Total() != 0 || st.Duplicates != 0 || st.CameraFrames != 2 || st.Commands != 3 || st.CommandFailures != 1 {
		t.Fatalf("bridge stats %+v", st)
	}
	if n := board.stat(t, "bad_crc") + board.stat(t, "bad_cobs") + board.stat(t, "bad_length"); n != 0 {
		t.Fatalf("the C firmware dropped %d frames from the bridge", n)
	}
}
