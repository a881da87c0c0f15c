// Package weights moves a network's state dict (its trainable parameters,
// batch-norm running statistics and num_batches_tracked counters, in
// torchvision's names) to and from safetensors files.
//
// A State holds the tensors in the flat layout the training engine uses:
// every trainable tensor back to back in Arch.StateDict() order in Params,
// and every running mean and variance in that order in Stats. The package
// works on host slices and does not import the trainer, so the edge and
// other tools can read checkpoints too; a network on an accelerator is
// downloaded into a State first.
//
// Tensor names can carry a prefix so that one file holds several networks,
// as MoCo checkpoints do ("encoder_q.conv1.weight", "encoder_k.conv1.weight",
// as in the official code). The architecture is recorded in the file's
// metadata under the same prefix, so a file says what it holds.
package weights
