package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWrite(t *testing.T) {
	boom := errors.New("boom")
	cases := []struct {
		name    string
		target  func(dir string) string
		write   func(io.Writer) error
		wantErr error
		want    string // file content afterwards ("" means absent or unchanged old content)
	}{
		{"new file", func(d string) string { return filepath.Join(d, "a.bin") },
			func(w io.Writer) error { _, err := io.WriteString(w, "hello"); return err }, nil, "hello"},
		{"replace keeps old on failure", func(d string) string {
			p := filepath.Join(d, "b.bin")
			if err := os.WriteFile(p, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, func(w io.Writer) error { io.WriteString(w, "partial"); return boom }, boom, "old"},
		{"missing folder", func(d string) string { return filepath.Join(d, "nope", "c.bin") },
			func(w io.Writer) error { return nil }, ErrNoFolder, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := tc.target(dir)
			err := Write(path, 0o644, tc.write)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Write: %v, want %v", err, tc.wantErr)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tc.want {
				t.Errorf("content %q, want %q", got, tc.want)
			}
			entries, _ := os.ReadDir(dir)
			for _, e := range entries {
				if e.Name() != filepath.Base(path) {
					t.Errorf("left behind %s", e.Name())
				}
			}
		})
	}
}
