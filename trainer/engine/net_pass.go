package engine

import "fmt"

// Forward runs the network on x [batch,3,H,W] and returns its output
// [batch, Outputs()]: the head's last linear layer, or the pooled features
// when there is no head. Activations are kept for Backward.
func (n *Net[T]) Forward(x Buffer[T], batch int) (Buffer[T], error) {
	if batch < 1 || batch > n.MaxBatch {
		return nil, fmt.Errorf("batch %d: the network was built for 1..%d", batch, n.MaxBatch)
	}
	if want := batch * 3 * n.H * n.W; x.Len() < want {
		return nil, fmt.Errorf("input has %d values, want %d for %d images of 3x%dx%d", x.Len(), want, batch, n.H, n.W)
	}
	be, train := n.be, n.Train
	splits := 1
	if train {
		splits = max(1, n.Splits)
		if batch%splits != 0 {
			return nil, fmt.Errorf("batch %d is not divisible by %d batch-norm splits", batch, splits)
		}
		n.BatchesTracked++
	}
	n.input = n.be.Slice(x, 0, batch*3*n.H*n.W)
	be.Conv2D(n.slice(n.stemOut, batch), n.input, n.stem.w, n.stem.geomAt(batch))
	be.BatchNorm(n.slice(n.stemPost, batch), n.slice(n.stemOut, batch), n.stemBN.state, n.stemBN.geomAt(batch, splits), train, true)
	h := n.slice(n.stemPost, batch)
	if n.Arch.MaxPool {
		g := n.pool
		g.N = batch
		be.MaxPool(n.slice(n.poolOut, batch), h, g)
		h = n.slice(n.poolOut, batch)
	}
	for _, b := range n.blocks {
		in := h
		for i, c := range b.convs {
			pre, post := n.slice(b.pre[i], batch), n.slice(b.post[i], batch)
			be.Conv2D(pre, h, c.w, c.geomAt(batch))
			last := i == len(b.convs)-1
			be.BatchNorm(post, pre, b.bns[i].state, b.bns[i].geomAt(batch, splits), train, !last)
			h = post
		}
		shortcut := in
		if b.down != nil {
			pre, post := n.slice(b.downPre, batch), n.slice(b.downPost, batch)
			be.Conv2D(pre, in, b.down.w, b.down.geomAt(batch))
			be.BatchNorm(post, pre, b.downBN.state, b.downBN.geomAt(batch, splits), train, false)
			shortcut = post
		}
		out := n.slice(b.out, batch)
		be.AddReLU(out, h, shortcut)
		h = out
	}
	feats := n.Features(batch)
	be.GlobalAvgPool(feats, h, batch, n.Arch.Features, n.finalHW)
	out := feats
	for i, l := range n.head {
		y := n.be.Slice(l.out, 0, batch*l.spec.Out)
		be.Linear(y, out, l.w, l.b, batch, l.spec.In, l.spec.Out)
		out = y
		if i < len(n.head)-1 {
			post := n.be.Slice(l.post, 0, batch*l.spec.Out)
			be.ReLU(post, y)
			out = post
		}
	}
	return out, nil
}

// Backward accumulates parameter gradients into Grads from dout, the
// gradient of the loss with respect to the last Forward's output. Several
// forward/backward pairs may run between two ZeroGrad calls (their gradients
// add up), as long as each Backward follows its own Forward.
//
// Activation gradients rotate through three scratch buffers: P holds the
// gradient of a block's output (and, after the final ReLU's mask, of the
// residual sum, which both branches need); each batch norm writes its input
// gradient to R and each convolution its input gradient to Q, so when the
// main branch is done Q holds the block input's gradient, the shortcut adds
// into it, and P and Q swap for the block before.
func (n *Net[T]) Backward(dout Buffer[T], batch int) {
	be, train := n.be, n.Train
	splits := 1
	if train {
		splits = max(1, n.Splits)
	}
	d := dout
	for i := len(n.head) - 1; i >= 0; i-- {
		l := n.head[i]
		in := n.Features(batch)
		if i > 0 {
			in = be.Slice(n.head[i-1].post, 0, batch*l.spec.In)
		}
		din := be.Slice(n.dFeatures, 0, batch*l.spec.In)
		be.LinearBackward(din, l.dw, l.db, d, in, l.w, batch, l.spec.In, l.spec.Out)
		d = din
		if i > 0 {
			dh := be.Slice(n.dHead, 0, batch*l.spec.In)
			be.ReLUBackward(dh, din, in)
			d = dh
		}
	}

	p, q, r := n.gradP, n.gradQ, n.gradR
	sized := func(buf, like Buffer[T]) Buffer[T] { return be.Slice(buf, 0, like.Len()) }
	last := n.blocks[len(n.blocks)-1]
	be.GlobalAvgPoolBackward(sized(p, n.slice(last.out, batch)), d, batch, n.Arch.Features, n.finalHW)

	for bi := len(n.blocks) - 1; bi >= 0; bi-- {
		b := n.blocks[bi]
		in := n.blockInput(bi, batch)
		out := n.slice(b.out, batch)
		dsum := sized(p, out)
		be.ReLUBackward(dsum, dsum, out)
		cur := dsum
		for i := len(b.convs) - 1; i >= 0; i-- {
			pre, post := n.slice(b.pre[i], batch), n.slice(b.post[i], batch)
			dpre := sized(r, pre)
			be.BatchNormBackward(dpre, cur, pre, post, b.bns[i].state, b.bns[i].geomAt(batch, splits), train, i < len(b.convs)-1)
			convIn := in
			if i > 0 {
				convIn = n.slice(b.post[i-1], batch)
			}
			cur = sized(q, convIn)
			be.Conv2DBackward(cur, b.convs[i].dw, dpre, convIn, b.convs[i].w, b.convs[i].geomAt(batch))
		}
		dx := cur // in Q: the block input's gradient from the main branch
		if b.down != nil {
			pre, post := n.slice(b.downPre, batch), n.slice(b.downPost, batch)
			dpre := sized(r, pre)
			be.BatchNormBackward(dpre, dsum, pre, post, b.downBN.state, b.downBN.geomAt(batch, splits), train, false)
			g := b.down.geomAt(batch)
			g.AccumulateInput = true
			be.Conv2DBackward(dx, b.down.dw, dpre, in, b.down.w, g)
		} else {
			be.Add(dx, dsum)
		}
		p, q = q, p
	}

	// Stem: max-pool, batch norm with ReLU, then the first convolution
	// (whose input gradient nobody needs).
	stemPost := n.slice(n.stemPost, batch)
	dpost := sized(p, stemPost)
	if n.Arch.MaxPool {
		g := n.pool
		g.N = batch
		dpost = sized(q, stemPost)
		be.MaxPoolBackward(dpost, sized(p, n.slice(n.poolOut, batch)), stemPost, g)
	}
	stemOut := n.slice(n.stemOut, batch)
	dpre := sized(r, stemOut)
	be.BatchNormBackward(dpre, dpost, stemOut, stemPost, n.stemBN.state, n.stemBN.geomAt(batch, splits), train, true)
	be.Conv2DBackward(nil, n.stem.dw, dpre, n.input, n.stem.w, n.stem.geomAt(batch))
}

// blockInput returns the activation that block bi reads.
func (n *Net[T]) blockInput(bi, batch int) Buffer[T] {
	switch {
	case bi > 0:
		return n.slice(n.blocks[bi-1].out, batch)
	case n.Arch.MaxPool:
		return n.slice(n.poolOut, batch)
	default:
		return n.slice(n.stemPost, batch)
	}
}
