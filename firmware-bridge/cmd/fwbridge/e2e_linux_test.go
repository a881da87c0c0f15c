//go:build linux

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/firmware-bridge/jsonl"
	"github.com/mocoedge/mocoedge/firmware-bridge/simulator"
)

const wait = 10 * time.Second

// lineReader reads JSON lines from a process's stdout in the background.
type lineReader struct {
	lines chan map[string]any
}

func readLines(t *testing.T, r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan map[string]any, 1024)}
	go func() {
		defer close(lr.lines)
		sc := bufio.NewScanner(r)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]any
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Errorf("stdout line %q is not JSON: %v", sc.Text(), err)
				continue
			}
			lr.lines <- m
		}
	}()
	return lr
}

// await returns the first line for which match holds.
func (lr *lineReader) await(t *testing.T, what string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case m, ok := <-lr.lines:
			if !ok {
				t.Fatalf("stdout ended before %s", what)
			}
			if match(m) {
				return m
			}
		case <-timeout:
			t.Fatalf("no %s within %v", what, wait)
		}
	}
}

func event(name string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["event"] == name }
}

func status(state string) func(map[string]any) bool {
	return func(m map[string]any) bool { return m["event"] == "status" && m["state"] == state }
}

// TestSimulateAndRun runs `fwbridge simulate` and `fwbridge run` against each
// other, in process, as a user would in two terminals.
func TestSimulateAndRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	link := filepath.Join(t.TempDir(), "board")
	simOut, simOutW := io.Pipe()
	simDone := make(chan int, 1)
	go func() {
		simDone <- run(ctx, []string{"simulate", "--link", link, "--heartbeat", "100ms", "--trigger-every", "150ms",
			"--button-every", "200ms", "--camera-every", "250ms"}, envOf(), strings.NewReader(""), simOutW, io.Discard)
		simOutW.Close()
	}()
	path, err := bufio.NewReader(simOut).ReadString('\n')
	if err != nil || !strings.HasPrefix(path, "/dev/pts/") {
		t.Fatalf("simulate printed %q, %v", path, err)
	}
	go io.Copy(io.Discard, simOut)
	if target, err := os.Readlink(link); err != nil || target != strings.TrimSpace(path) {
		t.Fatalf("link -> %q, %v", target, err)
	}

	frameDir := t.TempDir()
	mapping := filepath.Join(t.TempDir(), "mapping.json")
	if err := os.WriteFile(mapping, []byte(`{"predictions":[{"label":"cat","leds":[{"id":2,"mode":"on"}]}],
		"buttons":[{"button":0,"press":"short","action":"label","label":"cat"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(ctx)
	defer stopRun()
	stdinR, stdinW := io.Pipe()
	defer stdinW.Close()
	runOut, runOutW := io.Pipe()
	runDone := make(chan int, 1)
	go func() {
		runDone <- run(runCtx, []string{"run", "--port", link, "--heartbeat", "100ms", "--frames", "data",
			"--frame-dir", frameDir, "--mapping", mapping, "--stats-every", "300ms"}, envOf(), stdinR, runOutW, io.Discard)
		runOutW.Close()
	}()
	lines := readLines(t, runOut)

	ready := lines.await(t, "ready", status("ready"))
	if ready["device"] != "sim-0001" || ready["port"] != link {
		t.Fatalf("ready line %v", ready)
	}
	if tr := lines.await(t, "trigger", event("trigger")); tr["source"] != 0.0 || tr["v"] != 1.0 {
		t.Fatalf("trigger line %v", tr)
	}
	btn := lines.await(t, "mapped button", func(m map[string]any) bool {
		return m["event"] == "button" && m["button"] == 0.0 && m["press"] == "short"
	})
	if btn["action"] != "label" || btn["label"] != "cat" {
		t.Fatalf("button line %v", btn)
	}
	frame := lines.await(t, "frame", event("frame"))
	var fl jsonl.FrameLine
	b, _ := json.Marshal(frame)
	if err := json.Unmarshal(b, &fl); err != nil || len(fl.JPEG) != fl.Bytes || fl.JPEG[0] != 0xFF || fl.JPEG[1] != 0xD8 {
		t.Fatalf("frame line %v: %v", frame["file"], err)
	}
	if data, err := os.ReadFile(fl.File); err != nil || string(data) != string(fl.JPEG) {
		t.Fatalf("frame file %s: %v", fl.File, err)
	}
	lines.await(t, "stats", event("stats"))

	fmt.Fprintln(stdinW, `{"cmd":"led","request":"a","id":1,"mode":"blink","on_ms":50,"off_ms":50}`)
	fmt.Fprintln(stdinW, `{"cmd":"led","request":"b","id":9,"mode":"on"}`)
	fmt.Fprintln(stdinW, `{"cmd":"prediction","request":"c","label":"cat","score":0.7}`)
	fmt.Fprintln(stdinW, `{"cmd":"relay","request":"d","id":0,"on":true,"pulse_ms":100}`)
	for _, want := range []struct {
		request string
		ok      bool
	}{{"a", true}, {"b", false}, {"c", true}, {"d", true}} {
		res := lines.await(t, "result "+want.request, func(m map[string]any) bool { return m["event"] == "result" && m["request"] == want.request })
		if res["ok"] != want.ok {
			t.Fatalf("result %v, want ok %v", res, want.ok)
		}
	}

	stopRun()
	lines.await(t, "stopped", status("stopped"))
	if code := <-runDone; code != exitOK {
		t.Fatalf("run exit %d", code)
	}
	cancel()
	if code := <-simDone; code != exitOK {
		t.Fatalf("simulate exit %d", code)
	}
	if _, err := os.Lstat(link); !os.IsNotExist(err) {
		t.Fatalf("simulate left its link: %v", err)
	}
}

// TestSignalStopsRun starts fwbridge run as a process and stops it with
// SIGTERM and SIGINT.
func TestSignalStopsRun(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			boardEnd, host, err := simulator.OpenPTY()
			if err != nil {
				t.Fatal(err)
			}
			defer host.Close()
			board := simulator.New(boardEnd, simulator.Config{HeartbeatInterval: 50 * time.Millisecond})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go board.Run(ctx)

			cmd := exec.Command(os.Args[0], "run", "--port", host.Name(), "--heartbeat", "50ms")
			cmd.Env = append(os.Environ(), "FWBRIDGE_TEST_MAIN=1")
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			defer stdin.Close()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := readLines(t, stdout)
			lines.await(t, "ready", status("ready"))
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			lines.await(t, "stopped", status("stopped"))
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("fwbridge run after %v: %v", sig, err)
				}
			case <-time.After(wait):
				cmd.Process.Kill()
				t.Fatalf("fwbridge run ignored %v", sig)
			}
		})
	}
}
