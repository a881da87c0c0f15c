package infer

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/models/onnxrun"
)

func TestCheckOutput(t *testing.T) {
	unit := []float32{0.6, 0.8}
	cases := []struct {
		name string
		out  onnxrun.Output
		msg  string
	}{
		{"good", onnxrun.Output{Features: []float32{1, 2, 3}, Embedding: unit}, ""},
		{"zero embedding row", onnxrun.Output{Features: []float32{0, 0, 0}, Embedding: []float32{0, 0}}, ""},
		{"short", onnxrun.Output{Features: []float32{1, 2}, Embedding: unit}, "outputs of 2 and 2 values, want 1×3 and 1×2"},
		{"nan feature", onnxrun.Output{Features: []float32{1, float32(math.NaN()), 3}, Embedding: unit}, "features value 1 is NaN"},
		{"inf embedding", onnxrun.Output{Features: []float32{1, 2, 3}, Embedding: []float32{float32(math.Inf(1)), 0}}, "embedding value 0 is +Inf"},
		{"not normalised", onnxrun.Output{Features: []float32{1, 2, 3}, Embedding: []float32{3, 4}}, "embedding row 0 has length 5"},
	}
	for _, tc := range cases {
		err := checkOutput(tc.out, 1, 3, 2)
		if (tc.msg == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.msg)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.msg)
		}
	}
}

func TestLatencyWindow(t *testing.T) {
	var w window
	if l := w.snapshot(); l != (Latency{}) {
		t.Fatalf("empty window: %+v", l)
	}
	for i := 1; i <= 100; i++ {
		w.add(time.Duration(i) * time.Millisecond)
	}
	l := w.snapshot()
	if l.Count != 100 || l.P50 != 50*time.Millisecond || l.P95 != 95*time.Millisecond || l.P99 != 99*time.Millisecond || l.Max != 100*time.Millisecond {
		t.Errorf("1..100 ms: %+v", l)
	}
	// The window slides: after latencyWindow samples of 1s, the old ones
	// are gone from the percentiles but not from Count and Max.
	for range latencyWindow {
		w.add(time.Second)
	}
	l = w.snapshot()
	if l.P50 != time.Second || l.Count != 100+latencyWindow || l.Max != time.Second {
		t.Errorf("after sliding: %+v", l)
	}
	cases := []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {50, 2}, {99, 3}, {100, 3}}
	for _, tc := range cases {
		if got := percentile([]time.Duration{1, 2, 3}, tc.p); got != tc.want {
			t.Errorf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
		}
	}
}
