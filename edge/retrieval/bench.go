package retrieval

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/mocoedge/mocoedge/edge/keyqueue"
	"github.com/mocoedge/mocoedge/internal/blas"
	"gorgonia.org/tensor"
)

// BenchConfig configures Bench; zero fields take the defaults noted.
type BenchConfig struct {
	// Sizes are the queue sizes (default 10 000 and 100 000 entries).
	Sizes []int
	// Dims are the vector dimensions (default 128 and 512).
	Dims []int
	// K is the number of results per query (default 10).
	K int
	// Batch is the number of queries per call (default 1).
	Batch int
	// MinTime is how long each case is timed (default 300 ms).
	MinTime time.Duration
	// Dir is where the temporary queues are built (default os.TempDir()).
	Dir string
	// GEMM multiplies (default blas.Load with default options).
	GEMM blas.GEMM
	// Seed makes the random vectors reproducible.
	Seed uint64
}

// BenchCase is the result for one queue size and dimension.
type BenchCase struct {
	// Entries is the queue size.
	Entries int `json:"entries"`
	// Dim is the vector dimension.
	Dim int `json:"dim"`
	// K is the number of results per query.
	K int `json:"k"`
	// Batch is the number of queries per call.
	Batch int `json:"batch"`
	// Calls is how many timed searches the figures come from.
	Calls int `json:"calls"`
	// P50Ms is the median latency of one call, in milliseconds.
	P50Ms float64 `json:"p50_ms"`
	// P99Ms is the 99th percentile latency of one call, in milliseconds.
	P99Ms float64 `json:"p99_ms"`
	// MeanMs is the mean latency of one call, in milliseconds.
	MeanMs float64 `json:"mean_ms"`
	// MatrixBytes is the size of the vectors one call reads.
	MatrixBytes int64 `json:"matrix_bytes"`
	// GBps is MatrixBytes over the median latency.
	GBps float64 `json:"gb_per_s"`
	// RefGBps is the reference: the best rate at which plain Go code sums the
	// same bytes (one and all cores), a read-only pass like the search's.
	RefGBps float64 `json:"ref_gb_per_s"`
	// Ratio is GBps / RefGBps.
	Ratio float64 `json:"ratio"`
	// CopyGBps is a second reference: copying the same bytes, counting the
	// bytes read and written (STREAM "copy").
	CopyGBps float64 `json:"copy_gb_per_s"`
}

// BenchReport is what Bench measured.
type BenchReport struct {
	// GEMM names the multiply backend.
	GEMM string `json:"gemm"`
	// Reference describes how RefGBps is measured.
	Reference string `json:"reference"`
	// Cases has one entry per size and dimension.
	Cases []BenchCase `json:"cases"`
}

// Bench measures top-k retrieval latency over real key queues (built in
// temporary folders and removed afterwards) of each size and dimension,
// with the memory bandwidth achieved against a reference measured on the
// same bytes in the same run. `edge bench` calls it.
func Bench(ctx context.Context, cfg BenchConfig) (BenchReport, error) {
	if len(cfg.Sizes) == 0 {
		cfg.Sizes = []int{10_000, 100_000}
	}
	if len(cfg.Dims) == 0 {
		cfg.Dims = []int{128, 512}
	}
	cfg.K = cmpOr(cfg.K, 10)
	cfg.Batch = cmpOr(cfg.Batch, 1)
	for _, v := range append(slices.Clone(cfg.Sizes), cfg.Dims...) {
		if v <= 0 {
			return BenchReport{}, fmt.Errorf("retrieval: bench: sizes and dimensions must be positive, got %v and %v", cfg.Sizes, cfg.Dims)
		}
	}
	if cfg.MinTime <= 0 {
		cfg.MinTime = 300 * time.Millisecond
	}
	if cfg.GEMM == nil {
		g, err := blas.Load(blas.Options{})
		if err != nil {
			return BenchReport{}, fmt.Errorf("retrieval: bench: %w", err)
		}
		cfg.GEMM = g
	}
	rep := BenchReport{
		GEMM:      cfg.GEMM.Name(),
		Reference: "sum of the matrix's float32 in Go (8 accumulators), best of 1 and GOMAXPROCS goroutines",
	}
	for _, dim := range cfg.Dims {
		for _, n := range cfg.Sizes {
			c, err := benchCase(ctx, cfg, n, dim)
			if err != nil {
				return rep, err
			}
			rep.Cases = append(rep.Cases, c)
		}
	}
	return rep, nil
}

