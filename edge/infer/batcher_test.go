package infer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/infer"
)

// TestDynamicBatching: under concurrent load the batcher forms full
// batches; counted from Stats.
func TestDynamicBatching(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	per := 3 * m.Input.Height * m.Input.Width
	cases := []struct {
		name            string
		max             int
		callers, rounds int
	}{
		{"batches of 8, 32 callers", 8, 32, 4},
		{"batches of 4, 9 callers", 4, 9, 6},
		{"batches of 1", 1, 4, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// A long max_wait: batches can only end up full when the
			// batcher really groups concurrent requests.
			e := newEngine(t, path, infer.WithBatch(tc.max, 200*time.Millisecond))
			var wg sync.WaitGroup
			for range tc.callers {
				wg.Go(func() {
					x := make([]float32, per)
					for range tc.rounds {
						if _, err := e.Embed(context.Background(), infer.Batch{Pixels: x, N: 1}); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			s := e.Stats()
			total := uint64(tc.callers * tc.rounds)
			if s.Images != total || s.Requests != total {
				t.Fatalf("%d images in %d requests, want %d", s.Images, s.Requests, total)
			}
			full := s.BatchSizes[tc.max]
			t.Logf("%d requests in %d batches (mean %.2f), batch sizes %v; batch p50 %v, request p50 %v p99 %v",
				s.Requests, s.Batches, s.MeanBatch(), s.BatchSizes, s.Batch.P50, s.Request.P50, s.Request.P99)
			if len(s.BatchSizes) > tc.max+1 {
				t.Errorf("a batch of %d images, above the maximum %d", len(s.BatchSizes)-1, tc.max)
			}
			// Callers resubmit as soon as they are answered, so all but the
			// stragglers of each wave should ride in full batches.
			if min := total / uint64(tc.max) / 2; full < min {
				t.Errorf("%d full batches of %d, want at least %d", full, tc.max, min)
			}
		})
	}
}

// TestMaxWait: a lone request waits max_wait for company, not longer, and
// a zero max_wait runs it at once.
func TestMaxWait(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	per := 3 * m.Input.Height * m.Input.Width
	cases := []struct {
		name    string
		wait    time.Duration
		atLeast time.Duration
		atMost  time.Duration
	}{
		// Generous upper bounds: a loaded CI machine may stall a run, but
		// a zero max_wait must stay well below the 300ms one.
		{"zero", 0, 0, 250 * time.Millisecond},
		{"300ms", 300 * time.Millisecond, 300 * time.Millisecond, 2 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngine(t, path, infer.WithBatch(8, tc.wait))
			for range 3 {
				start := time.Now()
				if _, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1}); err != nil {
					t.Fatal(err)
				}
				if took := time.Since(start); took < tc.atLeast || took > tc.atMost {
					t.Errorf("answered after %v, want between %v and %v", took, tc.atLeast, tc.atMost)
				}
			}
			if s := e.Stats(); s.Batches != 3 || s.BatchSizes[1] != 3 {
				t.Errorf("batch sizes %v, want three batches of 1", s.BatchSizes)
			}
		})
	}
}

// waitQueued waits until n images are queued.
func waitQueued(t *testing.T, e *infer.Engine, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.Stats().Queued != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d images queued, want %d; stats %+v", e.Stats().Queued, n, e.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestQueueFull: a request that does not fit is refused at once with
// ErrQueueFull and counted; the queued ones still run.
func TestQueueFull(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	per := 3 * m.Input.Height * m.Input.Width
	e := newEngine(t, path, infer.WithBatch(8, time.Hour), infer.WithQueueSize(8))
	var wg sync.WaitGroup
	for range 7 { // 7 images wait for an eighth (max_wait is an hour)
		wg.Go(func() {
			if _, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1}); err != nil {
				t.Error(err)
			}
		})
	}
	waitQueued(t, e, 7)
	start := time.Now()
	_, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, 2*per), N: 2})
	if !errors.Is(err, infer.ErrQueueFull) || time.Since(start) > time.Second {
		t.Fatalf("got %v after %v, want ErrQueueFull at once", err, time.Since(start))
	}
	t.Log(err)
	if _, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1}); err != nil {
		t.Fatal(err) // the eighth image completes the batch
	}
	wg.Wait()
	if s := e.Stats(); s.Rejected != 1 || s.Requests != 8 || s.BatchSizes[8] != 1 {
		t.Errorf("rejected %d, answered %d, batch sizes %v; want 1, 8, one batch of 8", s.Rejected, s.Requests, s.BatchSizes)
	}
}

