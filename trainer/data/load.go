package data

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"
	"unsafe"
)

// plan is the outcome of the first pass: what to decode and what it costs.
type plan struct {
	src      source
	est      Estimate
	classes  []string
	selected []entry // in dataset order; slot i is selected[i]
	bad      []badFile
	files    int // image files found
}

// Inspect reads the headers of a dataset without decoding it and returns the
// memory estimate for loading it with opts. Estimate.Fits tells whether Load
// would accept it.
func Inspect(ctx context.Context, path string, opts Options) (Estimate, error) {
	p, err := makePlan(ctx, path, opts)
	if err != nil {
		return Estimate{}, err
	}
	return p.est, nil
}

// Load opens a dataset (an image folder, a flat folder, or a .tar/.tar.gz
// archive of either) and decodes it into memory.
//
// Load first reads the image headers and estimates the memory needed; it
// returns a *BudgetError, having decoded nothing, when that exceeds the
// budget. It returns a *BadFilesError when more than the tolerated fraction
// of the image files are unreadable; fewer are skipped and named in one
// warning on opts.Logger.
func Load(ctx context.Context, path string, opts Options) (*Dataset, error) {
	start := time.Now()
	log := opts.logger()
	p, err := makePlan(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	maxBad := opts.maxBadFraction()
	if tooManyBad(len(p.bad), p.files, maxBad) {
		warnBadFiles(log, path, p.bad, p.files)
		return nil, &BadFilesError{Path: path, Bad: len(p.bad), Total: p.files, MaxFraction: maxBad, Examples: namedBadFiles(p.bad)}
	}
	if !p.est.Fits() {
		return nil, &BudgetError{Estimate: p.est}
	}
	log.Info("data: loading", "path", path, "estimate", p.est.String())

	ds, decodeBad, err := decodeAll(ctx, p, opts)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	bad := append(p.bad, decodeBad...)
	warnBadFiles(log, path, bad, p.files)
	if tooManyBad(len(bad), p.files, maxBad) || ds.Len() == 0 {
		return nil, &BadFilesError{Path: path, Bad: len(bad), Total: p.files, MaxFraction: maxBad, Examples: namedBadFiles(bad)}
	}
	ds.report = Report{
		Estimate:     p.est,
		Loaded:       ds.Len(),
		Skipped:      len(bad),
		SkippedNames: namedBadFiles(bad),
		Duration:     time.Since(start),
	}
	log.Info("data: loaded", "path", path, "images", ds.Len(), "classes", len(ds.classes),
		"bytes", FormatBytes(ds.Bytes()), "skipped", len(bad), "seconds", ds.report.Duration.Seconds())
	return ds, nil
}

// makePlan runs the first pass: list the files, read their headers, choose
// the subset and estimate its memory.
func makePlan(ctx context.Context, path string, opts Options) (*plan, error) {
	src, err := openSource(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	entries, err := src.scan(ctx, opts.workers())
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("data: %s: no .jpg, .jpeg or .png images found", path)
	}
	classes, err := assignLabels(entries)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	p := &plan{src: src, classes: classes, files: len(entries)}
	for _, e := range entries {
		if e.bad != "" {
			p.bad = append(p.bad, badFile{name: e.name, reason: e.bad})
		}
	}
	p.selected = selectImages(entries, len(classes), opts.Limit, opts.Seed)
	if len(p.selected) == 0 {
		return nil, fmt.Errorf("data: %s: none of the %d image files is readable: %v", path, len(entries), namedBadFiles(p.bad))
	}
	p.est = estimate(path, entries, p, opts)
	return p, nil
}

// estimate works out the memory a plan will take.
func estimate(path string, entries []entry, p *plan, opts Options) Estimate {
	est := Estimate{Path: path, Files: len(entries), Unreadable: len(p.bad), Images: len(p.selected), Classes: len(p.classes)}
	est.Height, est.Width = p.selected[0].h, p.selected[0].w
	var maxPix, maxFile, garbage int64
	for _, e := range p.selected {
		px := int64(e.h) * int64(e.w)
		garbage += decodeGarbage(e)
		est.CacheBytes += 3 * px
		est.IndexBytes += 4 + 8 + int64(unsafe.Sizeof("")) + int64(len(e.name)) // label, offset, name
		if e.h != est.Height || e.w != est.Width {
			est.Height, est.Width = 0, 0
		}
		maxPix = max(maxPix, px)
		maxFile = max(maxFile, e.size)
	}
	if est.Height == 0 {
		est.IndexBytes += 8 * int64(len(p.selected)) // per-image sizes
	}
	// The first pass's list of files lives until the load ends.
	for _, e := range entries {
		est.IndexBytes += int64(unsafe.Sizeof(e)) + int64(len(e.name))
	}
	// Each worker holds one file and one decoded image (at most 8 bytes a
	// pixel, for 16-bit PNG); the queue holds two files per worker.
	w := int64(opts.workers())
	est.TransientBytes = w*(8*maxPix+maxFile+decoderBytes) + 2*w*maxFile
	est.GarbageBytes = min(garbage, gcEveryBytes)
	est.Budget, est.BudgetSource = memoryBudget(opts)
	return est
}

// gcEveryBytes is how much decoding garbage the loader lets pile up before
// it asks for a collection. Without it the collector, pacing itself on the
// (large, pointer-free) cache, would let the garbage grow as big as the
// cache. A collection here is cheap: the cache holds no pointers to scan.
const gcEveryBytes = 64 << 20

// decoderBytes is what image/jpeg allocates per image besides the pixels
// (its decoder state and Huffman tables), measured at about 30 KiB.
const decoderBytes = 32 << 10

// decodeGarbage is the memory decoding e leaves behind: the file's bytes, the
// decoder's state and its image (taken as 4 bytes a pixel).
func decodeGarbage(e entry) int64 { return e.size + decoderBytes + 4*int64(e.h)*int64(e.w) }

// decodeAll runs the second pass: every selected image is decoded once into
// one contiguous cache. Images that fail to decode are dropped and returned.
func decodeAll(ctx context.Context, p *plan, opts Options) (*Dataset, []badFile, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	n := len(p.selected)
	off := make([]int64, n+1)
	for i, e := range p.selected {
		off[i+1] = off[i] + 3*int64(e.h)*int64(e.w)
	}
	pix := make([]uint8, off[n])

	workers := opts.workers()
	jobs := make(chan job, 2*workers)
	type result struct {
		slot int
		err  error
	}
	results := make(chan result, 2*workers)
	var feedErr error
	go func() {
		defer close(jobs)
		feedErr = p.src.feed(ctx, p.selected, func(j job) error {
			select {
			case jobs <- j:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				e := p.selected[j.slot]
				b, err := j.bytes()
				if err == nil {
					err = decodeInto(pix[off[j.slot]:off[j.slot+1]], e.h, e.w, b)
				}
				results <- result{slot: j.slot, err: err}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()

	failed := make([]bool, n)
	var bad []badFile
	done, step, last := 0, max(1, n/200), 0
	var garbage int64
	for r := range results {
		done++
		if garbage += decodeGarbage(p.selected[r.slot]); garbage >= gcEveryBytes {
			runtime.GC()
			garbage = 0
		}
		if r.err != nil {
			failed[r.slot] = true
			bad = append(bad, badFile{name: p.selected[r.slot].name, reason: r.err.Error()})
		}
		if opts.Progress != nil && (done-last >= step || done == n) {
			opts.Progress(done, n)
			last = done
		}
	}
	if feedErr != nil {
		return nil, nil, feedErr
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if done != n {
		return nil, nil, fmt.Errorf("decoded %d of %d images", done, n)
	}
	return assemble(p, pix, off, failed), bad, nil
}

// assemble builds the Dataset, closing the gaps left by failed images.
func assemble(p *plan, pix []uint8, off []int64, failed []bool) *Dataset {
	d := &Dataset{path: p.est.Path, classes: p.classes}
	uniform := true
	first := -1
	var w int64
	for i, e := range p.selected {
		if failed[i] {
			continue
		}
		if first < 0 {
			first = i
		}
		if e.h != p.selected[first].h || e.w != p.selected[first].w {
			uniform = false
		}
		if w != off[i] {
			copy(pix[w:], pix[off[i]:off[i+1]])
		}
		d.off = append(d.off, w)
		d.dims = append(d.dims, int32(e.h), int32(e.w))
		d.labels = append(d.labels, int32(e.label))
		d.names = append(d.names, e.name)
		w += off[i+1] - off[i]
	}
	d.off = append(d.off, w)
	d.pix = pix[:w:w]
	if uniform && first >= 0 {
		d.h, d.w = p.selected[first].h, p.selected[first].w
		d.dims, d.off = nil, nil
	}
	return d
}
