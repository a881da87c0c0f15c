package supervised

import (
	"math/rand/v2"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

func TestTrainerFitsABatch(t *testing.T) {
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	arch, err := models.New("resnet18-cifar", 0.125, 4)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := New(engine.NewCPU[float32](g, 2), arch, Options{Batch: 8, Height: 16, Width: 16, Momentum: 0.9, WeightDecay: 5e-4, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	x := make([]float32, 8*3*16*16)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := []int32{0, 1, 2, 3, 0, 1, 2, 3}
	first, err := tr.Step(x, labels, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	var last float64
	for range 30 {
		if last, err = tr.Step(x, labels, 0.05); err != nil {
			t.Fatal(err)
		}
	}
	if !(last < first/4) {
		t.Errorf("loss on a repeated batch went from %.3f to %.3f", first, last)
	}
	pred, err := tr.Predict(x, 8)
	if err != nil {
		t.Fatal(err)
	}
	if !tr.Net.Train {
		t.Error("Predict must restore training mode")
	}
	correct := 0
	for i, p := range pred {
		if p == int(labels[i]) {
			correct++
		}
	}
	if correct < 6 {
		t.Errorf("memorised %d of 8 labels", correct)
	}
	if _, err := tr.Step(x[:10], labels, 0.05); err == nil {
		t.Error("a batch of the wrong size must be refused")
	}
	if _, err := New(engine.NewCPU[float32](g, 2), mustNoHead(t), Options{Batch: 2, Height: 16, Width: 16}); err == nil {
		t.Error("an architecture without a classifier head must be refused")
	}
}

func mustNoHead(t *testing.T) *models.Arch {
	a, err := models.New("resnet18-cifar", 0.125, 0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