// TestCloseDrains: Close runs every queued request before it returns, and
// the engine refuses work afterwards.
func TestCloseDrains(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	per := 3 * m.Input.Height * m.Input.Width
	log, _ := testLogger(t)
	e, err := infer.New(context.Background(), path, infer.WithProviders(infer.ProviderCPU), infer.WithLogger(log),
		infer.WithBatch(4, time.Hour), infer.WithQueueSize(64))
	if err != nil {
		t.Fatal(err)
	}
	const requests = 10
	errs := make(chan error, requests)
	for i := range requests {
		go func() {
			n := 1 + i%2
			_, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, n*per), N: n})
			errs <- err
		}()
	}
	// 10 requests hold 15 images: three batches of 4 run, 3 images wait
	// for a fourth that never comes (max_wait is an hour).
	waitQueued(t, e, 3)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	for range requests {
		if err := <-errs; err != nil {
			t.Errorf("a request queued before Close failed: %v", err)
		}
	}
	if s := e.Stats(); s.Requests != requests || s.Images != 15 {
		t.Errorf("answered %d requests, %d images; want %d, 15", s.Requests, s.Images, requests)
	}
	if _, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1}); !errors.Is(err, infer.ErrClosed) {
		t.Errorf("Embed after Close: %v, want ErrClosed", err)
	}
	if _, err := e.Reload(context.Background(), path); !errors.Is(err, infer.ErrClosed) {
		t.Errorf("Reload after Close: %v, want ErrClosed", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestShutdownDeadline: when Shutdown's context ends before the queue is
// drained, what is still queued is answered with ErrClosed; nobody hangs.
func TestShutdownDeadline(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	per := 3 * m.Input.Height * m.Input.Width
	log, _ := testLogger(t)
	e, err := infer.New(context.Background(), path, infer.WithProviders(infer.ProviderCPU), infer.WithLogger(log),
		infer.WithBatch(1, 0), infer.WithQueueSize(256))
	if err != nil {
		t.Fatal(err)
	}
	const requests = 200
	errs := make(chan error, requests)
	for range requests {
		go func() {
			_, err := e.Embed(context.Background(), infer.Batch{Pixels: make([]float32, per), N: 1})
			errs <- err
		}()
	}
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	serr := e.Shutdown(ctx)
	answered, closed := 0, 0
	for range requests {
		switch err := <-errs; {
		case err == nil:
			answered++
		case errors.Is(err, infer.ErrClosed):
			closed++
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	t.Logf("shutdown: %v; %d answered, %d refused with ErrClosed", serr, answered, closed)
	if closed > 0 && !errors.Is(serr, context.Canceled) {
		t.Errorf("requests were refused but Shutdown returned %v", serr)
	}
}

// TestRunners: with several runners, concurrent single-image and
// multi-image requests (split over batches that different runners run) get
// exactly the rows a one-runner engine gives, and Close returns.
func TestRunners(t *testing.T) {
	path, m := exportModel(t, t.TempDir(), cifarSpec)
	images := cifarJPEGs(t, 24)
	x := pixels(t, m.Input, images)
	per := 3 * m.Input.Height * m.Input.Width
	ref := newEngine(t, path, infer.WithBatch(8, time.Millisecond))
	want, err := ref.Embed(context.Background(), infer.Batch{Pixels: x, N: len(images)})
	if err != nil {
		t.Fatal(err)
	}
	for _, runners := range []int{2, 3} {
		e := newEngine(t, path, infer.WithBatch(4, time.Millisecond), infer.WithRunners(runners), infer.WithThreads(1), infer.WithQueueSize(256))
		var wg sync.WaitGroup
		check := func(lo, n int) {
			res, err := e.Embed(context.Background(), infer.Batch{Pixels: x[lo*per : (lo+n)*per], N: n})
			if err != nil {
				t.Error(err)
				return
			}
			for i := range n {
				f, _ := res.Row(i)
				g, _ := want.Row(lo + i)
				for j := range f {
					if d := f[j] - g[j]; d > 1e-4 || d < -1e-4 {
						t.Errorf("%d runners: image %d feature %d: %v, want %v", runners, lo+i, j, f[j], g[j])
						return
					}
				}
			}
		}
		for round := range 5 {
			for i := range images {
				wg.Go(func() { check(i, 1) })
			}
			wg.Go(func() { check(round, 7) }) // split over two batches of 4
		}
		wg.Wait()
		if s := e.Stats(); s.Requests != 5*25 {
			t.Errorf("%d runners: %d requests answered, want %d", runners, s.Requests, 5*25)
		}
		done := make(chan error)
		go func() { done <- e.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d runners: Close did not return", runners)
		}
	}
	if _, err := infer.New(context.Background(), path, infer.WithRunners(0)); err == nil {
		t.Error("0 runners accepted")
	}
	if _, err := infer.New(context.Background(), path, infer.WithRunners(8), infer.WithBatch(8, 0), infer.WithQueueSize(32)); err == nil {
		t.Error("a queue smaller than runners × batch accepted")
	}
}
