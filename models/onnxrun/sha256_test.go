package onnxrun_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxrun"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

// TestWithSHA256 opens a model only when its bytes hash to the expected sum.
func TestWithSHA256(t *testing.T) {
	tc := netCase{"resnet18-cifar", weights.HeadNone, 0, 0.125, 32, randomInit}
	path, _ := export(t, engine.StateOf(prepare(t, tc, 1)), 32)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	good := hex.EncodeToString(sum[:])
	bad := strings.Repeat("0", 64)
	cases := []struct {
		name string
		sum  string
		want error
	}{
		{"matching sum", good, nil},
		{"no sum given", "", nil},
		{"other sum", bad, manifest.ErrHash},
	}
	for _, c := range cases {
		s, err := onnxrun.Open(path, onnxrun.WithSHA256(c.sum))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if err == nil {
			s.Close()
		} else if !strings.Contains(err.Error(), good) || !strings.Contains(err.Error(), c.sum) {
			t.Errorf("%s: %v does not name both sums", c.name, err)
		}
	}
}
