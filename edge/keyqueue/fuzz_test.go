package keyqueue

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seedRecords returns one valid record of each type.
func seedRecords() [][]byte {
	tab := crcTable()
	g := genSpec{dim: 4, thumb: 20}
	e := g.gen(3)
	vec, _ := normalized(e.Vector, 8)
	entry, _ := appendEntryRecord(nil, tab, &entryFields{
		id: 3, time: e.Time.UnixNano(), floor: 2, model: e.Model, source: e.Source,
		label: "dog", vector: vec, thumb: e.Thumbnail,
	})
	return [][]byte{
		appendHeaderRecord(nil, tab, segmentHeader{snapshot: true, seq: 9, nextID: 4, floor: 2, created: 1}),
		entry,
		appendLabelRecord(nil, tab, 3, "cat"),
		appendEvictRecord(nil, tab, 3),
	}
}

// FuzzParseRecord checks that the record parser never panics, and that
// whatever it accepts re-encodes to the same bytes.
func FuzzParseRecord(f *testing.F) {
	for _, r := range seedRecords() {
		f.Add(r)
		f.Add(r[:len(r)-1])
		f.Add(r[:5])
	}
	tab := crcTable()
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, payload, n, err := parseFrame(tab, data)
		if err != nil {
			return
		}
		if n > len(data) || n != frameHeaderSize+1+len(payload) {
			t.Fatalf("parsed length %d of %d bytes, payload %d", n, len(data), len(payload))
		}
		var again []byte
		switch typ {
		case recHeader:
			h, err := decodeHeader(payload)
			if err != nil {
				return
			}
			again = appendHeaderRecord(nil, tab, h)
		case recEntry:
			v, err := decodeEntry(payload)
			if err != nil {
				return
			}
			fields := v.fields()
			var off int
			again, off = appendEntryRecord(nil, tab, &fields)
			if off != frameHeaderSize+1+v.thumbOff {
				t.Fatalf("thumbnail offset %d on encoding, %d on decoding", off, frameHeaderSize+1+v.thumbOff)
			}
		case recLabel:
			id, label, err := decodeLabel(payload)
			if err != nil {
				return
			}
			again = appendLabelRecord(nil, tab, id, string(label))
		case recEvict:
			floor, err := decodeEvict(payload)
			if err != nil {
				return
			}
			again = appendEvictRecord(nil, tab, floor)
		default:
			return
		}
		if !bytes.Equal(again, data[:n]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, data[:n])
		}
	})
}

// FuzzOpenSegment writes arbitrary bytes as the only segment (in memory) and
// checks that Open never panics or fails, repairs the folder so that it
// reopens without damage, and keeps accepting appends. Fuzz it with
// -fuzzminimizetime 100x: minimising a large segment otherwise stalls the
// workers for a minute per new input.
func FuzzOpenSegment(f *testing.F) {
	dir := f.TempDir()
	q, err := Open(dir, Options{Capacity: 5})
	if err != nil {
		f.Fatal(err)
	}
	appendN(f, q, genSpec{dim: 4, thumb: 20}, 7)
	q.SetLabel(6, "x")
	q.Close()
	seg, err := os.ReadFile(segmentFiles(f, dir)[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seg)
	f.Add(seg[:len(seg)/2])
	f.Add(append(bytes.Clone(seg), 1, 2, 3))
	flipped := bytes.Clone(seg)
	flipped[len(seg)/3] ^= 4
	f.Add(flipped)
	f.Add(seedRecords()[0])
	lockDir := f.TempDir() // only the LOCK file is real; iterations run one at a time
	f.Fuzz(func(t *testing.T, data []byte) {
		mfs := newMemFS()
		mfs.write(filepath.Join(lockDir, segmentName(1)), data)
		dir := lockDir
		opts := Options{Capacity: 5, FS: mfs, SyncInterval: -1}
		q, err := Open(dir, opts)
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		g := genSpec{dim: 4}
		if m := q.Models(); len(m) == 1 && m[0].Model == g.gen(1).Model {
			g.dim = m[0].Dim
		}
		if _, err := q.Append(g.gen(q.Stats().NextID)); err != nil && !strings.Contains(err.Error(), "dimension") {
			t.Fatalf("Append after recovery: %v", err)
		}
		n := q.Len()
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}
		q, err = Open(dir, opts)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer q.Close()
		if r := q.Recovery(); len(r.Damage) != 0 || q.Len() != n {
			t.Fatalf("second Open: %d entries (want %d), damage %v; files %s", q.Len(), n, r.Damage, mfs.names())
		}
	})
}

// FuzzParseModelID checks the manifest hash parser.
func FuzzParseModelID(f *testing.F) {
	f.Add(strings.Repeat("0f", 32))
	f.Add("xyz")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseModelID(s)
		if err != nil {
			return
		}
		if !strings.EqualFold(m.String(), s) {
			t.Fatalf("%q parsed as %s", s, m)
		}
	})
}
