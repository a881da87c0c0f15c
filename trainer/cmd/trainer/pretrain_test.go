package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/trainer/pretrain"
)

// TestPretrainResume stops a tiny run after 3 of its 4 steps, then
// continues it with --resume and nothing else but a longer --epochs: the
// resumed run takes its data, limits and configuration from run.json.
func TestPretrainResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	code, _, errs := runCLI(t, "pretrain", "--data", cifar(t, "train.tar.gz"), "--limit", "64", "--width", "0.0625",
		"--batch", "32", "--queue", "64", "--bn-splits", "4", "--epochs", "2", "--max-steps", "3", "--log-every", "1",
		"--threads", "1", "--out", dir)
	if code != 0 {
		t.Fatalf("first run: exit %d: %s", code, errs)
	}
	spec, err := pretrain.ReadSpec(dir)
	if err != nil || spec.Limit != 64 || spec.Config.Batch != 32 || spec.Config.Width != 0.0625 {
		t.Fatalf("run.json: %+v, %v", spec, err)
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"a new run over it", []string{"pretrain", "--data", spec.Data, "--out", dir}, 1, "--resume"},
		{"two folders", []string{"pretrain", "--resume", dir, "--out", t.TempDir()}, 2, "different run folders"},
		{"no checkpoint", []string{"pretrain", "--resume", t.TempDir()}, 1, "no checkpoint.safetensors"},
		{"another recipe", []string{"pretrain", "--resume", dir, "--recipe", "moco-v2"}, 2, "keeps its recipe"},
		{"another shape", []string{"pretrain", "--resume", dir, "--width", "0.125"}, 1, "width 0.0625 in the checkpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errs := runCLI(t, c.args...)
			if code != c.code || !strings.Contains(errs, c.want) {
				t.Errorf("exit %d, want %d with %q: %s", code, c.code, c.want, errs)
			}
		})
	}

	code, out, errs := runCLI(t, "pretrain", "--resume", dir, "--epochs", "3", "--threads", "1", "--json")
	if code != 0 {
		t.Fatalf("resumed run: exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var sum pretrain.Summary
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &sum); err != nil {
		t.Fatalf("summary: %v\n%s", err, out)
	}
	// 64 images in batches of 32: 2 steps per epoch, 6 in 3 epochs, 3 done.
	if sum.Steps != 3 || sum.Epochs != 3 {
		t.Errorf("resumed run: %+v, want 3 more steps to epoch 3", sum)
	}
	if spec, err := pretrain.ReadSpec(dir); err != nil || spec.Config.Epochs != 3 || spec.Limit != 64 {
		t.Errorf("run.json after the resumed run: %+v, %v", spec, err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"loss"`); n != 6 {
		t.Errorf("metrics.jsonl has %d loss lines, want 6 (3 + 3 resumed)", n)
	}
	// The run's clock continues across the resume.
	last := 0.0
	for i, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r pretrain.Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("metrics line %d: %v", i+1, err)
		}
		if r.Elapsed < last {
			t.Errorf("metrics line %d: seconds %.3f after %.3f: the clock restarted at the resume", i+1, r.Elapsed, last)
		}
		last = r.Elapsed
	}
}
