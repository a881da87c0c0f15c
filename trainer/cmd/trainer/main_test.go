package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/repo"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestInspectMatchesTorchvision(t *testing.T) {
	cases := []struct {
		args   []string
		params int
		input  [3]int
	}{
		{[]string{"--arch", "resnet18"}, 11_689_512, [3]int{3, 224, 224}},
		{[]string{"--arch", "resnet50"}, 25_557_032, [3]int{3, 224, 224}},
		{[]string{"--arch", "resnet18-cifar", "--classes", "10"}, 11_173_962, [3]int{3, 32, 32}},
	}
	for _, tc := range cases {
		code, out, errs := runCLI(t, append([]string{"inspect", "--json"}, tc.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, errs)
		}
		var res inspectResult
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %v in %q", tc.args, err, out)
		}
		if res.Params != tc.params || res.Input != tc.input || res.FlopsPerImage <= 0 {
			t.Errorf("%v: %+v, want %d params and input %v", tc.args, res, tc.params, tc.input)
		}
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"inspect", "--arch", "vgg16"}, "accepted are resnet18, resnet18-cifar, resnet34, resnet50"},
		{[]string{"inspect", "--width", "-1"}, "accepted are values in (0, 4]"},
		{[]string{"bench", "--batch", "0"}, "accepted are positive integers"},
		{[]string{"bench", "--arch", "alexnet"}, "accepted are"},
		{[]string{"train"}, "--data is required"},
		{[]string{"inspect", "--nope"}, "flag provided but not defined"},
		{[]string{"frobnicate"}, "unknown verb"},
	}
	for _, tc := range cases {
		code, _, errs := runCLI(t, tc.args...)
		if code != 2 || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errs, tc.want)
		}
		if strings.Count(strings.TrimSpace(errs), "\n") > 0 && !strings.Contains(errs, "Usage:") {
			t.Errorf("%v: want a one-line error, got %q", tc.args, errs)
		}
	}
}

func TestHelpOnEveryVerb(t *testing.T) {
	for _, v := range verbs() {
		if v.Run == nil {
			continue
		}
		code, _, errs := runCLI(t, v.Name, "--help")
		if code != 0 || !strings.Contains(errs, "Usage: trainer "+v.Name) {
			t.Errorf("%s --help: exit %d, %q", v.Name, code, errs)
		}
	}
	if code, out, _ := runCLI(t, "help", "env"); code != 0 || !strings.Contains(out, "MOCOEDGE_BLAS") {
		t.Errorf("help env: exit %d, %q", code, out)
	}
}

func TestBenchJSON(t *testing.T) {
	code, out, errs := runCLI(t, "bench", "--arch", "resnet18-cifar", "--width", "0.125", "--batch", "8", "--steps", "1", "--gemm-size", "256", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"gemm_backend", "gemm_gflops", "step_img_per_s", "step_gflops", "ratio_to_gemm"} {
		if _, ok := res[k]; !ok {
			t.Errorf("bench --json lacks %q: %s", k, out)
		}
	}
}

// cifar returns the path of a CIFAR-10 archive in the shared datasets.
func cifar(t *testing.T, name string) string {
	t.Helper()
	p, err := repo.CIFAR10(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTrainOnRealImages(t *testing.T) {
	code, out, errs := runCLI(t, "train", "--data", cifar(t, "train.tar.gz"), "--eval", cifar(t, "test.tar.gz"),
		"--limit", "256", "--eval-limit", "100", "--width", "0.125", "--batch", "32", "--epochs", "1", "--log-every", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, want := range []string{"held-out accuracy before training", "epoch 1 step     8", "trained 8 steps (256 images)", "held-out accuracy after training"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
