package main

import (
	"fmt"

	"github.com/mocoedge/mocoedge/trainer/backend/cuda"
)

// deviceFlagDoc is the --device flag's help line.
const deviceFlagDoc = "where training runs: auto (CUDA when its libraries and a GPU are there, else the CPU), cpu or cuda"

// pickDevice resolves --device for a verb; nil means the verb runs on the
// CPU. auto falls back to the CPU with one log line saying
// why; cuda fails with the backend's one-line error (exit 1).
//
// trainer/bench.Run and trainer/pretrain.Run build the CPU backend
// themselves and take no Backend yet, so a CUDA backend that opens cannot be
// handed to them: cuda then fails saying so, and auto falls back. The day
// they take one, this is where the opened *cuda.Backend is returned.
func pickDevice(env *environment, verb, device string) error {
	switch device {
	case "cpu":
		return nil
	case "auto", "cuda":
	default:
		return usagef("device %q: accepted are auto, cpu, cuda", device)
	}
	be, err := cuda.Open(env.settings.cuda, cuda.Options{})
	if err == nil {
		gpu := be.Device()
		be.Close()
		err = fmt.Errorf("the CUDA backend opened on %s, but `trainer %s` cannot run on it yet (trainer/%s builds the CPU backend itself and takes no Backend)", gpu, verb, verb)
	}
	if device == "cuda" {
		return fmt.Errorf("--device cuda: %w", err)
	}
	env.log.Info("CUDA not used, training on the CPU", "reason", err.Error())
	return nil
}
