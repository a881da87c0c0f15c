// Package imaging holds the image kernels that training and the edge share,
// so that an image gives the same network input on both sides:
//
//   - Resampler: PIL's antialiased bilinear resampling of a uint8 HWC RGB
//     image into planar float32 (the filter torchvision applies to PIL
//     images, and to tensors with antialias=True), optionally computing only
//     a window of the output (a crop) and only the source rows it needs;
//   - Eval: torchvision's evaluation transform Resize(shorter side) ->
//     CenterCrop -> ToTensor -> Normalize, as a model manifest describes it;
//   - RGB: any image.Image as packed 8-bit RGB, alpha dropped, the way PIL's
//     convert("RGB") and the training data loader see it.
//
// trainer/augment.ResizedCrop calls Resampler itself, so training
// augmentation and edge preprocessing share one kernel; the tests hold it
// bit for bit to an independent full-output reference (reference_test.go)
// and hold Eval to `trainer embed`'s evaluation preprocessing spelled out
// on that reference.
//
// The package is pure Go and depends on nothing but the standard library.
package imaging
