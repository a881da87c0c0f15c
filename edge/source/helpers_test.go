package source

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/jpeg"
	"image/png"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/internal/repo"
)

// testLogger logs into the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// running is a Hub whose Run goroutine the test stops at cleanup.
type running struct {
	*Hub
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// stop ends Run and waits for it.
func (r *running) stop(t *testing.T) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return 10 s after its context ended")
		}
	})
}

// startHub makes a Hub of specs with quick back-offs and runs it until the
// test ends.
func startHub(t *testing.T, specs []config.Source, opts ...Option) *running {
	t.Helper()
	opts = append([]Option{WithLogger(testLogger(t)), WithBackoff(20*time.Millisecond, 100*time.Millisecond)}, opts...)
	h, err := New(specs, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Hub: h, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- h.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	waitFor(t, time.Second, "Run to start", func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.started
	})
	return r
}

// stats returns the Stats of the named source.
func stats(t *testing.T, h *Hub, name string) Stats {
	t.Helper()
	for _, s := range h.Stats() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no stats for %q", name)
	return Stats{}
}

// waitFor polls cond until it holds or the timeout passes.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: still waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// next takes a frame with a timeout.
func next(t *testing.T, h *Hub, timeout time.Duration) Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	f, err := h.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return f
}

// noFrame checks that no frame arrives within d.
func noFrame(t *testing.T, h *Hub, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	f, err := h.Next(ctx)
	if err == nil {
		t.Fatalf("unexpected frame %d from %s (%s)", f.Seq, f.Source, f.Path)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrEnded) {
		t.Fatalf("Next: %v", err)
	}
}

// cifar returns the first n JPEGs of the CIFAR-10 test split, read from
// the shared archive in place.
func cifar(t *testing.T, n int) []repo.ArchiveFile {
	t.Helper()
	files, err := repo.CIFAR10Files("test.tar.gz", n)
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// writeFile writes data to dir/name, making folders.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// decodeRGB decodes a JPEG or PNG into packed RGB24.
func decodeRGB(t *testing.T, data []byte) (rgb []byte, w, h int) {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	b := img.Bounds()
	rgb = make([]byte, 0, b.Dx()*b.Dy()*3)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			rgb = append(rgb, byte(r>>8), byte(g>>8), byte(bl>>8))
		}
	}
	return rgb, b.Dx(), b.Dy()
}

// toPNG re-encodes a JPEG as PNG.
func toPNG(t *testing.T, jpg []byte) []byte {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(jpg))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// meanAbsDiff is the mean absolute difference of two equal-length byte
// slices.
func meanAbsDiff(a, b []byte) float64 {
	var sum int
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		sum += d
	}
	return float64(sum) / float64(len(a))
}
