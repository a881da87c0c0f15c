package mqtt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Kind is the kind of a report kept in the outbox; it decides which reports
// are dropped first when the outbox is full.
type Kind uint8

// Report kinds, in the order they are dropped when the outbox is full:
// telemetry first, then predictions, then the rest (oldest first).
const (
	// KindTelemetry is a telemetry report.
	KindTelemetry Kind = iota + 1
	// KindPrediction is an events/prediction report.
	KindPrediction
	// KindRetrieval is an events/retrieval report.
	KindRetrieval
	// KindTrigger is an events/trigger report.
	KindTrigger
	// KindResult is a cmd/VERB/result report.
	KindResult
)

// String returns the kind's name as used in Stats and telemetry.
func (k Kind) String() string {
	switch k {
	case KindTelemetry:
		return "telemetry"
	case KindPrediction:
		return "prediction"
	case KindRetrieval:
		return "retrieval"
	case KindTrigger:
		return "trigger"
	case KindResult:
		return "result"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// dropClass orders kinds for eviction: lower classes go first.
func (k Kind) dropClass() int {
	switch k {
	case KindTelemetry:
		return 0
	case KindPrediction:
		return 1
	default:
		return 2
	}
}

const numKinds = int(KindResult) + 1

// Outbox file format (DataDir/outbox/outbox.log): an append-only log of
// records, each
//
//	offset size field
//	0      4    body length N, uint32 LE (1 <= N <= maxRecord)
//	4      4    CRC-32 (IEEE) of the body
//	8      N    body
//
// Bodies (integers little-endian):
//
//	'H' next seq u64                        first record after a compaction
//	'M' seq u64, kind u8, unix ns i64, qos u8, retain u8,
//	    topic len u16, topic, payload       a report
//	'D' seq u64                             report seq delivered or dropped
//
// Reopening replays the log; the first torn or corrupt record ends it and the
// file is truncated there. The log is rewritten (to outbox.log.tmp, fsync,
// rename, fsync of the folder) when delivered records outnumber waiting ones.
const (
	outboxFile   = "outbox.log"
	maxRecord    = 64 << 20
	recHeader    = 'H'
	recMessage   = 'M'
	recDelivered = 'D'
)

// message is one report waiting in the outbox.
type message struct {
	seq     uint64
	kind    Kind
	at      time.Time
	qos     byte
	retain  bool
	topic   string
	payload []byte
}

// outbox is the bounded, persisted queue of reports waiting for the broker.
// It is safe for concurrent use.
type outbox struct {
	mu      sync.Mutex
	dir     string
	f       *os.File
	w       *bufio.Writer
	pending []*message // by seq
	dead    int        // 'M' records in the file no longer pending
	nextSeq uint64
	max     int
	maxAge  time.Duration
	now     func() time.Time
	dirty   bool // written since the last fsync
	dropped [numKinds]uint64
	expired [numKinds]uint64
	added   uint64
	acked   uint64
	err     error // last write error
	notify  chan struct{}
	unlock  func() error
}

// openOutbox opens (or creates) the outbox in dir and replays it.
func openOutbox(dir string, max int, maxAge time.Duration, now func() time.Time) (*outbox, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("mqtt outbox: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mqtt outbox %s: %w", dir, err)
	}
	b := &outbox{dir: dir, max: max, maxAge: maxAge, now: now, nextSeq: 1,
		notify: make(chan struct{}, 1), unlock: unlock}
	if err := b.replay(); err != nil {
		_ = unlock()
		return nil, err
	}
	b.expireLocked()
	for len(b.pending) > b.max {
		b.dropOneLocked()
	}
	if err := b.compactLocked(); err != nil {
		_ = unlock()
		return nil, err
	}
	return b, nil
}

func (b *outbox) path() string { return filepath.Join(b.dir, outboxFile) }

// replay reads the log into memory, truncating a torn tail.
func (b *outbox) replay() error {
	f, err := os.Open(b.path())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("mqtt outbox: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	byseq := map[uint64]*message{}
	var hdr [8]byte
	for {
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(hdr[0:4])
		if n == 0 || n > maxRecord {
			break
		}
		body := make([]byte, n)
		if _, err := io.ReadFull(r, body); err != nil {
			break
		}
		if crc32.ChecksumIEEE(body) != binary.LittleEndian.Uint32(hdr[4:8]) {
			break
		}
		if !b.apply(body, byseq) {
			break
		}
	}
	b.pending = b.pending[:0]
	for _, m := range byseq {
		b.pending = append(b.pending, m)
	}
	sort.Slice(b.pending, func(i, j int) bool { return b.pending[i].seq < b.pending[j].seq })
	// A torn or corrupt tail needs no repair here: openOutbox rewrites the
	// log from what was read.
	return nil
}

// apply applies one record body; false when it is malformed.
func (b *outbox) apply(body []byte, byseq map[uint64]*message) bool {
	switch body[0] {
	case recHeader:
		if len(body) != 9 {
			return false
		}
		if s := binary.LittleEndian.Uint64(body[1:]); s > b.nextSeq {
			b.nextSeq = s
		}
	case recDelivered:
		if len(body) != 9 {
			return false
		}
		seq := binary.LittleEndian.Uint64(body[1:])
		if _, ok := byseq[seq]; ok {
			delete(byseq, seq)
			b.dead++
		}
	case recMessage:
		m, ok := decodeMessage(body)
		if !ok {
			return false
		}
		byseq[m.seq] = m
		if m.seq >= b.nextSeq {
			b.nextSeq = m.seq + 1
		}
	default:
		return false
	}
	return true
}

func encodeMessage(m *message) []byte {
	body := make([]byte, 0, 22+len(m.topic)+len(m.payload))
	body = append(body, recMessage)
	body = binary.LittleEndian.AppendUint64(body, m.seq)
	body = append(body, byte(m.kind))
	body = binary.LittleEndian.AppendUint64(body, uint64(m.at.UnixNano()))
	body = append(body, m.qos)
	if m.retain {
		body = append(body, 1)
	} else {
		body = append(body, 0)
	}
	body = binary.LittleEndian.AppendUint16(body, uint16(len(m.topic)))
	body = append(body, m.topic...)
	return append(body, m.payload...)
}

func decodeMessage(body []byte) (*message, bool) {
	if len(body) < 22 {
		return nil, false
	}
	m := &message{
		seq:    binary.LittleEndian.Uint64(body[1:9]),
		kind:   Kind(body[9]),
		at:     time.Unix(0, int64(binary.LittleEndian.Uint64(body[10:18]))),
		qos:    body[18],
		retain: body[19] == 1,
	}
	tl := int(binary.LittleEndian.Uint16(body[20:22]))
	if len(body) < 22+tl || m.kind == 0 || int(m.kind) >= numKinds || m.qos > 2 {
		return nil, false
	}
	m.topic = string(body[22 : 22+tl])
	m.payload = append([]byte(nil), body[22+tl:]...)
	return m, true
}

// writeLocked appends one record to the log (buffered; flushed by the caller).
func (b *outbox) writeLocked(body []byte) {
	if b.w == nil {
		return
	}
	var hdr [8]byte
	binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(body)))
	binary.LittleEndian.PutUint32(hdr[4:8], crc32.ChecksumIEEE(body))
	if _, err := b.w.Write(hdr[:]); err != nil {
		b.err = err
		return
	}
	if _, err := b.w.Write(body); err != nil {
		b.err = err
		return
	}
	b.dirty = true
}

