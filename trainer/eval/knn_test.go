package eval

import (
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
)

func TestKNNHandComputed(t *testing.T) {
	// Bank: three 2-D unit vectors, classes 0, 0, 1. Test row (1, 0).
	bank := []float32{1, 0, 0.6, 0.8, 0, 1}
	labels := []int{0, 0, 1}
	// With k = 3 and T = 0.1: class 0 gets e^10 + e^6, class 1 gets e^0: class 0.
	// With k = 1: the nearest (sim 1) is class 0.
	test := []float32{1, 0, 0, 1}
	g := blas.Gonum{}
	acc, err := KNN{K: 3, Temperature: 0.1, Classes: 2}.Accuracy(g, bank, labels, test, []int{0, 1}, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The second test row (0, 1): sims {0, 0.8, 1}: class 0 gets e^0 + e^8, class 1 e^10: class 1.
	if acc != 100 {
		t.Errorf("accuracy %v, want 100", acc)
	}
	// With a large T the votes are nearly counts: two class-0 neighbours beat one class-1.
	acc, err = KNN{K: 3, Temperature: 100, Classes: 2}.Accuracy(g, bank, labels, test[2:], []int{1}, 2)
	if err != nil || acc != 0 {
		t.Errorf("large T: accuracy %v (%v), want 0", acc, err)
	}
	if _, err := (KNN{K: 0, Temperature: 0.1, Classes: 2}).Accuracy(g, bank, labels, test, []int{0, 1}, 2); err == nil {
		t.Error("k = 0 accepted")
	}
}
