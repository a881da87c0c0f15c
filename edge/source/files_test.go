package source

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

// takeAll takes frames until n arrived.
func takeAll(t *testing.T, h *Hub, n int) []Frame {
	t.Helper()
	var out []Frame
	for range n {
		out = append(out, next(t, h, 3*time.Second))
	}
	return out
}

func TestFilesSingle(t *testing.T) {
	img := cifar(t, 1)[0]
	p := writeFile(t, t.TempDir(), "one.jpeg", img.Data)
	h := startHub(t, []config.Source{{Name: "f", Kind: KindFiles, Path: p}})
	f := next(t, h.Hub, 3*time.Second)
	if f.Path != p || !bytes.Equal(f.Image, img.Data) || f.RGB != nil || f.Seq != 1 || f.Source != "f" {
		t.Fatalf("frame %s seq %d: %d bytes", f.Path, f.Seq, len(f.Image))
	}
	waitFor(t, 3*time.Second, "the source to finish", func() bool { return stats(t, h.Hub, "f").State == StateFinished })
	if st := stats(t, h.Hub, "f"); st.Frames != 1 || st.Errors != 0 || st.Running {
		t.Errorf("stats %+v", st)
	}
	noFrame(t, h.Hub, 20*time.Millisecond)
}

func TestFilesFolderRecursiveSorted(t *testing.T) {
	imgs := cifar(t, 5)
	dir := t.TempDir()
	writeFile(t, dir, "b.jpg", imgs[0].Data)
	writeFile(t, dir, "a.JPG", imgs[1].Data)
	writeFile(t, dir, "sub/c.png", toPNG(t, imgs[2].Data))
	writeFile(t, dir, "sub/deeper/d.jpeg", imgs[3].Data)
	writeFile(t, dir, "notes.txt", []byte("not an image"))
	writeFile(t, dir, ".hidden.jpg", imgs[4].Data)
	writeFile(t, dir, ".cache/e.jpg", imgs[4].Data)
	h := startHub(t, []config.Source{{Name: "f", Kind: KindFiles, Path: dir, Buffer: 10}})
	waitFor(t, 3*time.Second, "the source to finish", func() bool { return stats(t, h.Hub, "f").State == StateFinished })
	var got []string
	for _, f := range takeAll(t, h.Hub, 4) {
		rel, _ := filepath.Rel(dir, f.Path)
		got = append(got, rel)
	}
	if want := "a.JPG b.jpg sub/c.png sub/deeper/d.jpeg"; strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
	noFrame(t, h.Hub, 20*time.Millisecond)
}

