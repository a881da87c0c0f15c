// Package moco is Momentum Contrast (He et al., CVPR 2020) and its v2 recipe
// (Chen et al., 2020) on the engine: a query encoder trained by SGD, a key
// encoder that follows it by a momentum update, and a FIFO queue of keys
// that supplies the negatives of the InfoNCE loss. The paper's two
// baselines are modes of the same code: end-to-end (keys from the current
// batch through the query encoder, with gradients) and memory-bank
// (negatives sampled from a bank of past query embeddings).
package moco

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/trainer/optim"
)

// Key modes.
const (
	KeysMoCo       = "moco"
	KeysEndToEnd   = "end-to-end"
	KeysMemoryBank = "memory-bank"
)

// Config is everything that defines a MoCo run. Recipe fills it from a
// named recipe; every field can be overridden after.
type Config struct {
	Recipe string `json:"recipe"`

	Arch  string  `json:"arch"`
	Width float64 `json:"width"`
	Dim   int     `json:"dim"` // embedding size (the head's output)
	MLP   bool    `json:"mlp"` // v2's two-layer head instead of one fc layer
	Input int     `json:"input"`

	Keys         string  `json:"keys"`          // moco, end-to-end or memory-bank
	QueueSize    int     `json:"queue"`         // K: negatives in the queue (or sampled from the bank)
	Momentum     float64 `json:"momentum"`      // m: key encoder momentum
	Temperature  float64 `json:"temperature"`   // T
	Symmetric    bool    `json:"symmetric"`     // add the loss with the views swapped
	BNSplits     int     `json:"bn_splits"`     // split BN groups (Shuffle-BN on one device)
	BankMomentum float64 `json:"bank_momentum"` // memory-bank update momentum (InstDisc: 0.5)

	Batch        int       `json:"batch"`
	LR           float64   `json:"lr"`
	WeightDecay  float64   `json:"wd"`
	SGDMomentum  float64   `json:"sgd_momentum"`
	Epochs       int       `json:"epochs"`
	ScheduleKind string    `json:"schedule"` // cosine or step
	Milestones   []float64 `json:"milestones,omitempty"`
	Warmup       float64   `json:"warmup"`

	Augment string `json:"augment"` // augmentation recipe: moco-v1, moco-v2 or cifar
	Seed    uint64 `json:"seed"`
}

// Recipes lists the recipe names Recipe accepts.
func Recipes() []string { return []string{"cifar", "moco-v1", "moco-v2"} }

// Recipe returns the named recipe:
//   - moco-v1: resnet50, K 65536, m 0.999, T 0.07, dim 128, SGD lr 0.03 per
//     256 images, momentum 0.9, wd 1e-4, 200 epochs, lr ×0.1 at 120 and 160;
//   - moco-v2: moco-v1 with the MLP head, T 0.2, blur and a cosine schedule;
//   - cifar: the official CIFAR-10 demo: resnet18-cifar, batch 512, lr 0.06,
//     wd 5e-4, K 4096, m 0.99, T 0.1, cosine, 200 epochs, 8 BN splits.
//
// The ImageNet recipes normalise keys in groups of 32 images (8 splits of
// 256), as MoCo's Shuffle-BN on 8 GPUs does.
func Recipe(name string) (Config, error) {
	switch name {
	case "moco-v1":
		return Config{Recipe: name, Arch: "resnet50", Width: 1, Dim: 128, Input: 224,
			Keys: KeysMoCo, QueueSize: 65536, Momentum: 0.999, Temperature: 0.07, BNSplits: 8, BankMomentum: 0.5,
			Batch: 256, LR: 0.03, WeightDecay: 1e-4, SGDMomentum: 0.9, Epochs: 200,
			ScheduleKind: "step", Milestones: []float64{120, 160}, Augment: "moco-v1", Seed: 1}, nil
	case "moco-v2":
		c, _ := Recipe("moco-v1")
		c.Recipe, c.MLP, c.Temperature, c.ScheduleKind, c.Milestones, c.Augment = name, true, 0.2, "cosine", nil, "moco-v2"
		return c, nil
	case "cifar":
		return Config{Recipe: name, Arch: "resnet18-cifar", Width: 1, Dim: 128, Input: 32,
			Keys: KeysMoCo, QueueSize: 4096, Momentum: 0.99, Temperature: 0.1, BNSplits: 8, BankMomentum: 0.5,
			Batch: 512, LR: 0.06, WeightDecay: 5e-4, SGDMomentum: 0.9, Epochs: 200,
			ScheduleKind: "cosine", Augment: "cifar", Seed: 1}, nil
	}
	return Config{}, fmt.Errorf("unknown recipe %q: accepted are %s", name, strings.Join(Recipes(), ", "))
}

// Validate reports the first setting that cannot run, naming it.
func (c Config) Validate() error {
	if _, err := models.New(c.Arch, c.Width, c.Dim); err != nil {
		return err
	}
	keys := []string{KeysMoCo, KeysEndToEnd, KeysMemoryBank}
	switch {
	case !slices.Contains(keys, c.Keys):
		return fmt.Errorf("keys %q: accepted are %s", c.Keys, strings.Join(keys, ", "))
	case c.Dim < 1:
		return fmt.Errorf("dim %d: must be at least 1", c.Dim)
	case c.Batch < 2:
		return fmt.Errorf("batch %d: must be at least 2", c.Batch)
	case c.BNSplits < 1 || c.Batch%c.BNSplits != 0:
		return fmt.Errorf("bn-splits %d must divide the batch %d", c.BNSplits, c.Batch)
	case c.Keys != KeysEndToEnd && c.QueueSize < 1:
		return fmt.Errorf("queue %d: must be at least 1", c.QueueSize)
	case c.Keys == KeysMoCo && c.QueueSize%c.keysPerStep() != 0:
		return fmt.Errorf("queue %d must be a multiple of the %d keys enqueued per step (the batch, twice with --symmetric)", c.QueueSize, c.keysPerStep())
	case !(c.Momentum >= 0 && c.Momentum < 1):
		return fmt.Errorf("momentum %v: must be in [0, 1)", c.Momentum)
	case !(c.Temperature > 0):
		return fmt.Errorf("temperature %v: must be positive", c.Temperature)
	case c.Symmetric && c.Keys != KeysMoCo:
		return fmt.Errorf("--symmetric works with --keys moco only")
	case c.Epochs < 1:
		return fmt.Errorf("epochs %d: must be at least 1", c.Epochs)
	case c.Input < 8:
		return fmt.Errorf("input %d: must be at least 8 pixels", c.Input)
	case !(c.BankMomentum >= 0 && c.BankMomentum < 1):
		return fmt.Errorf("bank momentum %v: must be in [0, 1)", c.BankMomentum)
	}
	return c.Schedule().Validate()
}

// keysPerStep is how many keys one step enqueues.
func (c Config) keysPerStep() int {
	if c.Symmetric {
		return 2 * c.Batch
	}
	return c.Batch
}

// Architecture returns the encoder architecture with the configured head.
func (c Config) Architecture() (*models.Arch, error) {
	a, err := models.New(c.Arch, c.Width, c.Dim)
	if err != nil {
		return nil, err
	}
	if c.MLP {
		a.WithMLPHead()
	}
	return a, nil
}

// Schedule returns the learning-rate schedule, evaluated per epoch as the
// official code's adjust_learning_rate does.
func (c Config) Schedule() optim.Schedule {
	return optim.Schedule{Base: c.LR, Kind: c.ScheduleKind, Epochs: float64(c.Epochs), Milestones: c.Milestones,
		Gamma: 0.1, Warmup: c.Warmup, PerEpoch: true}
}
