package main

import (
	"strings"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/data"
	"github.com/mocoedge/mocoedge/trainer/moco"
	"github.com/mocoedge/mocoedge/trainer/pretrain"
)

// normHelp is the --norm flag's help, shared by the verbs that take it.
const normHelp = "input normalisation: auto (the checkpoint's MoCo recipe; else cifar10 for architectures trained at 64 pixels or less, imagenet otherwise), cifar10 or imagenet"

// normalisation returns the per-channel mean and std named cifar10 or imagenet.
func normalisation(name string) (mean, std [3]float32, ok bool) {
	switch name {
	case "cifar10":
		return data.CIFAR10Mean(), data.CIFAR10Std(), true
	case "imagenet":
		return data.ImageNetMean(), data.ImageNetStd(), true
	}
	return mean, std, false
}

// validNorm reports whether a --norm value is accepted.
func validNorm(name string) bool {
	_, _, ok := normalisation(name)
	return ok || name == "auto"
}

// resolveNorm settles --norm auto: the normalisation of the MoCo recipe that
// a checkpoint's metadata md names (nil without a checkpoint), else cifar10
// for architectures trained at 64 pixels or less and imagenet otherwise.
// Other values are returned as they are.
func resolveNorm(name string, md map[string]string, a *models.Arch) string {
	if name != "auto" {
		return name
	}
	if cfg, err := moco.Recipe(strings.TrimPrefix(md[weights.KeyMethod], "moco/")); err == nil {
		if mean, _ := pretrain.Normalisation(cfg); mean == data.ImageNetMean() {
			return "imagenet"
		}
		return "cifar10"
	}
	if a.InputSize <= 64 {
		return "cifar10"
	}
	return "imagenet"
}
