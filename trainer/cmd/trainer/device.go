package main

import (
	"fmt"

	"github.com/mocoedge/mocoedge/trainer/engine"

	"github.com/mocoedge/mocoedge/trainer/backend/cuda"
)

// deviceFlagDoc is the --device flag's help line.
const deviceFlagDoc = "where training runs: auto (CUDA when its libraries and a GPU are there, else the CPU), cpu or cuda"

// pickDevice resolves --device for a verb: nil means the verb runs on the
// CPU; otherwise the opened CUDA backend, and the function that closes it
// and reports its first error. auto falls back to the CPU with one log line
// saying why; cuda fails with the backend's one-line error (exit 1).
func pickDevice(env *environment, device string) (engine.Backend[float32], func() error, error) {
	switch device {
	case "cpu":
		return nil, nil, nil
	case "auto", "cuda":
	default:
		return nil, nil, usagef("device %q: accepted are auto, cpu, cuda", device)
	}
	be, err := cuda.Open(env.settings.cuda, cuda.Options{})
	if err != nil {
		if device == "cuda" {
			return nil, nil, fmt.Errorf("--device cuda: %w", err)
		}
		env.log.Info("CUDA not used, training on the CPU", "reason", err.Error())
		return nil, nil, nil
	}
	env.log.Info("training on CUDA", "device", be.Device())
	done := func() error {
		err := be.Err()
		if cerr := be.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("CUDA backend: %w", err)
		}
		return nil
	}
	return be, done, nil
}
