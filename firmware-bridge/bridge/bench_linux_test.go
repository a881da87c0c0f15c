//go:build linux

package bridge_test

import (
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/bridge"
	"github.com/mocoedge/mocoedge/firmware-bridge/bridge/bridgetest"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

// BenchmarkCameraOverPTY streams JPEGs from the simulated board through a
// real pseudo-terminal into the bridge, unpaced: the ceiling of the
// serial reader, decoder, reassembly and delivery together (the board's
// encoding runs in the same process and is included). MB/s is JPEG
// payload; a 921600-baud UART carries about 0.09 MB/s.
func BenchmarkCameraOverPTY(b *testing.B) {
	board := bridgetest.Plug(b, simulator.Config{HeartbeatInterval: time.Second})
	rec := bridgetest.NewRecorder()
	cfg := fastConfig(b, board.Path)
	cfg.Heartbeat = time.Second // the board's interval: the watchdog's unit
	br := bridgetest.Run(b, cfg, rec)
	deadline := time.After(wait)
	for br.State() != bridge.StateReady {
		select {
		case <-deadline:
			b.Fatal("bridge not ready")
		case <-rec.Statuses:
		}
	}
	pic := bridgetest.Picture(b, 320, 240, 1)
	b.SetBytes(int64(len(pic)))
	b.ResetTimer()
	start := time.Now()
	n := 0
	for b.Loop() {
		if _, err := board.SendJPEG(pic); err != nil {
			b.Fatal(err)
		}
		select {
		case <-rec.Frames:
		case <-time.After(wait):
			b.Fatal("frame lost")
		}
		n++
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "frames/s")
	if s := br.Stats(); s.BadFrames.Total() != 0 || s.IncompleteFrames != 0 {
		b.Fatalf("stats %+v", s)
	}
}
