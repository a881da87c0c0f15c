// Package keyqueue is the edge agent's persistent key queue: a FIFO of the
// most recent K embedding entries (like MoCo's queue of keys), each with an
// id, a time, a source name, the sha256 of the model that made it, an
// optional label, the L2-normalised vector and a small JPEG thumbnail, so the
// queue can be searched (package retrieval), labelled for the probe and
// re-embedded after a model change.
//
// # Use
//
//	q, err := keyqueue.Open(dir, keyqueue.Options{Capacity: 100_000})
//	id, err := q.Append(keyqueue.Entry{Time: t, Source: "cam0", Model: m, Vector: v, Thumbnail: jpg})
//	err = q.SetLabel(id, "person")
//	mat, err := q.Vectors(m) // zero-copy matrix of model m's vectors, for retrieval
//	err = q.Close()
//
// Ids start at 1, grow by one per Append and are never reused, also across
// restarts and after every entry was evicted. Appending beyond the capacity
// evicts the oldest entries. Vectors are stored L2-normalised; all vectors of
// one model must have the same dimension.
//
// # Storage
//
// The queue lives in one folder as numbered segment files, "<seq>.seg" with
// seq as 16 hex digits, plus a LOCK file that keeps a second process out
// (ErrLocked). A segment is an append-only log of records:
//
//	offset  size  field
//	0       4     body length N, uint32 little-endian (1 <= N <= 64 MiB)
//	4       4     CRC-32C (Castagnoli) of bytes 0..3 followed by the body
//	8       N     body: one type byte, then the payload
//
// Payload integers are little-endian; strings are a uint16 length and UTF-8
// bytes; float32 are IEEE-754 bits. Record types:
//
//	1 header  magic "MOCOKQ01", version u16 (1), flags u16 (bit 0: snapshot),
//	          reserved u32 (0), seq u64, next id u64, floor u64,
//	          created unix ns i64. First record of every segment.
//	2 entry   id u64, time unix ns i64, floor u64, model [32]byte, dim u32,
//	          source len u16, label len u16, source, label, dim × float32,
//	          thumbnail len u32, thumbnail bytes.
//	3 label   id u64, label len u16, label ("" clears it).
//	4 evict   floor u64.
//
// A floor is an eviction marker: once it is applied, every entry with an id
// below it is gone. Each entry record carries the floor that holds after it
// is appended, so replay evicts exactly what the writer evicted, whatever the
// capacity of the next run; an evict record is written when reopening with a
// smaller capacity.
//
// A segment is sealed when it would grow past Options.SegmentBytes; the next
// one starts with a header that repeats the next id and the floor. A sealed
// segment whose ids are all below the floor is deleted, so the folder holds
// about K entries plus up to two segments. When label updates or capacity
// changes make the files much larger than the live entries
// (Options.CompactRatio), or on Compact, the live state is written as a
// snapshot segment (header flag bit 0) to a temporary file, fsynced and
// renamed into place; older segments are then deleted. On open the newest
// snapshot segment supersedes every older one, so a crash at any point of a
// compaction leaves either the old or the new set of segments in charge.
//
// # Recovery
//
// Open replays the segments in order and rebuilds the in-memory state (the
// entries' metadata and vectors; thumbnails stay on disk and are read by
// Thumbnail). Replay of a segment stops at its first record that is
// incomplete (a torn write) or fails its checksum or structure checks.
// In the last segment, which is the only one written after its last fsync,
// the file is truncated there, so appends continue from the last good
// record; a damaged (not merely incomplete) tail is first copied to
// "<seq>.seg.<offset>.damaged" for inspection. In an older, sealed segment
// damage can only be media corruption: the rest of that segment is skipped
// and replay continues with the next one. Every record before the damage is
// kept in both cases. Each damage is logged as a warning naming the segment
// file and byte offset and is listed in Queue.Recovery as a
// *CorruptionError; Options.Strict makes Open fail on it instead.
//
// # Sync policy
//
// Every record is handed to the operating system with one pwrite(2) before
// Append or SetLabel returns; the queue keeps no user-space write buffer.
// The active segment is fsynced once Options.SyncEvery records (default
// 64) are unsynced, by a background timer at most Options.SyncInterval
// (default 1 s) after a record was written, when a segment is sealed, on
// Compact, on Sync and on Close. The SyncEvery fsync is a group commit: a
// background syncer runs it outside the write lock, so appends continue
// while the disk flushes (on this machine that kept the edge pipeline at
// 0.98 of raw inference instead of 0.90); a write only waits for an fsync
// itself when 2×SyncEvery records are unsynced, or always with SyncEvery 1.
//
//   - A crash of the process alone (panic, OOM kill, kill -9) loses nothing
//     that Append or SetLabel returned: the data is in the kernel's page cache
//     and reaches the disk without the process. At most the one record being
//     written at that instant is lost, and Append had not returned for it.
//   - A power cut or kernel crash loses at most the records written since the
//     last fsync: fewer than 2×SyncEvery records, and none written more than
//     SyncInterval (plus the time one fsync takes) before the cut. With
//     SyncEvery 1 nothing that Append returned is lost.
//   - Losses are always a suffix: replay stops at the first damaged record
//     and a segment is fsynced before the next one is started, so no entry
//     is lost while a later one survives.
//
// If an fsync fails the data may be lost without a trace (the kernel drops
// the dirty pages), so the queue stops accepting writes (ErrBroken) until it
// is reopened; the record whose Append reported the failure may or may not
// be there after the reopen. A failed write (for example a full disk,
// ENOSPC) is undone by truncating the segment back, Append returns the error
// and the queue stays usable.
//
// # Concurrency
//
// A Queue is safe for concurrent use. Writes (Append, SetLabel, Sync,
// Compact, Close) are serialised; reads (Get, Len, ForEach, Snapshot,
// Thumbnail, Vectors, Labels, LabeledIDs, Stats) run in parallel with each
// other and with a write, and see every write that has returned. A Matrix
// returned by Vectors is an immutable view: later appends, evictions and
// label changes never modify the memory it refers to.
package keyqueue
