package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/repo"
)

// TestDemoQuick runs `make demo` in its shortened CI mode (DEMO_QUICK=1)
// with freshly built binaries: every stage runs, the probe on the
// pretrained encoder must beat the random-init baseline, every MQTT message
// type must be seen, and the report must hold its sections.
func TestDemoQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo pretrains an encoder for a few minutes")
	}
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	test, err := repo.CIFAR10("test.tar.gz")
	if err != nil {
		t.Fatal(err)
	}
	bin := t.TempDir()
	build := exec.Command("go", "build", "-o", bin+"/", "./trainer/cmd/trainer", "./edge/cmd/edge")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	sum, err := run(context.Background(), []string{"--bin", bin, "--data", filepath.Dir(test),
		"--out", filepath.Join(dir, "out"), "--report", filepath.Join(dir, "report")},
		&stdout, &stderr, func(k string) string {
			if k == "DEMO_QUICK" {
				return "1"
			}
			return ""
		})
	t.Logf("demo output:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("demo: %v\n%s", err, tail(stderr.String(), 40))
	}
	if !sum.quick || sum.knnPretrained <= sum.knnRandom {
		t.Errorf("kNN %.1f%% pretrained vs %.1f%% random", sum.knnPretrained, sum.knnRandom)
	}
	html, err := os.ReadFile(filepath.Join(dir, "report", "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Confusion matrix", "Retrieval over MQTT", "curves.png", "data:image/jpeg;base64,"} {
		if !strings.Contains(string(html), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "report", "curves.png")); err != nil {
		t.Errorf("report curves: %v", err)
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
