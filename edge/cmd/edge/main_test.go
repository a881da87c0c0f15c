package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/freeport"

	"github.com/mocoedge/mocoedge/internal/syncbuf"

	"github.com/mocoedge/mocoedge/edge/api"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/internal/repo"
	"github.com/mocoedge/mocoedge/internal/testmodel"
)

// runCLI runs one edge command line in-process and returns its exit code,
// stdout and stderr.
func runCLI(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	e := &environment{stdout: &stdout, stderr: &stderr, getenv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}}
	code := run(context.Background(), e, args)
	return code, stdout.String(), stderr.String()
}

// build compiles a command of this module into a temporary folder.
func build(t *testing.T, pkg string) string {
	t.Helper()
	root, err := repo.Root(".")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, "./"+pkg)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// vectors parses --json embed output into path -> vector.
func vectors(t *testing.T, out string) map[string][]float32 {
	t.Helper()
	m := map[string][]float32{}
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var l embedLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("embed line %q: %v", sc.Text(), err)
		}
		m[l.Path] = l.Vector
	}
	return m
}

// TestEmbedMatchesTrainer: `edge embed` and `trainer embed --model` give
// the same vectors for the same images (both decode with image/jpeg and
// run the same ONNX file in ONNX Runtime).
func TestEmbedMatchesTrainer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the trainer binary")
	}
	model, _ := testmodel.Export(t, t.TempDir(), testmodel.CIFAR)
	dir := t.TempDir()
	for i, b := range testmodel.CIFARJPEGs(t, 10) {
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d.jpg", i)), b, 0o644)
	}
	trainer := build(t, "trainer/cmd/trainer")
	for _, output := range []string{"features", "embedding"} {
		code, out, stderr := runCLI(t, nil, "embed", "--model", model, "--images", dir, "--output", output, "--json", "--batch", "4")
		if code != 0 {
			t.Fatalf("edge embed: %d %s", code, stderr)
		}
		tout, err := exec.Command(trainer, "embed", "--model", model, "--images", dir, "--output", output, "--json").Output()
		if err != nil {
			t.Fatalf("trainer embed: %v", err)
		}
		edge, tr := vectors(t, out), vectors(t, string(tout))
		if len(edge) != 10 || len(tr) != 10 {
			t.Fatalf("%s: %d and %d vectors, want 10", output, len(edge), len(tr))
		}
		worst := 0.0
		for p, v := range edge {
			w := tr[p]
			if len(w) != len(v) {
				t.Fatalf("%s %s: dims %d and %d", output, p, len(v), len(w))
			}
			for i := range v {
				worst = max(worst, math.Abs(float64(v[i]-w[i])))
			}
		}
		t.Logf("%s: largest difference between edge embed and trainer embed: %.3g", output, worst)
		if worst > 1e-5 {
			t.Errorf("%s: edge embed differs from trainer embed by %.3g", output, worst)
		}
	}
}

// TestConfigVerb checks that the printed default loads back, that a bad
// file names the key, and that the reference is the generated one.
func TestConfigVerb(t *testing.T) {
	code, out, _ := runCLI(t, nil, "config", "--print-default")
	if code != 0 {
		t.Fatal(code)
	}
	p := filepath.Join(t.TempDir(), "edge.yaml")
	os.WriteFile(p, []byte(out), 0o644)
	if _, err := config.Load(p, nil); err != nil {
		t.Fatalf("printed default does not load: %v", err)
	}
	os.WriteFile(p, []byte("mqtt:\n  brokr: tcp://x:1883\n"), 0o644)
	code, _, stderr := runCLI(t, nil, "config", "--config", p)
	if code == 0 || !strings.Contains(stderr, "mqtt.brokr") {
		t.Errorf("unknown key: exit %d, %s", code, stderr)
	}
	code, out, _ = runCLI(t, map[string]string{"MOCOEDGE_MQTT_PASSWORD": "hunter2", "MOCOEDGE_BATCH_MAX": "4"}, "config", "--print", "--http.addr", "127.0.0.1:9999")
	if code != 0 || strings.Contains(out, "hunter2") || !strings.Contains(out, "127.0.0.1:9999") || !strings.Contains(out, "max: 4") {
		t.Errorf("effective config: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, nil, "config", "--reference")
	if code != 0 || out != config.Reference() {
		t.Errorf("reference differs from config.Reference()")
	}
}

// TestUsageErrors: mistakes on the command line exit 2 with one line.
func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"nonsense"},
		{"query"},
		{"query", "--image", "a.jpg", "--id", "3"},
		{"embed", "--model", "m.onnx"},
		{"bench"},
		{"run", "--batch.max", "zero"},
	} {
		code, _, stderr := runCLI(t, nil, args...)
		if code != 2 && !(args[0] == "run" && code == 1) {
			t.Errorf("edge %v: exit %d, want 2 (%s)", args, code, stderr)
		}
		if stderr == "" {
			t.Errorf("edge %v: no message", args)
		}
	}
}

