// Package retrieval answers "which stored frames look like this one": exact
// top-k cosine search over the key queue's vectors of one model.
//
// The queue keeps each model's vectors L2-normalised in one contiguous
// row-major matrix (keyqueue.Matrix), so the cosine similarities of a query
// against every entry are one matrix-vector product, done by the shared
// SGEMM of internal/blas without copying the matrix; a batch of queries is
// one matrix-matrix product. The k best rows per query are kept in a bounded
// min-heap while the scores stream by. Filters (sources, labels, a time
// range) never copy the matrix: a time range on time-ordered entries narrows
// the rows multiplied, and the other filters are a check on each candidate
// row. Equal scores rank the newer entry (higher id) first.
//
//	s, err := retrieval.New(queue, gemm)
//	hits, err := s.Search(ctx, model, embedding, 5, retrieval.Filter{Sources: []string{"cam0"}})
//
// Bench measures top-k latency over queues of 10k and 100k entries and the
// memory bandwidth it achieves against a reference measured in the same run;
// `edge bench` prints it.
package retrieval
