package mqtt

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openTestOutbox(t *testing.T, dir string, max int, maxAge time.Duration, now func() time.Time) *outbox {
	t.Helper()
	if now == nil {
		now = time.Now
	}
	b, err := openOutbox(dir, max, maxAge, now)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func drainAll(b *outbox) []*message {
	var out []*message
	var last uint64
	for {
		m, ok := b.Next(last)
		if !ok {
			return out
		}
		out = append(out, m)
		last = m.seq
	}
}

func TestOutboxPersistsAndAcks(t *testing.T) {
	dir := t.TempDir()
	b := openTestOutbox(t, dir, 100, time.Hour, nil)
	for i := range 10 {
		b.Add(KindPrediction, "t/p", 1, false, []byte(fmt.Sprintf("p%d", i)))
	}
	ms := drainAll(b)
	for _, m := range ms[:4] {
		b.Ack(m.seq)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	b = openTestOutbox(t, dir, 100, time.Hour, nil)
	defer b.Close()
	got := drainAll(b)
	if len(got) != 6 {
		t.Fatalf("reopened outbox has %d reports, want 6", len(got))
	}
	for i, m := range got {
		if want := fmt.Sprintf("p%d", i+4); string(m.payload) != want || m.topic != "t/p" || m.qos != 1 || m.kind != KindPrediction {
			t.Fatalf("report %d: %+v, want payload %s", i, m, want)
		}
	}
	// Sequence numbers keep growing across reopenings.
	b.Add(KindTrigger, "t/t", 1, false, []byte("x"))
	all := drainAll(b)
	if s := all[len(all)-1].seq; s <= got[len(got)-1].seq {
		t.Fatalf("seq %d after reopen is not above %d", s, got[len(got)-1].seq)
	}
}

func TestOutboxTornTail(t *testing.T) {
	dir := t.TempDir()
	b := openTestOutbox(t, dir, 100, time.Hour, nil)
	for i := range 5 {
		b.Add(KindTelemetry, "t", 1, false, []byte(fmt.Sprintf("r%d", i)))
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, outboxFile)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Cut the last record in half, then flip a byte in the one before:
	// everything from the corrupt record on is lost, nothing before.
	if err := os.WriteFile(path, data[:len(data)-5], 0o644); err != nil {
		t.Fatal(err)
	}
	b = openTestOutbox(t, dir, 100, time.Hour, nil)
	if n := len(drainAll(b)); n != 4 {
		t.Fatalf("after a torn tail: %d reports, want 4", n)
	}
	b.Close()
	data, _ = os.ReadFile(path)
	data[len(data)-3] ^= 0xff
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	b = openTestOutbox(t, dir, 100, time.Hour, nil)
	defer b.Close()
	if n := len(drainAll(b)); n != 3 {
		t.Fatalf("after a corrupt record: %d reports, want 3", n)
	}
	// And the file is usable again.
	b.Add(KindTrigger, "t", 1, false, []byte("new"))
	if n := len(drainAll(b)); n != 4 {
		t.Fatalf("after appending: %d reports, want 4", n)
	}
}

func TestOutboxDropOrder(t *testing.T) {
	b := openTestOutbox(t, t.TempDir(), 5, time.Hour, nil)
	defer b.Close()
	b.Add(KindTrigger, "trigger", 1, false, []byte("tr1"))
	b.Add(KindTelemetry, "telemetry", 1, false, []byte("te1"))
	b.Add(KindPrediction, "prediction", 1, false, []byte("pr1"))
	b.Add(KindTelemetry, "telemetry", 1, false, []byte("te2"))
	b.Add(KindResult, "result", 1, false, []byte("re1"))
	// Full: the next three adds drop te1, te2, then pr1.
	b.Add(KindRetrieval, "retrieval", 1, false, []byte("rt1"))
	b.Add(KindRetrieval, "retrieval", 1, false, []byte("rt2"))
	b.Add(KindRetrieval, "retrieval", 1, false, []byte("rt3"))
	want := []string{"tr1", "re1", "rt1", "rt2", "rt3"}
	got := drainAll(b)
	if len(got) != len(want) {
		t.Fatalf("%d reports, want %d", len(got), len(want))
	}
	for i, m := range got {
		if string(m.payload) != want[i] {
			t.Fatalf("report %d is %s, want %s", i, m.payload, want[i])
		}
	}
	// Then the oldest of the rest.
	b.Add(KindRetrieval, "retrieval", 1, false, []byte("rt4"))
	if got := drainAll(b); string(got[0].payload) != "re1" {
		t.Fatalf("oldest after dropping tr1 is %s", got[0].payload)
	}
	c := b.counts()
	if c.dropped["telemetry"] != 2 || c.dropped["prediction"] != 1 || c.dropped["trigger"] != 1 {
		t.Fatalf("drop counts %v", c.dropped)
	}
}

func TestOutboxExpiry(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { return now }
	dir := t.TempDir()
	b := openTestOutbox(t, dir, 100, time.Minute, clock)
	b.Add(KindTelemetry, "t", 1, false, []byte("old"))
	now = now.Add(45 * time.Second)
	b.Add(KindTrigger, "t", 1, false, []byte("new"))
	now = now.Add(30 * time.Second)
	got := drainAll(b)
	if len(got) != 1 || string(got[0].payload) != "new" {
		t.Fatalf("after expiry: %d reports", len(got))
	}
	if c := b.counts(); c.expired["telemetry"] != 1 {
		t.Fatalf("expired %v", c.expired)
	}
	b.Close()
	// Expiry also applies on reopening.
	now = now.Add(time.Hour)
	b = openTestOutbox(t, dir, 100, time.Minute, clock)
	defer b.Close()
	if n := b.Len(); n != 0 {
		t.Fatalf("%d reports survived max_age across a reopening", n)
	}
}

func TestOutboxCompaction(t *testing.T) {
	dir := t.TempDir()
	b := openTestOutbox(t, dir, 10000, time.Hour, nil)
	payload := make([]byte, 200)
	for i := range 5000 {
		b.Add(KindPrediction, "t", 1, false, payload)
		if i >= 10 {
			m, _ := b.Next(0)
			b.Ack(m.seq)
		}
	}
	st, err := os.Stat(filepath.Join(dir, outboxFile))
	if err != nil {
		t.Fatal(err)
	}
	// Without compaction the log would hold 5000 reports (over 1 MB).
	if st.Size() > 700_000 {
		t.Fatalf("outbox log is %d bytes: not compacted", st.Size())
	}
	if n := b.Len(); n != 10 {
		t.Fatalf("%d waiting, want 10", n)
	}
	b.Close()
	b = openTestOutbox(t, dir, 10000, time.Hour, nil)
	defer b.Close()
	if n := b.Len(); n != 10 {
		t.Fatalf("%d waiting after reopening, want 10", n)
	}
}

func TestOutboxLocked(t *testing.T) {
	dir := t.TempDir()
	b := openTestOutbox(t, dir, 10, time.Hour, nil)
	defer b.Close()
	if _, err := openOutbox(dir, 10, time.Hour, time.Now); err == nil {
		t.Fatal("a second outbox on the same folder was opened")
	}
}
