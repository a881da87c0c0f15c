//go:build linux

package firmware

import (
	"bytes"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
)

// cpuTime is this process's user and system time so far.
func cpuTime(t *testing.T) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCameraThroughput streams JPEGs from the C firmware (its own process)
// to the bridge (this process) over a pseudo-terminal, paced as a UART at
// 921600 baud would send them and unpaced, and reports frames/s, payload
// bytes/s and the CPU this process spent: the bridge's cost per byte.
func TestCameraThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("measures for a few seconds; skipped with -short")
	}
	pic, path := testJPEG(t, 320, 240, 7)
	tests := []struct {
		name   string
		args   []string
		period time.Duration
	}{
		{"921600 baud", []string{"--baud", "921600"}, 2 * time.Second},
		{"unpaced", nil, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The bridge's watchdog uses the board's heartbeat interval:
			// with a shorter one it would recycle the port whenever this
			// process is starved of CPU for half a second between frames
			// (on a loaded CI machine), and the frame in flight is lost.
			board := startCBoard(t, append([]string{"--heartbeat", "1000"}, tt.args...)...)
			s := bridgetest.NewRecorder()
			b := runBridge(t, board.pty, s, 64, time.Second)
			s.AwaitStatus(t, bridge.StateReady)
			frames, bytesIn := 0, 0
			cpu0, start := cpuTime(t), time.Now()
			for time.Since(start) < tt.period {
				board.do(t, "jpeg "+path)
				board.await(t, "sent ")
				var f bridge.Frame
				select {
				case f = <-s.Frames:
				case <-time.After(bridgetest.Timeout):
					t.Fatalf("frame %d not received within %v; bridge %s, stats %+v", frames+1, bridgetest.Timeout, b.State(), b.Stats())
				}
				if !bytes.Equal(f.JPEG, pic) {
					t.Fatalf("frame %d differs", f.ID)
				}
				frames++
				bytesIn += len(f.JPEG)
			}
			wall, cpu := time.Since(start), cpuTime(t)-cpu0
			st := b.Stats()
			wire := float64(st.BytesIn) // includes the handshake and heartbeats
			t.Logf("%s: %d frames of %d bytes in %v: %.1f frames/s, %.1f KB/s of JPEG (%.1f KB/s on the wire); "+
				"bridge process CPU %v = %.1f%% of one core, %.0f ns per wire byte (race detector: %v)",
				tt.name, frames, len(pic), wall.Round(time.Millisecond), float64(frames)/wall.Seconds(),
				float64(bytesIn)/wall.Seconds()/1000, wire/wall.Seconds()/1000, cpu.Round(time.Millisecond),
				100*cpu.Seconds()/wall.Seconds(), float64(cpu.Nanoseconds())/wire, raceEnabled)
			if st.BadFrames.Total() != 0 || st.IncompleteFrames != 0 || st.DroppedFrames != 0 {
				t.Fatalf("stats %+v", st)
			}
			if strings.HasPrefix(tt.name, "921600") && !raceEnabled && cpu.Seconds()/wall.Seconds() > 0.25 {
				t.Fatalf("the bridge used %.0f%% of a core at 921600 baud", 100*cpu.Seconds()/wall.Seconds())
			}
		})
	}
}
