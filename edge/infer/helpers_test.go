package infer_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/syncbuf"

	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/preprocess"
	"github.com/mocoedge/mocoedge/internal/testmodel"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// modelSpec describes a test model.
type modelSpec = testmodel.Spec

// cifarSpec is a small CIFAR model (resnet18-cifar x0.25, 32x32).
var cifarSpec = testmodel.CIFAR

// exportModel writes spec's model and manifest into dir.
func exportModel(t testing.TB, dir string, spec modelSpec) (string, *manifest.Manifest) {
	t.Helper()
	return testmodel.Export(t, dir, spec)
}

// exportModelWith is exportModel with edit applied to the parameters first.
func exportModelWith(t testing.TB, dir string, spec modelSpec, edit func(params []float32)) (string, *manifest.Manifest) {
	t.Helper()
	return testmodel.ExportWith(t, dir, spec, edit)
}

// cifarJPEGs returns the first n JPEG files of the CIFAR-10 test archive.
func cifarJPEGs(t testing.TB, n int) [][]byte { return testmodel.CIFARJPEGs(t, n) }

// pixels preprocesses images for in, back to back.
func pixels(t testing.TB, in manifest.Input, images [][]byte) []float32 {
	t.Helper()
	p, err := preprocess.New(in)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(images)*p.Len())
	if err := p.Batch(context.Background(), x, images); err != nil {
		t.Fatal(err)
	}
	return x
}

// logBuffer is a log sink safe for concurrent use.
type logBuffer = syncbuf.Buffer

// testLogger logs to the returned buffer (and to the test's log with -v).
func testLogger(t testing.TB) (*slog.Logger, *logBuffer) {
	buf := &logBuffer{}
	return slog.New(slog.NewTextHandler(io.MultiWriter(buf, tWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// tWriter writes to t.Log.
type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// newEngine starts an engine on path with the CPU provider and 2 threads
// unless opts say otherwise, closed at the end of the test.
func newEngine(t testing.TB, path string, opts ...infer.Option) *infer.Engine {
	t.Helper()
	log, _ := testLogger(t)
	all := append([]infer.Option{infer.WithProviders(infer.ProviderCPU), infer.WithThreads(2), infer.WithLogger(log)}, opts...)
	e, err := infer.New(context.Background(), path, all...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return e
}

// sha256Hex is the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
