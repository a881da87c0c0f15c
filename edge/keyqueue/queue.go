package keyqueue

import (
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// segInfo describes one segment file of the folder.
type segInfo struct {
	seq    uint64
	bytes  int64
	lastID uint64 // highest id its records may refer to; 0 for the active one
}

// Queue is a persistent FIFO of embedding entries; see the package doc.
type Queue struct {
	dir  string
	opts Options
	fs   FS
	log  *slog.Logger
	tab  *crc32.Table
	lock *os.File

	// wmu serialises writers and guards the fields down to mu.
	wmu       sync.Mutex
	wclosed   bool
	active    File
	activeSeq uint64
	size      int64     // bytes of the active segment that hold whole records
	segs      []segInfo // oldest first; the active segment is last
	unsynced  int       // records written since the last fsync
	written   uint64    // records written since Open (for syncOutside)
	broken    error     // a failed fsync; writes are refused
	tornTail  bool      // a failed write may have left bytes past size
	buf       []byte    // record encoding buffer
	// compactAfter holds off automatic compaction after a failure until
	// that many more records have been written.
	compactAfter int

	// mu guards the state that readers see.
	mu       sync.RWMutex
	closed   bool
	st       state
	files    map[uint64]File // open segment files by seq, for thumbnails
	recovery Recovery

	diskBytes atomic.Int64 // bytes in segment files

	lastSync atomic.Int64 // Unix ns of the last fsync
	stop     chan struct{}
	stopped  chan struct{}
	syncReq  chan struct{} // syncIfDue asks the background syncer for a group commit
	stopOnce sync.Once
}

// Recovery reports what Open found.
type Recovery struct {
	// Segments is the number of segment files replayed.
	Segments int
	// Records is the number of records replayed.
	Records int
	// Entries is the number of live entries after opening.
	Entries int
	// Duration is how long Open took.
	Duration time.Duration
	// Damage lists every damaged record found, in file order.
	Damage []*CorruptionError
	// DiscardedBytes counts the bytes cut from the last segment or skipped in
	// sealed ones.
	DiscardedBytes int64
}

// Stats is a point-in-time summary for telemetry.
type Stats struct {
	// Len and Capacity are the live entries and K.
	Len, Capacity int
	// NextID is the id the next Append will get.
	NextID uint64
	// Models is the number of models with live entries.
	Models int
	// Segments is the number of segment files.
	Segments int
	// DiskBytes is the size of the segment files.
	DiskBytes int64
	// LiveBytes is the size of the live entries' records.
	LiveBytes int64
	// LastSync is when the active segment was last fsynced.
	LastSync time.Time
}

// Open opens the queue stored in dir, creating the folder if needed, and
// rebuilds its state (see the package doc's Recovery section). The folder is
// locked until Close; a second Open of it fails with ErrLocked.
func Open(dir string, opts Options) (*Queue, error) {
	start := time.Now()
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := opts.FS.MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("keyqueue: create folder: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	q := &Queue{
		dir:   dir,
		opts:  opts,
		fs:    opts.FS,
		log:   opts.Logger.With("component", "keyqueue", "dir", dir),
		tab:   crcTable(),
		lock:  lock,
		st:    newState(),
		files: make(map[uint64]File),
	}
	if err := q.recover(); err != nil {
		q.closeFiles()
		lock.Close()
		return nil, err
	}
	q.recovery.Entries = q.st.len()
	q.recovery.Duration = time.Since(start)
	q.lastSync.Store(time.Now().UnixNano())
	q.stop, q.stopped = make(chan struct{}), make(chan struct{})
	q.syncReq = make(chan struct{}, 1)
	if opts.SyncInterval > 0 || opts.SyncEvery > 1 {
		go q.syncLoop(opts.SyncInterval)
	} else {
		close(q.stopped)
	}
	q.log.Info("key queue opened", "entries", q.st.len(), "capacity", opts.Capacity,
		"segments", len(q.segs), "next_id", q.st.nextID, "damaged_records", len(q.recovery.Damage),
		"took", q.recovery.Duration)
	return q, nil
}

// Close syncs and closes the queue and releases the folder. Later calls
// return ErrClosed.
func (q *Queue) Close() error {
	q.stopOnce.Do(func() {
		if q.stop != nil {
			close(q.stop)
			<-q.stopped
		}
	})
	q.wmu.Lock()
	defer q.wmu.Unlock()
	if q.wclosed {
		return ErrClosed
	}
	q.wclosed = true
	var errs []error
	if q.broken == nil && q.unsynced > 0 {
		if err := q.active.Sync(); err != nil {
			errs = append(errs, fmt.Errorf("keyqueue: sync %s on close: %w", q.segPath(q.activeSeq), err))
		}
	}
	q.mu.Lock()
	q.closed = true
	errs = append(errs, q.closeFiles())
	q.mu.Unlock()
	if err := q.lock.Close(); err != nil {
		errs = append(errs, fmt.Errorf("keyqueue: release lock: %w", err))
	}
	return errors.Join(errs...)
}

// closeFiles closes every open segment file.
func (q *Queue) closeFiles() error {
	var errs []error
	for seq, f := range q.files {
		if err := f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("keyqueue: close %s: %w", q.segPath(seq), err))
		}
	}
	clear(q.files)
	return errors.Join(errs...)
}

// Recovery returns what Open found.
func (q *Queue) Recovery() Recovery {
	q.mu.RLock()
	defer q.mu.RUnlock()
	r := q.recovery
	r.Damage = append([]*CorruptionError(nil), r.Damage...)
	return r
}

// Stats returns current figures for telemetry.
func (q *Queue) Stats() Stats {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return Stats{
		Len:       q.st.len(),
		Capacity:  q.opts.Capacity,
		NextID:    q.st.nextID,
		Models:    len(q.st.models),
		Segments:  len(q.files),
		DiskBytes: q.diskBytes.Load(),
		LiveBytes: q.st.liveBytes,
		LastSync:  time.Unix(0, q.lastSync.Load()),
	}
}

// Dir returns the queue's folder.
func (q *Queue) Dir() string { return q.dir }

// segPath returns the path of segment seq.
func (q *Queue) segPath(seq uint64) string { return filepath.Join(q.dir, segmentName(seq)) }
