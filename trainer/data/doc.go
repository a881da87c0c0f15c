// Package data opens image datasets for training and evaluation and keeps
// them decoded in memory as uint8 RGB.
//
// A dataset is an image folder (<root>/<class>/<file>), a flat folder of
// unlabelled images, or a .tar / .tar.gz / .tgz archive holding either
// layout (a leading split folder such as train/ is fine: an image's class is
// the folder directly above it). JPEG and PNG files are read; classes sorted
// by name give the label indices; images in a flat layout have label -1.
//
// Load works in two passes. The first reads only the image headers
// (image.DecodeConfig) to count the images, learn their sizes and estimate the
// memory the cache will take; a load that would exceed the memory budget is
// refused before anything large is allocated. The second pass decodes every
// selected image once, on several goroutines, into one contiguous []uint8 in
// HWC RGB order. Archives are streamed sequentially in both passes and never
// unpacked to disk.
//
// Unreadable files are skipped and reported in one warning; the load fails
// only when more than Options.MaxBadFraction of the files are bad.
package data
