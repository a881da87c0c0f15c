package keyqueue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// tmpExt marks a compaction snapshot that was never renamed into place.
const tmpExt = ".tmp"

// segFile is a segment file found by recover.
type segFile struct {
	seq    uint64
	f      File
	size   int64
	hdr    segmentHeader
	hdrErr error
	// Filled in by replay:
	end       int64  // bytes of good records
	firstNext uint64 // state.nextID right after its header was applied
	damage    *CorruptionError
}

// recover rebuilds the state from the folder's segments and opens the
// active segment; see the package doc.
func (q *Queue) recover() (err error) {
	var opened []*segFile
	defer func() {
		if err != nil { // close what the queue did not take over
			for _, sf := range opened {
				if q.files[sf.seq] != sf.f {
					sf.f.Close()
				}
			}
		}
	}()
	names, err := q.fs.ReadDir(q.dir)
	if err != nil {
		return fmt.Errorf("keyqueue: list %s: %w", q.dir, err)
	}
	var seqs []uint64
	var tmps []string
	for _, name := range names {
		if stem, ok := strings.CutSuffix(name, tmpExt); ok {
			if _, ok := parseSegmentName(stem); ok {
				tmps = append(tmps, name)
			}
			continue
		}
		if seq, ok := parseSegmentName(name); ok {
			seqs = append(seqs, seq)
		}
	}
	slices.Sort(seqs)

	segs := make([]*segFile, 0, len(seqs))
	for i, seq := range seqs {
		flag := os.O_RDONLY
		if i == len(seqs)-1 {
			flag = os.O_RDWR
		}
		sf, err := q.openSegment(seq, flag)
		if err != nil {
			return err
		}
		opened = append(opened, sf)
		segs = append(segs, sf)
	}

	// The newest complete snapshot supersedes everything before it.
	start := 0
	for i := len(segs) - 1; i >= 0; i-- {
		if segs[i].hdrErr == nil && segs[i].hdr.snapshot {
			start = i
			break
		}
	}
	superseded, segs := segs[:start], segs[start:]
	for i, sf := range segs {
		if err := q.replay(sf, i == len(segs)-1); err != nil {
			return err
		}
		if sf.damage != nil {
			q.recovery.Damage = append(q.recovery.Damage, sf.damage)
			if q.opts.Strict {
				return sf.damage
			}
		}
	}

	// The folder changes only from here on (Strict leaves it alone).
	for _, sf := range superseded {
		q.removeSegment(sf.seq, sf.f, "superseded by a snapshot")
	}
	for _, name := range tmps {
		if err := q.fs.Remove(filepath.Join(q.dir, name)); err != nil {
			q.log.Warn("cannot remove an unfinished compaction file", "file", name, "err", err)
		}
	}
	var last *segFile
	if n := len(segs); n > 0 {
		last = segs[n-1]
		if last.damage != nil {
			keep, err := q.repairLast(last)
			if err != nil {
				return err
			}
			if !keep {
				segs, last = segs[:n-1], nil
			}
		}
	}
	for i, sf := range segs {
		info := segInfo{seq: sf.seq, bytes: sf.size} // sealed files are never changed
		if sf == last {
			info.bytes = sf.end
		}
		if i+1 < len(segs) {
			info.lastID = segs[i+1].firstNext - 1
		} else {
			info.lastID = q.st.nextID - 1
		}
		q.segs = append(q.segs, info)
		q.files[sf.seq] = sf.f
		q.diskBytes.Add(info.bytes)
	}
	if last != nil {
		// Appends continue in the last segment, after its last good record.
		q.active, q.activeSeq, q.size = last.f, last.seq, last.end
		q.segs[len(q.segs)-1].lastID = 0
	} else {
		next := uint64(1)
		if len(seqs) > 0 {
			next = seqs[len(seqs)-1] + 1
		}
		if err := q.startSegment(next); err != nil {
			return err
		}
	}
	q.enforceCapacity()
	q.dropEvictedSegments()
	return nil
}