// cmpOr returns v, or def when v is not positive.
func cmpOr(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// benchCase builds one queue and times searches over it.
func benchCase(ctx context.Context, cfg BenchConfig, n, dim int) (BenchCase, error) {
	dir, err := os.MkdirTemp(cfg.Dir, "retrieval-bench-*")
	if err != nil {
		return BenchCase{}, fmt.Errorf("retrieval: bench: %w", err)
	}
	defer os.RemoveAll(dir)
	rng := rand.New(rand.NewPCG(cfg.Seed, uint64(n)*1000+uint64(dim)))
	q, model, err := buildBenchQueue(ctx, dir, n, dim, rng)
	if err != nil {
		return BenchCase{}, err
	}
	defer q.Close()
	s, err := New(q, cfg.GEMM)
	if err != nil {
		return BenchCase{}, err
	}
	queries := tensor.New(tensor.WithShape(cfg.Batch, dim), tensor.WithBacking(randomVectors(rng, cfg.Batch, dim)))
	var lat []time.Duration
	for start := time.Now(); time.Since(start) < cfg.MinTime || len(lat) < 5; {
		t0 := time.Now()
		res, err := s.SearchBatch(ctx, model, queries, cfg.K, Filter{})
		if err != nil {
			return BenchCase{}, err
		}
		lat = append(lat, time.Since(t0))
		if len(res[0]) != min(cfg.K, n) {
			return BenchCase{}, fmt.Errorf("retrieval: bench: %d results, want %d", len(res[0]), min(cfg.K, n))
		}
	}
	mat, err := q.Vectors(model)
	if err != nil {
		return BenchCase{}, err
	}
	slices.Sort(lat)
	var total time.Duration
	for _, l := range lat {
		total += l
	}
	c := BenchCase{
		Entries: n, Dim: dim, K: cfg.K, Batch: cfg.Batch, Calls: len(lat),
		P50Ms:       ms(lat[len(lat)/2]),
		P99Ms:       ms(lat[len(lat)*99/100]),
		MeanMs:      ms(total / time.Duration(len(lat))),
		MatrixBytes: int64(len(mat.Data)) * 4,
	}
	c.GBps = float64(c.MatrixBytes) / lat[len(lat)/2].Seconds() / 1e9
	c.RefGBps = sumBandwidth(mat.Data)
	c.Ratio = c.GBps / c.RefGBps
	c.CopyGBps = copyBandwidth(mat.Data)
	return c, nil
}

// ms converts to float milliseconds.
func ms(d time.Duration) float64 { return float64(d) / 1e6 }

// buildBenchQueue fills a new queue in dir with n random entries of
// dimension dim from four sources, in time order.
func buildBenchQueue(ctx context.Context, dir string, n, dim int, rng *rand.Rand) (*keyqueue.Queue, keyqueue.ModelID, error) {
	q, err := keyqueue.Open(dir, keyqueue.Options{Capacity: n, SyncEvery: -1, SyncInterval: -1, CompactRatio: -1})
	if err != nil {
		return nil, keyqueue.ModelID{}, fmt.Errorf("retrieval: bench queue: %w", err)
	}
	model := keyqueue.ModelID{0xbe, 0x9c}
	t0 := time.Now().Add(-time.Duration(n) * time.Second)
	vec := make([]float32, dim)
	for i := range n {
		if i%4096 == 0 && ctx.Err() != nil {
			q.Close()
			return nil, model, ctx.Err()
		}
		for j := range vec {
			vec[j] = float32(rng.NormFloat64())
		}
		e := keyqueue.Entry{Time: t0.Add(time.Duration(i) * time.Second), Source: fmt.Sprintf("cam%d", i%4), Model: model, Vector: vec}
		if _, err := q.Append(e); err != nil {
			q.Close()
			return nil, model, fmt.Errorf("retrieval: bench queue: %w", err)
		}
	}
	return q, model, nil
}

// randomVectors returns m Gaussian d-vectors, row-major.
func randomVectors(rng *rand.Rand, m, d int) []float32 {
	v := make([]float32, m*d)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// sum8 sums x with eight independent accumulators, so the loop is bound
// by memory rather than by the latency of one chain of additions.
func sum8(x []float32) float32 {
	var a0, a1, a2, a3, a4, a5, a6, a7 float32
	for len(x) >= 8 {
		a0 += x[0]
		a1 += x[1]
		a2 += x[2]
		a3 += x[3]
		a4 += x[4]
		a5 += x[5]
		a6 += x[6]
		a7 += x[7]
		x = x[8:]
	}
	for _, v := range x {
		a0 += v
	}
	return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7
}

// sumBandwidth returns the best GB/s of summing x on one goroutine and on
// GOMAXPROCS goroutines.
func sumBandwidth(x []float32) float64 {
	bytes := float64(len(x)) * 4
	p := runtime.GOMAXPROCS(0)
	sums := make([]float32, p) // results kept so the loops cannot be dropped
	one := bestOf(func() { sums[0] += sum8(x) })
	all := bestOf(func() {
		var wg sync.WaitGroup
		chunk := (len(x) + p - 1) / p
		for i, lo := 0, 0; lo < len(x); i, lo = i+1, lo+chunk {
			part := x[lo:min(lo+chunk, len(x))]
			wg.Go(func() { sums[i] += sum8(part) })
		}
		wg.Wait()
	})
	runtime.KeepAlive(sums)
	return bytes / min(one, all).Seconds() / 1e9
}

// copyBandwidth returns the GB/s of copying x, counting reads and writes.
func copyBandwidth(x []float32) float64 {
	dst := make([]float32, len(x))
	return 2 * float64(len(x)) * 4 / bestOf(func() { copy(dst, x) }).Seconds() / 1e9
}

// bestOf returns the fastest of a few runs of f after a warm-up.
func bestOf(f func()) time.Duration {
	f()
	best := time.Duration(1<<63 - 1)
	for range 10 {
		t0 := time.Now()
		f()
		best = min(best, time.Since(t0))
	}
	return best
}
