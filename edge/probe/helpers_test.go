package probe_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mocoedge/mocoedge/edge/probe"
)

// clusters returns Gaussian clusters around random unit centres: counts[k]
// examples of class "c<k>" with per-coordinate noise spread, and the
// centres.
func clusters(seed uint64, counts []int, d int, spread float64) ([]probe.Example, [][]float32) {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float32, len(counts))
	for k := range centres {
		centres[k] = unitVector(rng, d)
	}
	var out []probe.Example
	for k, n := range counts {
		for range n {
			out = append(out, probe.Example{Features: around(rng, centres[k], spread), Label: className(k)})
		}
	}
	return out, centres
}

func className(k int) string { return "c" + string(rune('0'+k)) }

func unitVector(rng *rand.Rand, d int) []float32 {
	v := make([]float32, d)
	var ss float64
	for i := range v {
		x := rng.NormFloat64()
		v[i] = float32(x)
		ss += x * x
	}
	for i := range v {
		v[i] /= float32(math.Sqrt(ss))
	}
	return v
}

// around returns centre plus N(0, spread²) noise per coordinate.
func around(rng *rand.Rand, centre []float32, spread float64) []float32 {
	v := make([]float32, len(centre))
	for i, c := range centre {
		v[i] = c + float32(spread*rng.NormFloat64())
	}
	return v
}

// accuracyOn is the share of examples whose best class is right (top-1,
// regardless of the Unknown threshold).
func accuracyOn(t testing.TB, m *probe.Model, examples []probe.Example) float64 {
	t.Helper()
	x := make([]float32, 0, len(examples)*m.Dim)
	for _, e := range examples {
		x = append(x, e.Features...)
	}
	preds, err := m.PredictBatch(x, len(examples))
	if err != nil {
		t.Fatal(err)
	}
	correct := 0
	for i, p := range preds {
		if p.Top[0].Label == examples[i].Label {
			correct++
		}
	}
	return float64(correct) / float64(len(examples))
}
