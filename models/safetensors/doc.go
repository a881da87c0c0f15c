// Package safetensors reads and writes the safetensors format, the tensor
// file format PyTorch users already read (huggingface/safetensors).
//
// A file is an 8-byte little-endian header length N, N bytes of a JSON
// object, then the raw tensor data. The JSON maps each tensor name to its
// dtype, shape and data_offsets (a [begin, end) byte range of the data
// section) and may hold a "__metadata__" object of string values. Values are
// little-endian and row-major.
//
// The writer lays tensors out as the reference implementation does, so a
// file written here is byte-for-byte what safetensors' own serializer
// writes for the same tensors: sorted by dtype alignment (largest first)
// then by name, the JSON header listing them in that order and padded with
// spaces to a multiple of 8 bytes, so every tensor's data is aligned to its
// element size. Files are written atomically.
//
// The reader validates everything before handing out a tensor: the header
// length bounds, the JSON, every entry's dtype and shape, that the data
// offsets tile the data section exactly (in range, no overlap, no gap, no
// trailing bytes) and that each range holds shape × dtype bytes. Errors are
// one line and name the offending tensor.
package safetensors
