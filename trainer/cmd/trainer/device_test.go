package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/trainer/backend/cuda"
)

// skipIfCUDA skips tests of the no-CUDA paths on a machine that has it.
func skipIfCUDA(t *testing.T) {
	t.Helper()
	t.Setenv(cuda.EnvLibs, t.TempDir())
	if _, err := cuda.Load(cuda.LoadOptions{}); err == nil {
		t.Skip("this machine has the CUDA libraries")
	}
}

var tinyBench = []string{"--arch", "resnet18-cifar", "--width", "0.125", "--batch", "4", "--steps", "1", "--gemm-size", "64", "--json"}

func TestDeviceFlagRejectsUnknownDevice(t *testing.T) {
	for _, verb := range []string{"bench", "pretrain"} {
		args := []string{verb, "--device", "tpu"}
		if verb == "pretrain" {
			args = append(args, "--data", "x", "--out", t.TempDir())
		}
		code, _, errs := runCLI(t, args...)
		if code != 2 || !strings.Contains(errs, `device "tpu": accepted are auto, cpu, cuda`) {
			t.Errorf("%v: exit %d, %q", args, code, errs)
		}
	}
}

func TestDeviceCUDAWithoutLibrariesFailsInOneLine(t *testing.T) {
	skipIfCUDA(t)
	for _, args := range [][]string{
		append([]string{"bench", "--device", "cuda"}, tinyBench...),
		{"pretrain", "--device", "cuda", "--data", filepath.Join(t.TempDir(), "none"), "--out", t.TempDir()},
	} {
		code, out, errs := runCLI(t, args...)
		if code != 1 || out != "" {
			t.Errorf("%v: exit %d, stdout %q; want exit 1 and no output", args[:3], code, out)
		}
		if strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "--device cuda: CUDA libraries not found: missing libcuda") ||
			!strings.Contains(errs, "looked in") {
			t.Errorf("%v: want one line naming the missing libraries and where it looked, got %q", args[:3], errs)
		}
	}
}

func TestDeviceAutoFallsBackToCPU(t *testing.T) {
	skipIfCUDA(t)
	code, out, errs := runCLI(t, append([]string{"bench", "--device", "auto"}, tinyBench...)...)
	if code != 0 || !strings.Contains(out, `"step_img_per_s"`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
	var line string
	for _, l := range strings.Split(errs, "\n") {
		if strings.Contains(l, "CUDA not used, training on the CPU") {
			line = l
		}
	}
	if !strings.Contains(line, "CUDA libraries not found") {
		t.Errorf("want one log line saying why CUDA is not used, got stderr %q", errs)
	}
	// --device cpu does not look for CUDA at all.
	if code, _, errs := runCLI(t, append([]string{"bench", "--device", "cpu"}, tinyBench...)...); code != 0 || strings.Contains(errs, "CUDA") {
		t.Errorf("--device cpu: exit %d, stderr %q", code, errs)
	}
}
