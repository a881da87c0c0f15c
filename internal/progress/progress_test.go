package progress

import (
	"bytes"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"
)

func TestLogLinesWhenNotATerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	b := New(f, log, "train", "img", 100, time.Second)
	clock := time.Unix(0, 0)
	b.start, b.last, b.now = clock, clock, func() time.Time { return clock }
	for i := 0; i <= 100; i += 10 {
		clock = clock.Add(500 * time.Millisecond)
		b.Update(i, "loss 1.0")
	}
	b.Done(100, "")
	lines := strings.Count(logs.String(), "\n")
	// 5.5 s of work (100 images: 18.2 img/s) at one line per second, plus Done.
	if lines < 4 || lines > 8 {
		t.Errorf("%d log lines, want about 6:\n%s", lines, logs.String())
	}
	if !strings.Contains(logs.String(), "rate=\"18.2 img/s\"") {
		t.Errorf("rate missing: %s", logs.String())
	}
}

func TestLineRendering(t *testing.T) {
	b := &Bar{label: "epoch 1", unit: "img", total: 200, start: time.Unix(0, 0)}
	got := b.line(50, "loss 2.1", time.Unix(5, 0))
	for _, want := range []string{"epoch 1 [#######", " 25% 50/200 10.0 img/s ETA 15s loss 2.1"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
}

func TestLazyStartsOnFirstReport(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	update, finish := Lazy(f, log, "decode", "img")
	finish(0) // nothing started: no line
	if logs.Len() != 0 {
		t.Fatalf("finish before any report logged %q", logs.String())
	}
	update(10, 10)
	finish(10)
	if !strings.Contains(logs.String(), "decode done") || !strings.Contains(logs.String(), "done=10") {
		t.Errorf("logs %q", logs.String())
	}
}
