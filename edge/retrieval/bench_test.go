package retrieval

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/internal/blas"
	"gorgonia.org/tensor"
)

func TestBenchReport(t *testing.T) {
	rep, err := Bench(context.Background(), BenchConfig{
		Sizes: []int{300, 2000}, Dims: []int{16}, K: 5, Batch: 2,
		MinTime: 5 * time.Millisecond, Dir: t.TempDir(), GEMM: blas.Gonum{},
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.GEMM != "gonum" || len(rep.Cases) != 2 {
		t.Fatalf("report %+v", rep)
	}
	for _, c := range rep.Cases {
		if c.Calls < 5 || c.P50Ms <= 0 || c.P99Ms < c.P50Ms || c.GBps <= 0 || c.RefGBps <= 0 || c.CopyGBps <= 0 ||
			c.Ratio != c.GBps/c.RefGBps || c.MatrixBytes != int64(c.Entries*c.Dim*4) || c.K != 5 || c.Batch != 2 {
			t.Fatalf("case %+v", c)
		}
	}
	if _, err := json.Marshal(rep); err != nil {
		t.Fatal(err)
	}
	if _, err := Bench(context.Background(), BenchConfig{Sizes: []int{0}}); err == nil {
		t.Fatal("Bench accepted a zero size")
	}
}

// BenchmarkSearch times top-k (k=10) over queues of 10k and 100k entries
// of D=128 and D=512, one query and a batch of 8 per call. MB/s is the
// matrix bytes read per second; ref-ratio compares it with summing the same
// bytes in Go, measured in the same run.
func BenchmarkSearch(b *testing.B) {
	gemm, err := blas.Load(blas.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, dim := range []int{128, 512} {
		for _, n := range []int{10_000, 100_000} {
			rng := rand.New(rand.NewPCG(1, uint64(n+dim)))
			q, model, err := buildBenchQueue(context.Background(), b.TempDir(), n, dim, rng)
			if err != nil {
				b.Fatal(err)
			}
			s, _ := New(q, gemm)
			mat, _ := q.Vectors(model)
			ref := sumBandwidth(mat.Data)
			for _, batch := range []int{1, 8} {
				queries := tensor.New(tensor.WithShape(batch, dim), tensor.WithBacking(randomVectors(rng, batch, dim)))
				b.Run(fmt.Sprintf("%s/n=%d/d=%d/batch=%d", gemm.Name(), n, dim, batch), func(b *testing.B) {
					b.SetBytes(int64(n * dim * 4))
					for b.Loop() {
						if _, err := s.SearchBatch(context.Background(), model, queries, 10, Filter{}); err != nil {
							b.Fatal(err)
						}
					}
					gbps := float64(n*dim*4) * float64(b.N) / b.Elapsed().Seconds() / 1e9
					b.ReportMetric(gbps/ref, "ref-ratio")
					b.ReportMetric(ref, "ref-GB/s")
				})
			}
			q.Close()
		}
	}
}
