// Package preprocess turns camera frames and image files into the input an
// exported encoder expects, as its manifest describes it (manifest.Input):
// the shorter side resized to Resize pixels with PIL's antialiased bilinear
// filter, a centred Crop×Crop square cut out, RGB, (pixel/255 − mean)/std
// per channel, NCHW float32.
//
// The arithmetic is internal/imaging's, which the training side's
// evaluation preprocessing matches bit for bit, so an image gives the same
// network input on the edge as in `trainer embed`.
//
// A Preprocessor accepts JPEG or PNG bytes (Bytes), a decoded image.Image
// (Image) or a raw packed RGB frame such as ffmpeg writes with
// -pix_fmt rgb24 (RGB). Bytes reads the image header first and refuses an
// image larger than the configured limit before decoding a single pixel,
// so a hostile 20000×20000 header costs nothing. Empty, truncated and
// corrupt inputs return errors wrapping the sentinels below; no input makes
// it panic. Batch spreads a batch over worker goroutines.
//
// JPEG is decoded by image/jpeg, as on the training side, so preprocessing
// matches `trainer embed` bit for bit. WithTurboJPEG switches to
// libjpeg-turbo (loaded at run time, Debian package libturbojpeg0), about
// 2.3 times faster end to end for 640x480 frames and within a few grey
// levels of image/jpeg; such a Preprocessor must be closed.
package preprocess
