// Package eval measures what an encoder has learned with the protocols of
// the MoCo papers: the kNN monitor of the official CIFAR-10 demo and the
// linear classification protocol on frozen features.
package eval

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/mocoedge/mocoedge/trainer/augment"
	"github.com/mocoedge/mocoedge/trainer/data"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

// Output selects which network output Embed returns.
type Output int

// The two outputs of an encoder.
const (
	// Embedding is the head's output (what the MoCo loss sees, and what the
	// official demo's kNN monitor uses).
	Embedding Output = iota
	// Features are the pooled backbone features (what the linear protocol uses).
	Features
)

// Embed runs net in eval mode over every image of ds (resized to the net's
// input, normalised with mean and std) and returns one L2-normalised row per
// image. The net's Train flag is restored afterwards.
func Embed(ctx context.Context, net *engine.Net[float32], ds *data.Dataset, out Output, mean, std [3]float32) ([]float32, int, error) {
	return EmbedProgress(ctx, net, ds, out, mean, std, nil)
}

// EmbedProgress is Embed reporting the images done so far (of ds.Len())
// after every batch, when report is not nil.
func EmbedProgress(ctx context.Context, net *engine.Net[float32], ds *data.Dataset, out Output, mean, std [3]float32, report func(done, total int)) ([]float32, int, error) {
	p, err := augment.EvalConfig(net.H, mean, std).Build()
	if err != nil {
		return nil, 0, err
	}
	if net.H != net.W {
		return nil, 0, fmt.Errorf("embed: square inputs only, the net takes %dx%d", net.H, net.W)
	}
	be := net.Backend()
	dim := net.Outputs()
	if out == Features {
		dim = net.Arch.Features
	}
	train := net.Train
	net.Train = false
	defer func() { net.Train = train }()

	batch := net.MaxBatch
	img := 3 * net.H * net.W
	host := make([]float32, batch*img)
	input := be.Alloc(batch * img)
	normed := be.Alloc(batch * dim)
	rows := make([]float32, ds.Len()*dim)
	var scratch augment.Image
	rng := rand.New(rand.NewPCG(0, 0)) // the eval pipeline draws nothing; Apply wants one
	for lo := 0; lo < ds.Len(); lo += batch {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		n := min(batch, ds.Len()-lo)
		for i := 0; i < n; i++ {
			pix, h, w := ds.Image(lo + i)
			if err := p.Apply(host[i*img:(i+1)*img], pix, h, w, rng, &scratch); err != nil {
				return nil, 0, fmt.Errorf("embed image %d: %w", lo+i, err)
			}
		}
		in := be.Slice(input, 0, n*img)
		be.Upload(in, host[:n*img])
		y, err := net.Forward(in, n)
		if err != nil {
			return nil, 0, err
		}
		if out == Features {
			y = net.Features(n)
		}
		dst := be.Slice(normed, 0, n*dim)
		be.L2Normalize(dst, y, n, dim)
		be.Download(rows[lo*dim:(lo+n)*dim], dst)
		if report != nil {
			report(lo+n, ds.Len())
		}
	}
	return rows, dim, nil
}
