package eval

import (
	"container/heap"
	"fmt"
	"math"
	"runtime"
	"sync"

	"github.com/mocoedge/mocoedge/internal/blas"
)

// KNN is the weighted k-nearest-neighbour classifier of the official MoCo
// CIFAR-10 demo (after InstDisc): the k most cosine-similar bank rows vote
// for their class with weight exp(similarity / T).
type KNN struct {
	K           int     // neighbours (200 in the demo)
	Temperature float64 // T (0.1 in the demo)
	Classes     int
}

// Accuracy returns the top-1 accuracy in percent of classifying test rows
// [nTest, d] against bank rows [nBank, d] (both L2-normalised).
func (c KNN) Accuracy(g blas.GEMM, bank []float32, bankLabels []int, test []float32, testLabels []int, d int) (float64, error) {
	nBank, nTest := len(bank)/d, len(test)/d
	switch {
	case nBank == 0 || nTest == 0:
		return 0, fmt.Errorf("knn: empty bank (%d) or test set (%d)", nBank, nTest)
	case len(bankLabels) != nBank || len(testLabels) != nTest:
		return 0, fmt.Errorf("knn: %d/%d labels for %d/%d rows", len(bankLabels), len(testLabels), nBank, nTest)
	case c.K < 1 || c.Classes < 1 || !(c.Temperature > 0):
		return 0, fmt.Errorf("knn: k %d, classes %d, temperature %v: all must be positive", c.K, c.Classes, c.Temperature)
	}
	k := min(c.K, nBank)
	const chunk = 256
	sims := make([]float32, chunk*nBank)
	correct := 0
	for lo := 0; lo < nTest; lo += chunk {
		n := min(chunk, nTest-lo)
		// sims[i, j] = test_i · bank_j
		g.Sgemm(false, true, n, nBank, d, 1, test[lo*d:(lo+n)*d], d, bank, d, 0, sims[:n*nBank], nBank)
		preds := make([]int, n)
		var wg sync.WaitGroup
		workers := runtime.GOMAXPROCS(0)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				votes := make([]float64, c.Classes)
				h := make(neighbours, 0, k)
				for i := w; i < n; i += workers {
					preds[i] = c.vote(sims[i*nBank:(i+1)*nBank], bankLabels, k, h, votes)
				}
			}()
		}
		wg.Wait()
		for i, p := range preds {
			if p == testLabels[lo+i] {
				correct++
			}
		}
	}
	return 100 * float64(correct) / float64(nTest), nil
}

// vote returns the class with the largest weighted vote among the k most
// similar bank rows.
func (c KNN) vote(sims []float32, labels []int, k int, h neighbours, votes []float64) int {
	h = h[:0]
	for j, s := range sims {
		if len(h) < k {
			heap.Push(&h, neighbour{s, j})
		} else if s > h[0].sim {
			h[0] = neighbour{s, j}
			heap.Fix(&h, 0)
		}
	}
	clear(votes)
	for _, nb := range h {
		if l := labels[nb.index]; l >= 0 && l < len(votes) {
			votes[l] += math.Exp(float64(nb.sim) / c.Temperature)
		}
	}
	best := 0
	for i, v := range votes {
		if v > votes[best] {
			best = i
		}
	}
	return best
}

type neighbour struct {
	sim   float32
	index int
}

// neighbours is a min-heap on similarity: the root is the weakest kept neighbour.
type neighbours []neighbour

func (h neighbours) Len() int           { return len(h) }
func (h neighbours) Less(i, j int) bool { return h[i].sim < h[j].sim }
func (h neighbours) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *neighbours) Push(x any)        { *h = append(*h, x.(neighbour)) }
func (h *neighbours) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
