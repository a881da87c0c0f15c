// Package agenttest starts real edge agents for the tests of the packages
// around the agent (agent, api, the edge CLI): a resolved test
// configuration, an agent running in the background until the test ends,
// and small waiting and file helpers.
package agenttest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/syncbuf"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/internal/testmodel"
)

// LogBuffer collects log lines from several goroutines.
type LogBuffer = syncbuf.Buffer

// Logger logs to the returned buffer and, with -v, to the test log.
func Logger(t testing.TB) (*slog.Logger, *LogBuffer) {
	buf := &LogBuffer{}
	var w io.Writer = buf
	if testing.Verbose() {
		w = io.MultiWriter(buf, os.Stderr)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// Config returns a resolved configuration for a test agent: data in a
// temporary folder, the CPU provider, no HTTP, no MQTT.
func Config(t testing.TB, model string, sources ...config.Source) config.Config {
	t.Helper()
	cfg := config.Default()
	cfg.DeviceID = "test-device"
	cfg.DataDir = t.TempDir()
	cfg.Model.Path = model
	cfg.Model.Providers = []string{"cpu"}
	cfg.Model.Threads = 2
	cfg.HTTP.Addr = ""
	cfg.MQTT.Broker = "off"
	cfg.Queue.Capacity = 1000
	cfg.Sources = sources
	if err := cfg.Resolve(); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Running is an agent running in the background until the test ends.
type Running struct {
	*agent.Agent
	// Log holds everything the agent logged.
	Log  *LogBuffer
	stop context.CancelFunc
	done chan error
}

// Start creates and runs an agent; Stop (or the test's end) stops it.
func Start(t testing.TB, cfg config.Config, opts agent.Options) *Running {
	t.Helper()
	log, buf := Logger(t)
	opts.Logger = log
	a, err := agent.New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &Running{Agent: a, Log: buf, stop: cancel, done: make(chan error, 1)}
	go func() { r.done <- a.Run(ctx) }()
	t.Cleanup(func() { r.Stop(t) })
	return r
}

// Stop ends the agent and checks that Run returned nil.
func (r *Running) Stop(t testing.TB) {
	t.Helper()
	r.stop()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("Run: %v", err)
		}
		close(r.done)
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30 s of cancel")
	}
}

// WaitFor polls cond until it holds or the timeout passes.
func WaitFor(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WriteImages writes CIFAR-10 test JPEGs into dir as 000.jpg, 001.jpg, ...
func WriteImages(t testing.TB, dir string, images [][]byte) []string {
	t.Helper()
	var paths []string
	for i, b := range images {
		p := filepath.Join(dir, fmt.Sprintf("%03d.jpg", i))
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

// ExportCIFAR writes the small CIFAR test model into a temporary folder.
func ExportCIFAR(t testing.TB) string {
	t.Helper()
	p, _ := testmodel.Export(t, t.TempDir(), testmodel.CIFAR)
	return p
}

// Contains reports whether s contains every part.
func Contains(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
