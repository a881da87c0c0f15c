package main

import (
	"path/filepath"
	"testing"

	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/data"
)

func TestResolveNorm(t *testing.T) {
	cifarNet, err := models.New("resnet18-cifar", 0.125, 10)
	if err != nil {
		t.Fatal(err)
	}
	imagenetNet, err := models.New("resnet50", 0.125, 10)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		norm string
		md   map[string]string
		arch *models.Arch
		want string
	}{
		{"moco-v2 checkpoint of a CIFAR net", "auto", map[string]string{weights.KeyMethod: "moco/moco-v2"}, cifarNet, "imagenet"},
		{"cifar recipe", "auto", map[string]string{weights.KeyMethod: "moco/cifar"}, imagenetNet, "cifar10"},
		{"bare recipe name", "auto", map[string]string{weights.KeyMethod: "moco-v1"}, cifarNet, "imagenet"},
		{"unknown method, small net", "auto", map[string]string{weights.KeyMethod: "supervised"}, cifarNet, "cifar10"},
		{"no checkpoint, large net", "auto", nil, imagenetNet, "imagenet"},
		{"explicit wins", "cifar10", map[string]string{weights.KeyMethod: "moco/moco-v2"}, imagenetNet, "cifar10"},
	}
	for _, tc := range cases {
		if got := resolveNorm(tc.norm, tc.md, tc.arch); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestExportTakesTheCheckpointsNormalisation: a checkpoint trained with an
// ImageNet-normalised recipe must not be exported with CIFAR-10 statistics,
// or the edge would preprocess its frames wrongly.
func TestExportTakesTheCheckpointsNormalisation(t *testing.T) {
	dir := t.TempDir()
	ckpt := writeCheckpoint(t, dir, "resnet18-cifar", weights.HeadFC, 16) // method moco-v2
	out := filepath.Join(dir, "enc.onnx")
	exportJSON(t, "--checkpoint", ckpt, "--out", out)
	m, err := manifest.Read(manifest.PathFor(out))
	if err != nil {
		t.Fatal(err)
	}
	if m.Input.Mean != data.ImageNetMean() || m.Input.Std != data.ImageNetStd() {
		t.Errorf("manifest normalisation %v / %v, want ImageNet's (the checkpoint's moco-v2 recipe)", m.Input.Mean, m.Input.Std)
	}
}
