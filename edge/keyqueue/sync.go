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

// syncIfDue applies the SyncEvery part of the sync policy.
func (q *Queue) syncIfDue() error {
	if q.opts.SyncEvery > 0 && q.unsynced >= q.opts.SyncEvery {
		return q.syncLocked()
	}
	return nil
}

// syncLoop applies the SyncInterval part of the sync policy until Close.
func (q *Queue) syncLoop(every time.Duration) {
	defer close(q.stopped)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-q.stop:
			return
		case <-t.C:
			q.wmu.Lock()
			if !q.wclosed && q.broken == nil {
				_ = q.syncLocked() // logged and made sticky by syncLocked
			}
			q.wmu.Unlock()
		}
	}
}
