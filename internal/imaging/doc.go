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
// The arithmetic is the training side's (trainer/augment.ResizedCrop and
// the evaluation preprocessing of `trainer embed`), operation for operation,
// so the results are bit-identical to it on the same machine; the tests
// hold them to it.
//
// The package is pure Go and depends on nothing but the standard library.
package imaging
