package infer

import "time"

// Batch is one embedding request: one preprocessed image (N = 1) or an
// already-formed batch. Pixels holds N×3×H×W normalised float32 values in
// NCHW order for the serving model's input (ModelInfo.Input; package
// preprocess makes them). The engine copies Pixels when the request joins
// a batch and never reads it after Embed returns.
type Batch struct {
	// Pixels are the images, image i at i×ModelInfo.ImageLen().
	Pixels []float32
	// N is the number of images.
	N int
	// Model, when set, is the SHA-256 of the model the pixels were
	// prepared for (ModelInfo.SHA256): if another model serves by the time
	// the request runs, it fails with ErrModelChanged instead of running
	// on input prepared for a different model.
	Model string
}

// Result is the answer to one request: its own rows of both outputs.
type Result struct {
	// Features is [N, FeaturesDim], row-major.
	Features []float32
	// Embedding is [N, EmbeddingDim], row-major, L2-normalised rows.
	Embedding []float32
	// FeaturesDim and EmbeddingDim are C and D.
	FeaturesDim, EmbeddingDim int
	// Model is the SHA-256 of the model that computed the result.
	Model string
}

// Row returns image i's features and embedding.
func (r Result) Row(i int) (features, embedding []float32) {
	c, d := r.FeaturesDim, r.EmbeddingDim
	return r.Features[i*c : (i+1)*c : (i+1)*c], r.Embedding[i*d : (i+1)*d : (i+1)*d]
}

// request is a Batch in the queue. taken is guarded by the queue's lock;
// res, finished, err and answered belong to the batcher goroutine until
// done is closed.
type request struct {
	b        Batch
	enqueued time.Time
	taken    int // images handed to batches (or dropped)
	done     chan struct{}
	res      Result
	finished int // images answered
	err      error
	answered bool // done is closed
}