// flushLocked hands buffered records to the operating system, so that a
// crash of the process (kill -9) loses nothing written so far.
func (b *outbox) flushLocked() {
	if b.w == nil {
		return
	}
	if err := b.w.Flush(); err != nil {
		b.err = fmt.Errorf("mqtt outbox write: %w", err)
	}
}

func delRecord(seq uint64) []byte {
	body := make([]byte, 9)
	body[0] = recDelivered
	binary.LittleEndian.PutUint64(body[1:], seq)
	return body
}

// Add queues a report, dropping old ones when the outbox is full. The report
// is queued even when writing it to the log fails; the error says so.
func (b *outbox) Add(kind Kind, topic string, qos byte, retain bool, payload []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.err = nil
	b.expireLocked()
	for len(b.pending) >= b.max {
		b.dropOneLocked()
	}
	m := &message{seq: b.nextSeq, kind: kind, at: b.now(), qos: qos, retain: retain, topic: topic, payload: payload}
	b.nextSeq++
	b.pending = append(b.pending, m)
	b.added++
	b.writeLocked(encodeMessage(m))
	b.flushLocked()
	select {
	case b.notify <- struct{}{}:
	default:
	}
	return b.err
}

// dropOneLocked drops the oldest report of the lowest drop class.
func (b *outbox) dropOneLocked() {
	if len(b.pending) == 0 {
		return
	}
	victim := 0
	best := b.pending[0].kind.dropClass()
	for i, m := range b.pending {
		if c := m.kind.dropClass(); c < best {
			victim, best = i, c
			if c == 0 {
				break
			}
		}
	}
	m := b.pending[victim]
	b.dropped[m.kind]++
	b.removeLocked(victim)
}