// openSegment opens a segment file and reads its header.
func (q *Queue) openSegment(seq uint64, flag int) (*segFile, error) {
	path := q.segPath(seq)
	f, err := q.fs.OpenFile(path, flag)
	if err != nil {
		return nil, fmt.Errorf("keyqueue: open segment %s: %w", path, err)
	}
	size, err := f.Size()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("keyqueue: size of segment %s: %w", path, err)
	}
	sf := &segFile{seq: seq, f: f, size: size}
	buf := make([]byte, min(size, frameHeaderSize+1+headerPayload))
	if _, err := f.ReadAt(buf, 0); err != nil && !errors.Is(err, io.EOF) {
		f.Close()
		return nil, fmt.Errorf("keyqueue: read header of %s: %w", path, err)
	}
	typ, payload, _, err := parseFrame(q.tab, buf)
	switch {
	case err != nil:
		sf.hdrErr = fmt.Errorf("segment header: %w", err)
	case typ != recHeader:
		sf.hdrErr = fmt.Errorf("%w: first record is %v, not a header", ErrCorrupt, typ)
	default:
		sf.hdr, sf.hdrErr = decodeHeader(payload)
		if sf.hdrErr == nil && sf.hdr.seq != seq {
			sf.hdrErr = fmt.Errorf("%w: header says segment %d, file name says %d", ErrCorrupt, sf.hdr.seq, seq)
		}
	}
	return sf, nil
}

// replay applies the records of sf to the state, stopping at the first
// damaged one (recorded in sf.damage). Only I/O errors are returned.
func (q *Queue) replay(sf *segFile, last bool) error {
	q.recovery.Segments++
	damage := func(off int64, err error) {
		action := "skipped rest of segment"
		if last {
			action = "truncated"
			if off == 0 {
				action = "removed"
			}
		}
		sf.end = off
		sf.damage = &CorruptionError{Segment: q.segPath(sf.seq), Offset: off, Action: action, Err: err}
		q.recovery.DiscardedBytes += sf.size - off
		if !last { // the last segment's damage is logged by repairLast
			q.log.Warn("damaged record in a sealed segment", "segment", sf.damage.Segment, "offset", off,
				"reason", err, "action", action, "discarded_bytes", sf.size-off)
		}
	}
	if sf.hdrErr != nil {
		sf.firstNext = q.st.nextID
		damage(0, sf.hdrErr)
		return nil
	}
	q.st.nextID = max(q.st.nextID, sf.hdr.nextID)
	q.st.evictBelow(sf.hdr.floor)
	sf.firstNext = q.st.nextID
	sf.end = sf.size
	sc := newSegmentScanner(sf.f, sf.size, q.tab)
	if _, _, _, err := sc.next(); err != nil { // the header, parsed already
		damage(0, err)
		return nil
	}
	for {
		typ, payload, off, err := sc.next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil {
			err = q.apply(sf.seq, typ, payload, off)
		}
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTorn) {
			damage(off, err)
			return nil
		}
		if err != nil {
			return fmt.Errorf("keyqueue: replay %s: %w", q.segPath(sf.seq), err)
		}
		q.recovery.Records++
	}
}

// apply validates one replayed record and applies it to the state; a record
// that does not fit is ErrCorrupt and changes nothing.
func (q *Queue) apply(seq uint64, typ recordType, payload []byte, off int64) error {
	st := &q.st
	switch typ {
	case recEntry:
		v, err := decodeEntry(payload)
		if err != nil {
			return err
		}
		if v.id <= st.newest {
			return fmt.Errorf("%w: entry id %d after entry %d", ErrCorrupt, v.id, st.newest)
		}
		if err := st.checkDim(v.model, v.dim()); err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		sl := slot{
			id:     v.id,
			time:   v.time,
			source: lookupOrString(st.sourceIdx, st.sourceNames, v.source),
			label:  string(v.label),
			recLen: uint32(frameHeaderSize + 1 + len(payload)),
		}
		if len(v.thumb) > 0 {
			sl.thumb = thumbLoc{seq: seq, off: off + frameHeaderSize + 1 + int64(v.thumbOff), n: uint32(len(v.thumb))}
		}
		v.vectorInto(st.add(sl, v.model, v.dim()))
		st.evictBelow(v.floor)
	case recLabel:
		id, label, err := decodeLabel(payload)
		if err != nil {
			return err
		}
		if i := st.find(id); i >= 0 {
			st.setLabel(i, string(label))
		}
	case recEvict:
		floor, err := decodeEvict(payload)
		if err != nil {
			return err
		}
		if floor > st.nextID {
			return fmt.Errorf("%w: eviction floor %d beyond next id %d", ErrCorrupt, floor, st.nextID)
		}
		st.evictBelow(floor)
	case recHeader:
		return fmt.Errorf("%w: header record inside a segment", ErrCorrupt)
	default:
		return fmt.Errorf("%w: unknown record type %d", ErrCorrupt, uint8(typ))
	}
	return nil
}

