package pretrain

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mocoedge/mocoedge/models/safetensors"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/engine"
	"github.com/mocoedge/mocoedge/trainer/moco"
)

// A run folder keeps the newest checkpoint and the one before it; a save
// renames the newest to the previous name first, so a crash in the middle
// of writing never leaves the folder without a good checkpoint.
const (
	CheckpointName = "checkpoint.safetensors"
	PreviousName   = "checkpoint.prev.safetensors"
)

// ErrCheckpoint is wrapped by every error about a checkpoint that cannot be
// resumed (missing, corrupt, or made by a different configuration).
var ErrCheckpoint = errors.New("checkpoint cannot be resumed")

// Metadata keys of a MoCo checkpoint, beside the weights package's.
const (
	keyConfig   = "moco.config" // the run's Config as JSON
	keyEpoch    = "moco.epoch"  // epochs completed
	keyBatch    = "moco.batch"  // batches done in the epoch after that (a mid-epoch stop)
	keyStep     = "moco.step"   // optimiser steps
	keyRNG      = "moco.rng"    // the model's random state, hex
	keyQueuePtr = "moco.queue_ptr"
)

// Tensor names besides the two encoders.
const (
	keyPrefix    = "encoder_k."
	queueName    = "queue"
	bankName     = "memory_bank"
	velocityName = "optimizer.momentum_buffer"
)

// position is where a run stands: whole epochs done, then batches done in
// the next, and the seconds the run has taken so far (over all its starts).
type position struct {
	epoch, batch int
	seconds      float64
}