// expireLocked drops reports older than maxAge.
func (b *outbox) expireLocked() {
	if b.maxAge <= 0 {
		return
	}
	// Reports are queued in time order, so the expired ones lead.
	cut := b.now().Add(-b.maxAge)
	for len(b.pending) > 0 && b.pending[0].at.Before(cut) {
		b.expired[b.pending[0].kind]++
		b.removeLocked(0)
	}
}

func (b *outbox) removeLocked(i int) {
	seq := b.pending[i].seq
	copy(b.pending[i:], b.pending[i+1:])
	b.pending[len(b.pending)-1] = nil
	b.pending = b.pending[:len(b.pending)-1]
	b.dead++
	b.writeLocked(delRecord(seq))
}

func (b *outbox) find(seq uint64) (int, bool) {
	i := sort.Search(len(b.pending), func(i int) bool { return b.pending[i].seq >= seq })
	return i, i < len(b.pending) && b.pending[i].seq == seq
}

// Next returns the first waiting report after seq (0: the oldest).
func (b *outbox) Next(after uint64) (*message, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.expireLocked()
	b.flushLocked()
	i, _ := b.find(after + 1)
	if i >= len(b.pending) {
		return nil, false
	}
	return b.pending[i], true
}

// Ack removes a delivered report; it is a no-op for one already dropped.
func (b *outbox) Ack(seq uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, ok := b.find(seq)
	if !ok {
		return
	}
	b.acked++
	b.removeLocked(i)
	b.flushLocked()
	if b.dead >= 1024 && b.dead > 2*len(b.pending) {
		if err := b.compactLocked(); err != nil {
			b.err = err
		}
	}
}

// compactLocked rewrites the log with only the waiting reports and reopens
// it for appending.
func (b *outbox) compactLocked() error {
	if b.f != nil {
		b.flushLocked()
		if err := b.f.Close(); err != nil && b.err == nil {
			b.err = fmt.Errorf("mqtt outbox: %w", err)
		}
		b.f, b.w = nil, nil
	}
	tmp := b.path() + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("mqtt outbox compaction: %w", err)
	}
	b.f, b.w = f, bufio.NewWriterSize(f, 64<<10)
	hdr := make([]byte, 9)
	hdr[0] = recHeader
	binary.LittleEndian.PutUint64(hdr[1:], b.nextSeq)
	b.writeLocked(hdr)
	for _, m := range b.pending {
		b.writeLocked(encodeMessage(m))
	}
	err = b.w.Flush()
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = os.Rename(tmp, b.path())
	}
	if err == nil {
		err = syncDir(b.dir)
	}
	if err != nil {
		_ = f.Close()
		b.f, b.w = nil, nil
		_ = os.Remove(tmp)
		return fmt.Errorf("mqtt outbox compaction: %w", err)
	}
	// f now names outbox.log (the rename keeps the open file) and is
	// positioned at its end: keep appending to it.
	b.dead = 0
	b.dirty = false
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Sync writes buffered records and fsyncs the log when anything changed.
func (b *outbox) Sync() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.flushLocked()
	if !b.dirty || b.f == nil {
		return nil
	}
	if err := b.f.Sync(); err != nil {
		b.err = fmt.Errorf("mqtt outbox fsync: %w", err)
		return b.err
	}
	b.dirty = false
	return nil
}

// Close syncs and closes the log; the outbox must not be used afterwards.
func (b *outbox) Close() error {
	err := b.Sync()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.f != nil {
		if cerr := b.f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("mqtt outbox: %w", cerr)
		}
		b.f, b.w = nil, nil
	}
	if b.unlock != nil {
		if uerr := b.unlock(); err == nil && uerr != nil {
			err = fmt.Errorf("mqtt outbox: %w", uerr)
		}
		b.unlock = nil
	}
	return err
}

// outboxCounts is a snapshot of the outbox's counters.
type outboxCounts struct {
	size    int
	added   uint64
	acked   uint64
	dropped map[string]uint64
	expired map[string]uint64
	err     error
}

func (b *outbox) counts() outboxCounts {
	b.mu.Lock()
	defer b.mu.Unlock()
	c := outboxCounts{size: len(b.pending), added: b.added, acked: b.acked,
		dropped: map[string]uint64{}, expired: map[string]uint64{}, err: b.err}
	for k := 1; k < numKinds; k++ {
		if b.dropped[k] > 0 {
			c.dropped[Kind(k).String()] = b.dropped[k]
		}
		if b.expired[k] > 0 {
			c.expired[Kind(k).String()] = b.expired[k]
		}
	}
	return c
}

// Len returns the number of waiting reports.
func (b *outbox) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}