// lookupOrString returns the interned name equal to b, or a new string.
func lookupOrString(idx map[string]uint32, names []string, b []byte) string {
	if i, ok := idx[string(b)]; ok {
		return names[i]
	}
	return string(b)
}

// repairLast cuts the damaged tail off the last segment: the whole file when
// its header is bad (keep false), otherwise back to the last good record. A
// tail that is corrupt rather than torn is saved next to it first.
func (q *Queue) repairLast(sf *segFile) (keep bool, err error) {
	d := sf.damage
	if errors.Is(d.Err, ErrCorrupt) {
		zero, err := allZero(sf.f, d.Offset, sf.size)
		if err != nil {
			return false, fmt.Errorf("keyqueue: read damaged tail of %s: %w", d.Segment, err)
		}
		if zero {
			d.Err = fmt.Errorf("%w: zero-filled tail (%v)", ErrTorn, d.Err)
		} else {
			q.saveDamaged(sf, d.Offset)
		}
	}
	q.log.Warn("damaged record in the last segment", "segment", d.Segment, "offset", d.Offset,
		"reason", d.Err, "action", d.Action, "discarded_bytes", sf.size-d.Offset)
	if d.Offset == 0 {
		q.removeSegment(sf.seq, sf.f, "no valid header")
		return false, nil
	}
	if err := sf.f.Truncate(d.Offset); err != nil {
		return false, fmt.Errorf("keyqueue: truncate %s to %d: %w", d.Segment, d.Offset, err)
	}
	if err := sf.f.Sync(); err != nil {
		return false, fmt.Errorf("keyqueue: sync %s after truncation: %w", d.Segment, err)
	}
	return true, nil
}

// saveDamaged copies sf's bytes from off on to "<segment>.<off>.damaged";
// failures are only logged, the copy being a courtesy for inspection.
func (q *Queue) saveDamaged(sf *segFile, off int64) {
	name := fmt.Sprintf("%s.%d.damaged", q.segPath(sf.seq), off)
	buf := make([]byte, sf.size-off)
	if _, err := sf.f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		q.log.Warn("cannot read damaged tail", "segment", q.segPath(sf.seq), "err", err)
		return
	}
	f, err := q.fs.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC)
	if err == nil {
		_, err = f.WriteAt(buf, 0)
		if err == nil {
			err = f.Sync()
		}
		f.Close()
	}
	if err != nil {
		q.log.Warn("cannot save damaged tail", "file", name, "err", err)
		return
	}
	q.log.Warn("saved damaged tail", "file", name, "bytes", len(buf))
}

// removeSegment closes and deletes a segment file; failures are logged.
func (q *Queue) removeSegment(seq uint64, f File, why string) {
	path := q.segPath(seq)
	if err := f.Close(); err != nil {
		q.log.Warn("cannot close segment", "segment", path, "err", err)
	}
	if err := q.fs.Remove(path); err != nil {
		q.log.Warn("cannot remove segment", "segment", path, "why", why, "err", err)
		return
	}
	q.log.Debug("removed segment", "segment", path, "why", why)
}

// enforceCapacity evicts down to the capacity after a reopen with a smaller
// one, and records the eviction so that a later, larger capacity does not
// bring the entries back.
func (q *Queue) enforceCapacity() {
	over := q.st.len() - q.opts.Capacity
	if over <= 0 {
		return
	}
	floor := q.st.live()[over].id
	rec := appendEvictRecord(q.buf[:0], q.tab, floor)
	q.buf = rec
	if _, err := q.writeRecord(rec); err != nil {
		q.log.Warn("cannot record the eviction after a capacity reduction; the next append will", "err", err)
	}
	q.st.evictBelow(floor)
	q.log.Info("evicted entries beyond the capacity", "evicted", over, "capacity", q.opts.Capacity)
}
