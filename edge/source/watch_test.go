package source

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

const testSettle = 150 * time.Millisecond

func TestWatch(t *testing.T) {
	imgs := cifar(t, 4)
	dir := t.TempDir()
	outside := t.TempDir()
	writeFile(t, dir, "before.jpg", imgs[0].Data) // present at start: ignored
	h := startHub(t, []config.Source{{Name: "w", Kind: KindWatch, Path: dir, Buffer: 10}}, WithSettle(testSettle))
	waitFor(t, 3*time.Second, "the watch", func() bool { return stats(t, h.Hub, "w").Running })

	// A file written at once.
	whole := writeFile(t, dir, "whole.jpg", imgs[1].Data)
	f := next(t, h.Hub, 3*time.Second)
	if f.Path != whole || !bytes.Equal(f.Image, imgs[1].Data) {
		t.Fatalf("frame %s, %d bytes", f.Path, len(f.Image))
	}

	// A file written slowly: pauses shorter than the settle time, in all
	// longer than it. It must come through once, complete.
	slow := filepath.Join(dir, "slow.jpg")
	w, err := os.Create(slow)
	if err != nil {
		t.Fatal(err)
	}
	data := imgs[2].Data
	chunk := len(data)/6 + 1
	for off := 0; off < len(data); off += chunk {
		if _, err := w.Write(data[off:min(off+chunk, len(data))]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(testSettle * 2 / 5)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f = next(t, h.Hub, 3*time.Second)
	if f.Path != slow || !bytes.Equal(f.Image, data) {
		t.Fatalf("slowly written file: frame %s with %d of %d bytes", f.Path, len(f.Image), len(data))
	}

	// A file moved in, and one renamed into place from a temporary name.
	moved := filepath.Join(dir, "moved.png")
	png := toPNG(t, imgs[3].Data)
	if err := os.Rename(writeFile(t, outside, "x.png", png), moved); err != nil {
		t.Fatal(err)
	}
	f = next(t, h.Hub, 3*time.Second)
	if f.Path != moved || !bytes.Equal(f.Image, png) {
		t.Fatalf("moved-in file: frame %s, %d bytes", f.Path, len(f.Image))
	}
	part := writeFile(t, dir, "renamed.jpg.part", imgs[0].Data)
	renamed := filepath.Join(dir, "renamed.jpg")
	if err := os.Rename(part, renamed); err != nil {
		t.Fatal(err)
	}
	f = next(t, h.Hub, 3*time.Second)
	if f.Path != renamed || !bytes.Equal(f.Image, imgs[0].Data) {
		t.Fatalf("renamed file: frame %s, %d bytes", f.Path, len(f.Image))
	}

	// Nothing else: each file once, the first one never, hidden files and
	// other names never.
	writeFile(t, dir, ".hidden.jpg", imgs[0].Data)
	writeFile(t, dir, "notes.txt", []byte("x"))
	noFrame(t, h.Hub, 3*testSettle)
	if st := stats(t, h.Hub, "w"); st.Frames != 4 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestWatchMissingFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "incoming")
	h := startHub(t, []config.Source{{Name: "w", Kind: KindWatch, Path: dir}}, WithSettle(testSettle))
	waitFor(t, 3*time.Second, "restarts", func() bool { return stats(t, h.Hub, "w").Restarts >= 2 })
	st := stats(t, h.Hub, "w")
	if !strings.Contains(st.LastError, dir) || st.Running {
		t.Fatalf("missing folder: %+v, want an error naming %s", st, dir)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "the watch", func() bool { return stats(t, h.Hub, "w").Running })
	p := writeFile(t, dir, "a.jpg", []byte("jpeg"))
	if f := next(t, h.Hub, 3*time.Second); f.Path != p {
		t.Errorf("frame %s", f.Path)
	}
	// The folder goes away: the source fails and waits for it again.
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 3*time.Second, "a restart after removal", func() bool { return !stats(t, h.Hub, "w").Running })
}
