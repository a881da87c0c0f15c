package data

import (
	"os"
	"path/filepath"
	"testing"
)

func TestMemTotal(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    int64
		wantErr bool
	}{
		{"usual", "MemTotal:       24576000 kB\nMemFree:  100 kB\n", 24576000 << 10, false},
		{"missing", "MemFree:  100 kB\n", 0, true},
		{"garbled", "MemTotal: lots kB\n", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "meminfo")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			got, err := memTotal(p)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("memTotal = %d, %v; want %d, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestMemoryBudget(t *testing.T) {
	if b, _ := memoryBudget(Options{MemoryBudget: 12345}); b != 12345 {
		t.Errorf("explicit budget %d, want 12345", b)
	}
	if b, _ := memoryBudget(Options{MemoryBudget: -1}); b != 0 {
		t.Errorf("disabled budget %d, want 0", b)
	}
	b, src := memoryBudget(Options{})
	if b <= 0 || src == "" {
		t.Errorf("default budget %d (%s), want a positive fraction of RAM", b, src)
	}
	t.Logf("default budget %s (%s)", FormatBytes(b), src)
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{153600000, "146.5 MiB"},
		{3 << 30, "3.0 GiB"},
	}
	for _, tt := range tests {
		if got := FormatBytes(tt.n); got != tt.want {
			t.Errorf("FormatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
