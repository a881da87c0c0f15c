package keyqueue

import (
	"context"
	"fmt"
	"os"
	"time"
)

// Compact rewrites the live entries, with their current labels, into one
// snapshot segment and deletes every older segment; see the package doc for
// why a crash at any point leaves a consistent queue. Appends wait while it
// runs (about a second per 300 MB); reads do not. A cancelled ctx abandons
// the compaction and leaves the queue as it was.
func (q *Queue) Compact(ctx context.Context) error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if err := q.writable(); err != nil {
		return err
	}
	return q.compactLocked(ctx)
}

// maybeCompact compacts when the segment files exceed CompactRatio × the
// live bytes + 2 × SegmentBytes; a failure is logged and holds further
// attempts off for a while.
func (q *Queue) maybeCompact() {
	if q.opts.CompactRatio < 0 {
		return
	}
	if q.compactAfter > 0 {
		q.compactAfter--
		return
	}
	limit := q.opts.CompactRatio*float64(q.st.liveBytes) + 2*float64(q.opts.SegmentBytes)
	if float64(q.diskBytes.Load()) <= limit {
		return
	}
	start := time.Now()
	before := q.diskBytes.Load()
	if err := q.compactLocked(context.Background()); err != nil {
		q.log.Warn("automatic compaction failed; will retry later", "err", err)
		q.compactAfter = 1024
		return
	}
	q.log.Info("compacted", "bytes_before", before, "bytes_after", q.diskBytes.Load(), "took", time.Since(start))
}

// compactLocked does the work of Compact; the caller holds wmu.
func (q *Queue) compactLocked(ctx context.Context) error {
	seq := q.activeSeq + 1
	final := q.segPath(seq)
	tmp := final + tmpExt
	f, err := q.fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("keyqueue: compact: create %s: %w", tmp, err)
	}
	fail := func(err error) error {
		f.Close()
		if rerr := q.fs.Remove(tmp); rerr != nil {
			q.log.Warn("cannot remove an abandoned compaction file", "file", tmp, "err", rerr)
		}
		return fmt.Errorf("keyqueue: compact into %s: %w", final, err)
	}

	w := &batchWriter{f: f, buf: make([]byte, 0, 1<<20)}
	w.write(appendHeaderRecord(nil, q.tab, segmentHeader{
		snapshot: true, seq: seq, nextID: q.st.nextID, floor: q.st.floor, created: time.Now().UnixNano(),
	}))
	live := q.st.live()
	locs := make([]thumbLoc, len(live))
	lens := make([]uint32, len(live))
	var liveBytes int64
	var thumb []byte
	for i := range live {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return fail(err)
			}
		}
		sl := &live[i]
		thumb = thumb[:0]
		if n := int(sl.thumb.n); n > 0 {
			if cap(thumb) < n {
				thumb = make([]byte, n)
			}
			thumb = thumb[:n]
			if _, err := q.files[sl.thumb.seq].ReadAt(thumb, sl.thumb.off); err != nil {
				return fail(fmt.Errorf("read thumbnail of entry %d from %s: %w", sl.id, q.segPath(sl.thumb.seq), err))
			}
		}
		rec, thumbOff := appendEntryRecord(q.buf[:0], q.tab, &entryFields{
			id: sl.id, time: sl.time, floor: q.st.floor, model: sl.model.model,
			source: sl.source, label: sl.label, vector: sl.model.vector(sl.row), thumb: thumb,
		})
		q.buf = rec
		if len(thumb) > 0 {
			locs[i] = thumbLoc{seq: seq, off: w.size() + int64(thumbOff), n: uint32(len(thumb))}
		}
		lens[i] = uint32(len(rec))
		liveBytes += int64(len(rec))
		w.write(rec)
	}
	w.flush()
	if w.err != nil {
		return fail(w.err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := q.fs.Rename(tmp, final); err != nil {
		return fail(err)
	}
	// From here the snapshot is in charge (it supersedes older segments on
	// the next open), so the swap goes ahead whatever fails below.
	if err := q.fs.SyncDir(q.dir); err != nil {
		q.log.Warn("cannot sync the folder after compaction; the next rotation retries", "err", err)
	}
	old := q.segs
	oldFiles := make([]File, len(old))
	q.mu.Lock()
	for i := range live {
		live[i].thumb = locs[i]
		live[i].recLen = lens[i]
	}
	q.st.liveBytes = liveBytes
	for i, s := range old {
		oldFiles[i] = q.files[s.seq]
		delete(q.files, s.seq)
	}
	q.files[seq] = f
	q.mu.Unlock()
	for i, s := range old {
		q.removeSegment(s.seq, oldFiles[i], "compacted")
	}
	q.segs = []segInfo{{seq: seq, bytes: w.size()}}
	q.active, q.activeSeq, q.size = f, seq, w.size()
	q.unsynced, q.tornTail = 0, false
	q.diskBytes.Store(w.size())
	q.lastSync.Store(time.Now().UnixNano())
	return nil
}

// batchWriter writes a new file sequentially through a buffer; the first
// error sticks.
type batchWriter struct {
	f       File
	buf     []byte
	flushed int64 // bytes already written to f
	err     error
}

// size is the number of bytes written or buffered.
func (w *batchWriter) size() int64 { return w.flushed + int64(len(w.buf)) }

// write appends b.
func (w *batchWriter) write(b []byte) {
	if len(w.buf)+len(b) > cap(w.buf) {
		w.flush()
	}
	if len(b) > cap(w.buf) {
		w.writeOut(b)
		return
	}
	w.buf = append(w.buf, b...)
}

// flush writes the buffer out.
func (w *batchWriter) flush() {
	w.writeOut(w.buf)
	w.buf = w.buf[:0]
}

// writeOut writes b at the end of the file.
func (w *batchWriter) writeOut(b []byte) {
	if w.err == nil && len(b) > 0 {
		_, w.err = w.f.WriteAt(b, w.flushed)
	}
	w.flushed += int64(len(b))
}
