package keyqueue

import (
	"fmt"
	"io"
	"os"
	"time"
)

// headerRecordSize is the size of a segment header record.
const headerRecordSize = frameHeaderSize + 1 + headerPayload

// Append adds e to the queue, evicting the oldest entries beyond the
// capacity, and returns its id. The vector is copied and L2-normalised. An
// invalid entry is refused with an error wrapping ErrInvalidEntry (and
// ErrDimMismatch or ErrThumbnailTooLarge where they apply); a failed write
// (a full disk, say) returns the cause and leaves the queue as it was.
func (q *Queue) Append(e Entry) (uint64, error) {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if err := q.writable(); err != nil {
		return 0, err
	}
	vec, err := q.validate(&e)
	if err != nil {
		return 0, err
	}
	t := e.Time
	if t.IsZero() {
		t = time.Now()
	}
	id := q.st.nextID
	if id >= maxID {
		return 0, fmt.Errorf("%w: ids exhausted", ErrInvalidEntry)
	}
	floor := q.st.floorAfterAppend(q.opts.Capacity)
	f := entryFields{
		id: id, time: t.UnixNano(), floor: floor, model: e.Model,
		source: e.Source, label: e.Label, vector: vec, thumb: e.Thumbnail,
	}
	rec, thumbOff := appendEntryRecord(q.buf[:0], q.tab, &f)
	q.buf = rec
	if err := q.makeRoom(len(rec)); err != nil {
		return 0, err
	}
	off, err := q.writeRecord(rec)
	if err != nil {
		return 0, err
	}
	if err := q.syncIfDue(); err != nil {
		return 0, err
	}
	sl := slot{id: id, time: f.time, source: e.Source, label: e.Label, recLen: uint32(len(rec))}
	if len(e.Thumbnail) > 0 {
		sl.thumb = thumbLoc{seq: q.activeSeq, off: off + int64(thumbOff), n: uint32(len(e.Thumbnail))}
	}
	q.mu.Lock()
	copy(q.st.add(sl, e.Model, len(vec)), vec)
	q.st.evictBelow(floor)
	q.mu.Unlock()
	q.afterWrite()
	return id, nil
}

// validate checks e and returns its normalised vector.
func (q *Queue) validate(e *Entry) ([]float32, error) {
	if err := validateName("source", e.Source, false); err != nil {
		return nil, err
	}
	if err := validateName("label", e.Label, true); err != nil {
		return nil, err
	}
	if e.Model.IsZero() {
		return nil, fmt.Errorf("%w: model sha256 is zero", ErrInvalidEntry)
	}
	if err := validateThumbnail(e.Thumbnail, q.opts.MaxThumbnailBytes); err != nil {
		return nil, err
	}
	if err := q.st.checkDim(e.Model, len(e.Vector)); err != nil {
		return nil, err
	}
	return normalized(e.Vector, q.opts.MaxDim)
}

// SetLabel sets the label of entry id; an empty label clears it. It returns
// an error wrapping ErrNotFound when the entry is not (or no longer) in the
// queue.
func (q *Queue) SetLabel(id uint64, label string) error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if err := q.writable(); err != nil {
		return err
	}
	if err := validateName("label", label, true); err != nil {
		return err
	}
	i := q.st.find(id)
	if i < 0 {
		return fmt.Errorf("%w: id %d", ErrNotFound, id)
	}
	if q.st.live()[i].label == label {
		return nil
	}
	rec := appendLabelRecord(q.buf[:0], q.tab, id, label)
	q.buf = rec
	if err := q.makeRoom(len(rec)); err != nil {
		return err
	}
	if _, err := q.writeRecord(rec); err != nil {
		return err
	}
	if err := q.syncIfDue(); err != nil {
		return err
	}
	q.mu.Lock()
	q.st.setLabel(i, label)
	q.mu.Unlock()
	q.afterWrite()
	return nil
}

// writable returns why writes are refused, if they are.
func (q *Queue) writable() error {
	if q.wclosed {
		return ErrClosed
	}
	if q.broken != nil {
		return fmt.Errorf("%w: %w", ErrBroken, q.broken)
	}
	return nil
}

