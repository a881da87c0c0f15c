package protocol

import (
	"testing"
	"time"
)

func TestDedup(t *testing.T) {
	t0 := time.Unix(1000, 0)
	d := NewDedup(time.Second)
	d.Remember(5, 0xAAAA, t0)
	tests := []struct {
		name string
		seq  uint8
		crc  uint32
		at   time.Time
		want bool
	}{
		{"same request", 5, 0xAAAA, t0.Add(500 * time.Millisecond), true},
		{"window edge", 5, 0xAAAA, t0.Add(time.Second), true},
		{"after window", 5, 0xAAAA, t0.Add(time.Second + time.Nanosecond), false},
		{"other crc", 5, 0xBBBB, t0, false},
		{"other seq", 6, 0xAAAA, t0, false},
	}
	for _, tt := range tests {
		if got := d.Seen(tt.seq, tt.crc, tt.at); got != tt.want {
			t.Errorf("%s: Seen = %v, want %v", tt.name, got, tt.want)
		}
	}
	for i := range dedupSlots {
		d.Remember(uint8(100+i), 1, t0)
	}
	if d.Seen(5, 0xAAAA, t0) {
		t.Error("entry survived a full ring of newer ones")
	}
	if !d.Seen(100, 1, t0) {
		t.Error("recent entry lost")
	}
	d.Reset()
	if d.Seen(100, 1, t0) {
		t.Error("entry survived Reset")
	}
	if NewDedup(0).window != DefaultDedupWindow {
		t.Error("zero window did not take the default")
	}
}