func TestFilesGlobAndLoop(t *testing.T) {
	imgs := cifar(t, 3)
	dir := t.TempDir()
	for i, name := range []string{"cam-2.jpg", "cam-1.jpg", "other.jpg"} {
		writeFile(t, dir, name, imgs[i].Data)
	}
	h := startHub(t, []config.Source{{Name: "g", Kind: KindFiles, Path: filepath.Join(dir, "cam-*.jpg"), Loop: true, Buffer: 1}})
	// Buffer 1 with loop: the source runs ahead and drops; what comes
	// through is the glob's files in turn.
	seen := map[string]int{}
	for range 20 {
		f := next(t, h.Hub, 3*time.Second)
		seen[filepath.Base(f.Path)]++
	}
	if seen["other.jpg"] != 0 || seen["cam-1.jpg"] == 0 || seen["cam-2.jpg"] == 0 {
		t.Errorf("frames per file %v", seen)
	}
	st := stats(t, h.Hub, "g")
	if st.State != StateRunning || st.Frames < 20 || st.Errors != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestFilesLoopOrderAndPace(t *testing.T) {
	imgs := cifar(t, 2)
	dir := t.TempDir()
	writeFile(t, dir, "1.jpg", imgs[0].Data)
	writeFile(t, dir, "2.jpg", imgs[1].Data)
	start := time.Now()
	h := startHub(t, []config.Source{{Name: "f", Kind: KindFiles, Path: dir, Loop: true, FPS: 50, Buffer: 10}})
	frames := takeAll(t, h.Hub, 6)
	elapsed := time.Since(start)
	for i, f := range frames {
		if want := []string{"1.jpg", "2.jpg"}[i%2]; filepath.Base(f.Path) != want || f.Seq != uint64(i+1) {
			t.Errorf("frame %d: %s seq %d, want %s", i, f.Path, f.Seq, want)
		}
	}
	// Paced at 50 fps: 6 frames take at least 5 periods, none skipped.
	if elapsed < 95*time.Millisecond {
		t.Errorf("6 frames at 50 fps in %s", elapsed)
	}
	if st := stats(t, h.Hub, "f"); st.Skipped != 0 || st.Dropped != 0 {
		t.Errorf("a paced files source skipped or dropped: %+v", st)
	}
}

func TestFilesBadInput(t *testing.T) {
	img := cifar(t, 1)[0]
	dir := t.TempDir()
	writeFile(t, dir, "a-empty.jpg", nil)
	writeFile(t, dir, "b-good.jpg", img.Data)
	writeFile(t, dir, "c-truncated.jpg", img.Data[:len(img.Data)/2])
	writeFile(t, dir, "d-big.jpg", bytes.Repeat([]byte{0xFF}, 4096))
	if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "e-dangling.jpg")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "f-last.jpg", img.Data)
	h := startHub(t, []config.Source{{Name: "f", Kind: KindFiles, Path: dir, Buffer: 10}}, WithMaxFileBytes(4000))
	waitFor(t, 3*time.Second, "the source to finish", func() bool { return stats(t, h.Hub, "f").State == StateFinished })
	frames := takeAll(t, h.Hub, 4)
	var got []string
	for _, f := range frames {
		got = append(got, filepath.Base(f.Path))
	}
	if want := "a-empty.jpg b-good.jpg c-truncated.jpg f-last.jpg"; strings.Join(got, " ") != want {
		t.Errorf("frames %v, want %s", got, want)
	}
	if frames[0].Image == nil || len(frames[0].Image) != 0 {
		t.Errorf("empty file: Image %v, want empty and non-nil", frames[0].Image)
	}
	if len(frames[2].Image) != len(img.Data)/2 {
		t.Errorf("truncated file: %d bytes", len(frames[2].Image))
	}
	st := stats(t, h.Hub, "f")
	if st.Errors != 2 || st.Frames != 4 || !strings.Contains(st.LastError, "e-dangling.jpg") {
		t.Errorf("stats %+v: want 2 errors (the big file, the dangling link)", st)
	}
}

func TestFilesMissingPathRetries(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "later")
	h := startHub(t, []config.Source{{Name: "f", Kind: KindFiles, Path: dir}})
	waitFor(t, 3*time.Second, "a restart", func() bool { return stats(t, h.Hub, "f").Restarts >= 2 })
	if st := stats(t, h.Hub, "f"); !strings.Contains(st.LastError, dir) {
		t.Errorf("last error %q does not name the path", st.LastError)
	}
	writeFile(t, dir, "x.jpg", []byte("x"))
	if f := next(t, h.Hub, 3*time.Second); string(f.Image) != "x" {
		t.Errorf("frame %q", f.Image)
	}
}

func TestListImages(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/1.png", nil)
	writeFile(t, dir, "b/2.jpg", nil)
	writeFile(t, dir, "b/3.txt", nil)
	got, err := listImages(filepath.Join(dir, "*"), func(err error) { t.Error(err) })
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || filepath.Base(got[0]) != "1.png" || filepath.Base(got[1]) != "2.jpg" {
		t.Errorf("glob of folders: %v", got)
	}
	if _, err := listImages(filepath.Join(dir, "*.gif"), nil); !errors.Is(err, ErrNoImages) {
		t.Errorf("glob without matches: %v", err)
	}
}

// TestFilesWaitForThePipeline: a files source with a one-frame mailbox and
// a slow consumer still delivers every file, in order, dropping none.
func TestFilesWaitForThePipeline(t *testing.T) {
	dir := t.TempDir()
	files := cifar(t, 12)
	for i, f := range files {
		writeFile(t, dir, fmt.Sprintf("%02d.jpg", i), f.Data)
	}
	r := startHub(t, []config.Source{{Name: "folder", Kind: KindFiles, Path: dir, Buffer: 1}})
	for i := range files {
		time.Sleep(10 * time.Millisecond) // a slow pipeline
		f := next(t, r.Hub, 5*time.Second)
		if want := fmt.Sprintf("%02d.jpg", i); filepath.Base(f.Path) != want {
			t.Fatalf("frame %d is %s, want %s", i, f.Path, want)
		}
	}
	if s := stats(t, r.Hub, "folder"); s.Dropped != 0 || s.Frames != 12 {
		t.Errorf("stats: %+v (want 12 frames, none dropped)", s)
	}
}