// freeAddr returns a free loopback address.
func freeAddr(t *testing.T) string {
	t.Helper()
	a, err := freeport.Addr()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestDaemonSignals runs the real `edge run` binary on a folder of CIFAR-10
// images with its HTTP API: the CLI queries it, SIGHUP reloads the model,
// SIGTERM drains and exits 0, and the queue it wrote reopens intact.
func TestDaemonSignals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the edge binary")
	}
	bin := build(t, "edge/cmd/edge")
	model, _ := testmodel.Export(t, t.TempDir(), testmodel.CIFAR)
	images := t.TempDir()
	for i, b := range testmodel.CIFARJPEGs(t, 20) {
		os.WriteFile(filepath.Join(images, fmt.Sprintf("%02d.jpg", i)), b, 0o644)
	}
	data := t.TempDir()
	addr := freeAddr(t)
	cfg := fmt.Sprintf(`device_id: signals
data_dir: %s
model:
  path: %s
  providers: [cpu]
http:
  addr: %s
mqtt:
  broker: "off"
sources:
  - name: folder
    kind: files
    path: %s
`, data, model, addr, images)
	cfgPath := filepath.Join(t.TempDir(), "edge.yaml")
	os.WriteFile(cfgPath, []byte(cfg), 0o644)

	// A systemd notify socket: the daemon says READY, pings the watchdog
	// and says STOPPING.
	sock := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var notes syncBuffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			notes.Write(append(buf[:n:n], '\n'))
		}
	}()

	var logs syncBuffer
	cmd := exec.Command(bin, "run", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+sock, "WATCHDOG_USEC=200000")
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	c := api.NewClient(addr)
	deadline := time.Now().Add(60 * time.Second)
	for {
		h, err := c.Health(context.Background())
		if err == nil && h.Queue.Entries == 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon not ready with 20 entries: %+v %v\n%s", h, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, out, stderr := runCLI(t, nil, "query", "--addr", addr, "--image", filepath.Join(images, "03.jpg"), "-k", "3")
	if code != 0 || !strings.Contains(out, "1.0000") || strings.Count(out, "\n") != 4 {
		t.Errorf("edge query: %d\n%s%s", code, out, stderr)
	}
	code, out, _ = runCLI(t, map[string]string{"MOCOEDGE_HTTP_ADDR": addr}, "status")
	if code != 0 || !strings.Contains(out, "folder") || !strings.Contains(out, "provider  cpu") {
		t.Errorf("edge status: %d\n%s", code, out)
	}

	cmd.Process.Signal(syscall.SIGHUP)
	deadline = time.Now().Add(30 * time.Second)
	for !strings.Contains(logs.String(), "model reloaded") {
		if time.Now().After(deadline) {
			t.Fatalf("SIGHUP did not reload:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("edge run after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("edge run did not stop within 30 s of SIGTERM\n%s", logs.String())
	}
	for _, want := range []string{"READY=1", "WATCHDOG=1", "STOPPING=1"} {
		if !strings.Contains(notes.String(), want) {
			t.Errorf("systemd notifications lack %s:\n%s", want, notes.String())
		}
	}
	q, err := keyqueue.Open(filepath.Join(data, "queue"), keyqueue.Options{Capacity: 100_000, Strict: true})
	if err != nil {
		t.Fatalf("queue after SIGTERM: %v", err)
	}
	defer q.Close()
	if q.Len() != 20 {
		t.Errorf("queue holds %d entries after SIGTERM, want 20", q.Len())
	}
}

// TestBenchVerb runs a short `edge bench` and checks the report's shape.
func TestBenchVerb(t *testing.T) {
	model, _ := testmodel.Export(t, t.TempDir(), testmodel.CIFAR)
	code, out, stderr := runCLI(t, nil, "bench", "--model", model, "--batch", "1,2", "--duration", "100ms",
		"--rounds", "1", "--retrieval", "2000", "--providers", "cpu", "--json")
	if code != 0 {
		t.Fatalf("edge bench: %d %s", code, stderr)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("bench JSON: %v\n%s", err, out)
	}
	if len(rep.Inference.Results) != 2 || rep.Retrieval == nil || len(rep.Retrieval.Cases) != 1 {
		t.Fatalf("report: %s", out)
	}
	for _, r := range rep.Inference.Results {
		if r.RawImagesPerSec <= 0 || r.PipelineRatio <= 0 {
			t.Errorf("batch %d: %+v", r.Batch, r)
		}
	}
}

// syncBuffer is a log sink safe for concurrent use.
type syncBuffer = syncbuf.Buffer