// writeRecord writes one complete record at the end of the active segment
// and returns its offset. A failed write is undone by truncating the file
// back; if even that fails, the next write retries the truncation first.
func (q *Queue) writeRecord(rec []byte) (int64, error) {
	path := q.segPath(q.activeSeq)
	if q.tornTail {
		if err := q.active.Truncate(q.size); err != nil {
			return 0, fmt.Errorf("keyqueue: undo an earlier failed write in %s: %w", path, err)
		}
		q.tornTail = false
	}
	off := q.size
	n, err := q.active.WriteAt(rec, off)
	if err == nil && n < len(rec) {
		err = io.ErrShortWrite
	}
	if err != nil {
		if terr := q.active.Truncate(off); terr != nil {
			q.tornTail = true
			q.log.Warn("cannot undo a failed write; will retry before the next one", "segment", path, "offset", off, "err", terr)
		}
		return 0, fmt.Errorf("keyqueue: write %d-byte record to %s at offset %d: %w", len(rec), path, off, err)
	}
	q.size += int64(len(rec))
	q.segs[len(q.segs)-1].bytes = q.size
	q.diskBytes.Add(int64(len(rec)))
	q.unsynced++
	q.written++
	return off, nil
}

// makeRoom seals the active segment and starts the next one when a record
// of n bytes would take it past SegmentBytes. A record larger than that
// gets a segment of its own.
func (q *Queue) makeRoom(n int) error {
	if q.size+int64(n) <= q.opts.SegmentBytes || q.size <= headerRecordSize {
		return nil
	}
	if err := q.syncLocked(); err != nil {
		return err
	}
	sealed := len(q.segs) - 1
	if err := q.startSegment(q.activeSeq + 1); err != nil {
		return err
	}
	q.segs[sealed].lastID = q.st.nextID - 1
	return nil
}

// startSegment creates segment seq with its header and makes it the active
// one. The previous active segment stays open for reading thumbnails.
func (q *Queue) startSegment(seq uint64) error {
	path := q.segPath(seq)
	f, err := q.fs.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC)
	if err != nil {
		return fmt.Errorf("keyqueue: create segment %s: %w", path, err)
	}
	hdr := appendHeaderRecord(nil, q.tab, segmentHeader{
		seq: seq, nextID: q.st.nextID, floor: q.st.floor, created: time.Now().UnixNano(),
	})
	if _, err = f.WriteAt(hdr, 0); err == nil {
		err = q.fs.SyncDir(q.dir)
	}
	if err != nil {
		f.Close()
		if rerr := q.fs.Remove(path); rerr != nil {
			q.log.Warn("cannot remove a segment that failed to start", "segment", path, "err", rerr)
		}
		return fmt.Errorf("keyqueue: start segment %s: %w", path, err)
	}
	q.mu.Lock()
	q.files[seq] = f
	q.mu.Unlock()
	q.active, q.activeSeq, q.size = f, seq, int64(len(hdr))
	q.segs = append(q.segs, segInfo{seq: seq, bytes: int64(len(hdr))})
	q.diskBytes.Add(int64(len(hdr)))
	q.unsynced++
	q.written++
	q.tornTail = false
	return nil
}

// afterWrite deletes segments that hold only evicted entries, compacts when
// the files have grown too large, and drops an oversized encoding buffer.
func (q *Queue) afterWrite() {
	q.dropEvictedSegments()
	q.maybeCompact()
	if cap(q.buf) > 1<<20 {
		q.buf = nil
	}
}

// dropEvictedSegments deletes the oldest sealed segments whose records all
// refer to evicted entries.
func (q *Queue) dropEvictedSegments() {
	for len(q.segs) > 1 && q.segs[0].lastID < q.st.floor {
		s := q.segs[0]
		q.mu.Lock()
		f := q.files[s.seq]
		delete(q.files, s.seq)
		q.mu.Unlock()
		q.removeSegment(s.seq, f, "all entries evicted")
		q.diskBytes.Add(-s.bytes)
		q.segs = q.segs[1:]
	}
}
