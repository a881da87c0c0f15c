package keyqueue

import (
	"fmt"
	"time"
)

// Sync makes every record written so far durable (fsync), whatever the
// sync policy. After a failed fsync the queue refuses writes (ErrBroken).
func (q *Queue) Sync() error {
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if err := q.writable(); err != nil {
		return err
	}
	return q.syncLocked()
}

// syncLocked fsyncs the active segment if it has unsynced records.
func (q *Queue) syncLocked() error {
	if q.broken != nil {
		return fmt.Errorf("%w: %w", ErrBroken, q.broken)
	}
	if q.unsynced == 0 {
		return nil
	}
	if err := q.active.Sync(); err != nil {
		q.broken = fmt.Errorf("keyqueue: fsync %s: %w", q.segPath(q.activeSeq), err)
		q.log.Error("fsync failed; the queue refuses writes until reopened", "err", err)
		return fmt.Errorf("%w: %w", ErrBroken, q.broken)
	}
	q.unsynced = 0
	q.lastSync.Store(time.Now().UnixNano())
	return nil
}

// syncIfDue applies the SyncEvery part of the sync policy; q.wmu is held.
// With SyncEvery 1 every record is synced before its write returns. Above
// that the fsync is a group commit done by the background syncer outside
// the write lock, so appends go on while the disk flushes; only when the
// syncer has fallen behind by twice SyncEvery records does a write sync
// itself (the bound the sync policy promises).
func (q *Queue) syncIfDue() error {
	every := q.opts.SyncEvery
	switch {
	case every <= 0 || q.unsynced < every:
		return nil
	case every == 1 || q.unsynced >= 2*every:
		return q.syncLocked()
	}
	select {
	case q.syncReq <- struct{}{}:
	default: // a request is already pending
	}
	return nil
}

// syncLoop is the background syncer: it fsyncs when syncIfDue asks and
// every interval (when positive), until Close.
func (q *Queue) syncLoop(every time.Duration) {
	defer close(q.stopped)
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-q.stop:
			return
		case <-tick:
		case <-q.syncReq:
		}
		q.syncOutside()
	}
}

// syncOutside fsyncs the active segment without holding the write lock
// during the fsync: it notes the file and how many records were written so
// far, syncs, and then counts only the records written since as unsynced. A segment
// sealed meanwhile was synced by the seal, so its result is moot.
func (q *Queue) syncOutside() {
	q.wmu.Lock()
	if q.wclosed || q.broken != nil || q.unsynced == 0 {
		q.wmu.Unlock()
		return
	}
	f, seq, w := q.active, q.activeSeq, q.written
	q.wmu.Unlock()

	err := f.Sync()

	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.wclosed || q.broken != nil || q.activeSeq != seq {
		return
	}
	if err != nil {
		q.broken = fmt.Errorf("keyqueue: fsync %s: %w", q.segPath(seq), err)
		q.log.Error("fsync failed; the queue refuses writes until reopened", "err", err)
		return
	}
	// Only the records written after the fsync started may still be
	// unsynced (fewer if an inline sync ran meanwhile).
	q.unsynced = min(q.unsynced, int(q.written-w))
	q.lastSync.Store(time.Now().UnixNano())
}
