// Package agent is the edge daemon's core: it wires the frame sources, the
// preprocessing, the inference engine, the key queue, retrieval and the
// reporters into one process that runs until its context ends.
//
// # Data flow
//
// Frames flow one way: a source (package source) puts each frame in its own
// bounded mailbox; pipeline workers take frames fairly from all mailboxes,
// decode and preprocess them for the serving model (package preprocess),
// submit them to the inference engine (package infer), whose batcher forms
// batches of up to batch.max frames, and hand the resulting features to the
// key queue (package keyqueue, with a small JPEG thumbnail of what the model
// saw) and to the probe. A frame that cannot be decoded is counted against
// its source and skipped; a frame that finds the inference queue full is
// dropped and counted. Nothing in the pipeline waits on a reporter.
//
// Control flows the other way: HTTP requests (package api), MQTT commands
// and bridge events become calls on the Agent: Query, Label, Snapshot,
// Reload, TrainProbe.
//
// # Concurrency
//
// Decoding and preprocessing use at most preprocess.workers goroutines at a
// time (the CPU-bound part), but twice batch.max frames may wait on the
// engine at once so that the batcher can fill its batches.
//
// # Model changes
//
// Reload validates the new model fully (manifest, session, dry run) inside
// the engine before swapping; on failure the old model keeps serving. After
// a swap, a background job re-embeds the key queue's entries from their
// thumbnails with the new model (reporting progress), so that retrieval over
// the queue keeps working; retrieval only ever compares vectors of the
// serving model.
//
// # Shutdown
//
// When Run's context ends the sources stop, the frames already taken are
// finished (the engine drains its queue), the key queue is synced and
// closed, and Run returns nil.
package agent
