package main

import (
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/internal/onnxrt"
	"github.com/mocoedge/mocoedge/trainer/backend/cuda"
)

// setting is one environment variable the trainer reads.
type setting struct {
	name, def, doc string
}

// envSettings is the one list of the trainer's environment variables; `trainer
// help env` and the README's table come from it.
func envSettings() []setting {
	return []setting{
		{blas.EnvBackend, "auto", "GEMM backend: auto (OpenBLAS, else pure-Go gonum), openblas or gonum"},
		{blas.EnvOpenBLASLib, "libopenblas.so.0", "path of the OpenBLAS shared library"},
		{"MOCOEDGE_THREADS", "all cores", "threads for the engine's kernels and OpenBLAS (the --threads flag wins)"},
		{cuda.EnvLibs, "the usual places", "':'-separated folders or files holding libcuda, cuBLAS(Lt), cuDNN and NVRTC, searched first (--device auto|cuda)"},
		{onnxrt.EnvLibrary, "third_party/onnxruntime/...", "path of libonnxruntime.so (fetched by deploy/fetch-onnxruntime.sh)"},
	}
}

// settings are the values read from the environment.
type settings struct {
	blas    blas.Options
	cuda    cuda.LoadOptions // zero: the process environment and the usual places
	threads int
}

func settingsFromEnv() settings {
	s := settings{blas: blas.OptionsFromEnv()}
	if v, err := strconv.Atoi(os.Getenv("MOCOEDGE_THREADS")); err == nil && v > 0 {
		s.threads = v
	}
	return s
}

func printEnv(w io.Writer) {
	fmt.Fprintln(w, "Environment variables (flags override them):")
	for _, s := range envSettings() {
		fmt.Fprintf(w, "  %-22s default %-28s %s\n", s.name, s.def, s.doc)
	}
}
