// Package engine is the training engine: layers with explicit forward and
// backward passes over flat buffers, in the style of llm.c, run by a Backend
// that owns memory and kernels.
//
// The CPU backend is the readable reference. Its kernels are generic over
// float32 (training) and float64 (the gradient checks against finite
// differences), so the code that is checked is the code that trains. Layout
// is NCHW throughout. A network is a list of layers whose backward pass is
// the same list reversed; parameters and gradients each live in one
// contiguous buffer with named views, so zeroing gradients, the optimiser
// step and MoCo's momentum update are single passes over one buffer.
package engine
