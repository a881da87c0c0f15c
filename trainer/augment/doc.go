// Package augment implements the image augmentations of MoCo v1/v2 and of
// the official MoCo CIFAR-10 demo with torchvision's semantics, and a Loader
// that runs them on goroutine workers to produce NCHW float32 batches of two
// views (query and key).
//
// Inputs are uint8 HWC RGB images (as kept by trainer/data). The first step
// of a Pipeline (RandomResizedCrop or Resize) turns the image into a float32
// planar CHW Image with values in [0,1]; the colour and blur steps work on
// that in float32; the last step normalises with a per-channel mean and std.
//
// Differences from the PIL path that torchvision takes in the official
// scripts, all below one grey level: PIL rounds to uint8 after every step,
// this package keeps float32 throughout (the result torchvision gives on
// float tensors). Where torchvision's tensor path and PIL disagree, PIL
// (what the official scripts ran) is followed: grey is ITU-R 601-2 luma
// 0.299R+0.587G+0.114B (torchvision's tensor code uses 0.2989), resampling
// is PIL's antialiased bilinear, and the blur is PIL's GaussianBlur.
//
// Every random parameter is drawn from a math/rand/v2 PCG generator seeded
// from (seed, epoch, image index), so a sample's views depend on nothing
// else: not on the batch it lands in, the worker that makes it or the number
// of workers.
package augment