// saveCheckpoint writes the model's whole training state to dir.
func saveCheckpoint(dir string, m *moco.Model, pos position, provenance map[string]string) error {
	cfgJSON, err := json.Marshal(m.Cfg)
	if err != nil {
		return err
	}
	rng, err := m.RNGState()
	if err != nil {
		return err
	}
	md := map[string]string{
		"format":  "pt",
		keyConfig: string(cfgJSON),
		keyEpoch:  strconv.Itoa(pos.epoch),
		keyBatch:  strconv.Itoa(pos.batch),
		keyStep:   strconv.FormatInt(m.Step, 10),
		keyRNG:    hex.EncodeToString(rng),
	}
	maps.Copy(md, provenance)
	maps.Copy(md, weights.Metadata(weights.EncoderPrefix, m.Query.Arch))
	tensors, err := weights.Tensors(weights.EncoderPrefix, engine.StateOf(m.Query))
	if err != nil {
		return err
	}
	be := m.Query.Backend()
	if m.Key != nil {
		maps.Copy(md, weights.Metadata(keyPrefix, m.Key.Arch))
		kt, err := weights.Tensors(keyPrefix, engine.StateOf(m.Key))
		if err != nil {
			return err
		}
		tensors = append(tensors, kt...)
		queue := make([]float32, m.Queue.K*m.Queue.D)
		be.Download(queue, m.Queue.Keys)
		tensors = append(tensors, safetensors.NewF32(queueName, []int{m.Queue.K, m.Queue.D}, queue))
		md[keyQueuePtr] = strconv.Itoa(m.Queue.Ptr)
	}
	if m.Bank != nil {
		tensors = append(tensors, safetensors.NewF32(bankName, []int{len(m.Bank) / m.Cfg.Dim, m.Cfg.Dim}, m.Bank))
	}
	velocity := make([]float32, m.Opt.Velocity().Len())
	be.Download(velocity, m.Opt.Velocity())
	tensors = append(tensors, safetensors.NewF32(velocityName, []int{len(velocity)}, velocity))

	path, prev := filepath.Join(dir, CheckpointName), filepath.Join(dir, PreviousName)
	if _, err := os.Stat(path); err == nil {
		if err := os.Rename(path, prev); err != nil {
			return fmt.Errorf("keep the previous checkpoint: %w", err)
		}
	}
	if err := safetensors.WriteFile(path, tensors, md); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

// loadCheckpoint restores m from the checkpoint at path and returns where
// the run stands. The checkpoint must come from the same configuration in
// everything that shapes the state (architecture, head, keys, queue,
// batch, input, seed); the epochs and the optimiser's settings may change.
func loadCheckpoint(path string, m *moco.Model) (position, error) {
	f, err := safetensors.ReadFile(path)
	if err != nil {
		return position{}, fmt.Errorf("%w: %w (the previous checkpoint, if any, is %s)", ErrCheckpoint, err, filepath.Join(filepath.Dir(path), PreviousName))
	}
	var saved moco.Config
	if err := json.Unmarshal([]byte(f.Metadata[keyConfig]), &saved); err != nil {
		return position{}, fmt.Errorf("%w: %s has no readable %s: not a MoCo checkpoint", ErrCheckpoint, path, keyConfig)
	}
	if diffs := configDiffs(saved, m.Cfg); len(diffs) > 0 {
		return position{}, fmt.Errorf("%w: %s was made by a different run: %s", ErrCheckpoint, path, strings.Join(diffs, "; "))
	}
	q, err := weights.FromTensors(f, weights.EncoderPrefix, m.Query.Arch)
	if err != nil {
		return position{}, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	if err := engine.SetState(m.Query, q); err != nil {
		return position{}, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	be := m.Query.Backend()
	if m.Key != nil {
		k, err := weights.FromTensors(f, keyPrefix, m.Key.Arch)
		if err != nil {
			return position{}, fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
		if err := engine.SetState(m.Key, k); err != nil {
			return position{}, fmt.Errorf("%w: %w", ErrCheckpoint, err)
		}
		queue, err := floats(f, queueName, m.Queue.K*m.Queue.D)
		if err != nil {
			return position{}, err
		}
		be.Upload(m.Queue.Keys, queue)
		if m.Queue.Ptr, err = metaInt(f, keyQueuePtr); err != nil {
			return position{}, err
		}
	}
	if m.Bank != nil {
		bank, err := floats(f, bankName, len(m.Bank))
		if err != nil {
			return position{}, err
		}
		copy(m.Bank, bank)
	}
	velocity, err := floats(f, velocityName, m.Opt.Velocity().Len())
	if err != nil {
		return position{}, err
	}
	be.Upload(m.Opt.Velocity(), velocity)
	rng, err := hex.DecodeString(f.Metadata[keyRNG])
	if err != nil {
		return position{}, fmt.Errorf("%w: %s: %v", ErrCheckpoint, keyRNG, err)
	}
	if err := m.SetRNGState(rng); err != nil {
		return position{}, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	var pos position
	step, err := metaInt(f, keyStep)
	if err != nil {
		return position{}, err
	}
	m.Step = int64(step)
	if pos.epoch, err = metaInt(f, keyEpoch); err != nil {
		return position{}, err
	}
	if pos.batch, err = metaInt(f, keyBatch); err != nil {
		return position{}, err
	}
	// Seconds only feed metrics and provenance: a checkpoint without them
	// (or with a damaged value) resumes with the clock at zero.
	pos.seconds, _ = strconv.ParseFloat(f.Metadata[weights.KeySeconds], 64)
	return pos, nil
}

// configDiffs names the settings that differ in ways a resumed run cannot absorb.
func configDiffs(saved, now moco.Config) []string {
	var d []string
	check := func(name string, a, b any) {
		if fmt.Sprint(a) != fmt.Sprint(b) {
			d = append(d, fmt.Sprintf("%s %v in the checkpoint, %v now", name, a, b))
		}
	}
	check("arch", saved.Arch, now.Arch)
	check("width", saved.Width, now.Width)
	check("dim", saved.Dim, now.Dim)
	check("mlp", saved.MLP, now.MLP)
	check("keys", saved.Keys, now.Keys)
	check("queue", saved.QueueSize, now.QueueSize)
	check("batch", saved.Batch, now.Batch)
	check("input", saved.Input, now.Input)
	check("symmetric", saved.Symmetric, now.Symmetric)
	check("bn-splits", saved.BNSplits, now.BNSplits)
	check("seed", saved.Seed, now.Seed)
	check("augment", saved.Augment, now.Augment)
	return d
}

func floats(f *safetensors.File, name string, n int) ([]float32, error) {
	t, ok := f.Tensor(name)
	if !ok {
		return nil, fmt.Errorf("%w: tensor %s missing", ErrCheckpoint, name)
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCheckpoint, name, err)
	}
	if len(v) != n {
		return nil, fmt.Errorf("%w: %s has %d values, this run needs %d", ErrCheckpoint, name, len(v), n)
	}
	return v, nil
}

func metaInt(f *safetensors.File, key string) (int, error) {
	v, err := strconv.Atoi(f.Metadata[key])
	if err != nil {
		return 0, fmt.Errorf("%w: metadata %s %q is not an integer", ErrCheckpoint, key, f.Metadata[key])
	}
	return v, nil
}
