package protocol

import "time"

// dedupSlots is how many recent requests a Dedup remembers; more than a
// sender has in flight at once.
const dedupSlots = 16

// DefaultDedupWindow is how long a Dedup treats a repeated (seq, crc) as a
// retransmission. It must outlast a sender's retries and stay well below the
// time a sender needs to wrap its 8-bit sequence.
const DefaultDedupWindow = 2 * time.Second

// Dedup recognises retransmitted requests, so that a receiver whose ACK was
// lost re-ACKs the retry without acting twice (a relay pulse, a trigger). It
// remembers the last few requests it accepted by sequence number and CRC. The
// zero value is not usable; it is for one goroutine.
type Dedup struct {
	window  time.Duration
	entries [dedupSlots]dedupEntry
	next    int
}

type dedupEntry struct {
	seq  uint8
	crc  uint32
	at   time.Time
	used bool
}

// NewDedup returns a Dedup that forgets requests after window
// (DefaultDedupWindow when window <= 0).
func NewDedup(window time.Duration) *Dedup {
	if window <= 0 {
		window = DefaultDedupWindow
	}
	return &Dedup{window: window}
}

// Seen reports whether the request (seq, crc) was accepted within the window
// before now.
func (d *Dedup) Seen(seq uint8, crc uint32, now time.Time) bool {
	for i := range d.entries {
		e := &d.entries[i]
		if e.used && e.seq == seq && e.crc == crc && now.Sub(e.at) <= d.window {
			return true
		}
	}
	return false
}

// Remember records that the request (seq, crc) was accepted at now.
func (d *Dedup) Remember(seq uint8, crc uint32, now time.Time) {
	d.entries[d.next] = dedupEntry{seq: seq, crc: crc, at: now, used: true}
	d.next = (d.next + 1) % dedupSlots
}

// Reset forgets every request, as when the peer reboots and restarts its
// sequence.
func (d *Dedup) Reset() {
	*d = Dedup{window: d.window}
}
