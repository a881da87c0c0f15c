package source

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

func TestNewValidates(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  config.Source
		want string
	}{
		{"no name", config.Source{Kind: KindBridge}, "name"},
		{"bad name", config.Source{Name: "a b", Kind: KindBridge}, "name"},
		{"no kind", config.Source{Name: "a"}, "no kind"},
		{"unknown kind", config.Source{Name: "a", Kind: "v4l2"}, "v4l2"},
		{"files without path", config.Source{Name: "a", Kind: KindFiles}, "path"},
		{"bad glob", config.Source{Name: "a", Kind: KindFiles, Path: "x/[a"}, "path"},
		{"watch without path", config.Source{Name: "a", Kind: KindWatch}, "path"},
		{"ffmpeg without input", config.Source{Name: "a", Kind: KindFFmpeg}, "input"},
		{"gstreamer without pipeline", config.Source{Name: "a", Kind: KindGStreamer}, "pipeline"},
		{"gstreamer open quote", config.Source{Name: "a", Kind: KindGStreamer, Pipeline: `filesrc location="x`}, "quote"},
		{"mjpeg bad url", config.Source{Name: "a", Kind: KindMJPEG, URL: "ftp://x"}, "url"},
		{"negative buffer", config.Source{Name: "a", Kind: KindBridge, Buffer: -1}, "buffer"},
		{"negative fps", config.Source{Name: "a", Kind: KindBridge, FPS: -1}, "fps"},
		{"huge size", config.Source{Name: "a", Kind: KindFFmpeg, Input: "x", Width: 100000}, "size"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New([]config.Source{tc.src})
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v: want ErrInvalid mentioning %q", err, tc.want)
			}
		})
	}
	_, err := New([]config.Source{{Name: "a", Kind: KindBridge}, {Name: "a", Kind: KindBridge}})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate name: %v", err)
	}
	if _, err := New(nil, WithBackoff(time.Second, time.Millisecond)); !errors.Is(err, ErrInvalid) {
		t.Errorf("max < min back-off: %v", err)
	}
	h, err := New([]config.Source{{Name: "cam", Kind: KindFFmpeg, Input: "x"}})
	if err != nil {
		t.Fatal(err)
	}
	c := h.srcs[0].cfg
	if c.Buffer != DefaultBuffer || c.Width != 640 || c.Height != 480 || c.Command != "ffmpeg" {
		t.Errorf("defaults not applied: %+v", c)
	}
	if st := h.Stats()[0]; st.State != StateIdle || st.Running {
		t.Errorf("before Run: %+v", st)
	}
}

func TestMailboxDropsOldest(t *testing.T) {
	h := startHub(t, []config.Source{{Name: "b", Kind: KindBridge, Buffer: 2}})
	for i := range 5 {
		if err := h.Push("b", Frame{Image: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	st := stats(t, h.Hub, "b")
	if st.Frames != 5 || st.Dropped != 3 || st.Queued != 2 || st.Skipped != 0 {
		t.Fatalf("stats %+v: want 5 frames, 3 dropped, 2 queued", st)
	}
	for _, want := range []uint64{4, 5} {
		f := next(t, h.Hub, time.Second)
		if f.Seq != want || f.Image[0] != byte(want-1) || f.Source != "b" || f.Time.IsZero() {
			t.Fatalf("got frame %+v, want seq %d", f, want)
		}
	}
	noFrame(t, h.Hub, 20*time.Millisecond)
}

func TestRateCapAndInterval(t *testing.T) {
	h := startHub(t, []config.Source{
		{Name: "capped", Kind: KindBridge, FPS: 10, Buffer: 100},
		{Name: "sampled", Kind: KindBridge, Interval: config.Duration(time.Second), Buffer: 100},
		{Name: "half", Kind: KindBridge, FPS: 15, Buffer: 100},
	})
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	// 3 s of a 30 fps camera with a little jitter.
	for i := range 90 {
		jit := time.Duration((i*7)%5-2) * time.Millisecond
		at := t0.Add(time.Duration(i)*time.Second/30 + jit)
		for _, name := range []string{"capped", "sampled", "half"} {
			if err := h.Push(name, Frame{Image: []byte{1}, Time: at}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, kept := range map[string]uint64{"capped": 30, "sampled": 3, "half": 45} {
		st := stats(t, h.Hub, name)
		if st.Frames != 90 || st.Frames-st.Skipped != kept || st.Dropped != 0 || uint64(st.Queued) != kept {
			t.Errorf("%s: %+v: want %d of 90 kept, the rest skipped", name, st, kept)
		}
	}
	// The interval keeps frames about a second apart.
	var prev time.Time
	for range 3 {
		f := next(t, h.Hub, time.Second)
		for f.Source != "sampled" {
			f = next(t, h.Hub, time.Second)
		}
		if !prev.IsZero() {
			if gap := f.Time.Sub(prev); gap < 700*time.Millisecond || gap > 1300*time.Millisecond {
				t.Errorf("sampled frames %s apart, want about 1 s", gap)
			}
		}
		prev = f.Time
	}
}

func TestNextIsFair(t *testing.T) {
	h := startHub(t, []config.Source{
		{Name: "fast", Kind: KindBridge, Buffer: 10},
		{Name: "slow", Kind: KindBridge, Buffer: 10},
	})
	for range 8 {
		if err := h.Push("fast", Frame{Image: []byte{1}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := h.Push("slow", Frame{Image: []byte{2}}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for range 11 {
		got = append(got, next(t, h.Hub, time.Second).Source)
	}
	want := "fast slow fast slow fast slow fast fast fast fast fast"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestNextWakesWaiters(t *testing.T) {
	h := startHub(t, []config.Source{{Name: "b", Kind: KindBridge, Buffer: 100}})
	const consumers, frames = 4, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[uint64]bool{}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for range consumers {
		wg.Go(func() {
			for {
				f, err := h.Next(ctx)
				if err != nil {
					return
				}
				mu.Lock()
				if seen[f.Seq] {
					t.Errorf("frame %d delivered twice", f.Seq)
				}
				seen[f.Seq] = true
				if len(seen) == frames {
					cancel()
				}
				mu.Unlock()
			}
		})
	}
	for i := range frames {
		if err := h.Push("b", Frame{Image: []byte{byte(i)}}); err != nil {
			t.Fatal(err)
		}
		if i%10 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	wg.Wait()
	if len(seen) != frames {
		t.Fatalf("%d of %d frames delivered", len(seen), frames)
	}
}

func TestLatestAndPush(t *testing.T) {
	h := startHub(t, []config.Source{
		{Name: "b", Kind: KindBridge},
		{Name: "w", Kind: KindWatch, Path: t.TempDir()},
	})
	if _, ok := h.Latest("b"); ok {
		t.Error("Latest before any frame")
	}
	if _, ok := h.Latest("nope"); ok {
		t.Error("Latest of an unknown source")
	}
	for i := range 3 {
		if err := h.Push("b", Frame{Image: []byte{byte(i)}, Path: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	next(t, h.Hub, time.Second)
	next(t, h.Hub, time.Second)
	f, ok := h.Latest("b")
	if !ok || f.Seq != 3 || f.Image[0] != 2 || f.Source != "b" {
		t.Errorf("Latest after consuming: %+v %v", f, ok)
	}
	for _, tc := range []struct {
		name string
		f    Frame
		want error
	}{
		{"nope", Frame{Image: []byte{1}}, ErrUnknownSource},
		{"w", Frame{Image: []byte{1}}, ErrNotBridge},
		{"b", Frame{}, ErrEmptyFrame},
		{"b", Frame{RGB: make([]byte, 5), Width: 2, Height: 2}, ErrInvalid},
	} {
		if err := h.Push(tc.name, tc.f); !errors.Is(err, tc.want) {
			t.Errorf("Push(%q): %v, want %v", tc.name, err, tc.want)
		}
	}
	if err := h.Push("b", Frame{RGB: make([]byte, 12), Width: 2, Height: 2}); err != nil {
		t.Errorf("raw frame: %v", err)
	}
	st := stats(t, h.Hub, "b")
	if !st.Running || st.Kind != KindBridge || st.Frames != 4 {
		t.Errorf("bridge stats %+v", st)
	}
}

func TestRunOnceAndEnd(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.jpg", []byte("a"))
	h, err := New([]config.Source{{Name: "f", Kind: KindFiles, Path: dir, Buffer: 5}}, WithLogger(testLogger(t)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// A finite source only: Run returns by itself.
	if err := h.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if err := h.Run(ctx); !errors.Is(err, ErrAlreadyRunning) {
		t.Errorf("second Run: %v", err)
	}
	if f := next(t, h, time.Second); string(f.Image) != "a" {
		t.Errorf("frame %q", f.Image)
	}
	if _, err := h.Next(ctx); !errors.Is(err, ErrEnded) {
		t.Errorf("Next after the end: %v", err)
	}
	if st := h.Stats()[0]; st.State != StateFinished || st.LastError != "" {
		t.Errorf("stats %+v", st)
	}
}

func TestGateTolerance(t *testing.T) {
	// A jittery 30 fps camera capped at 15 keeps every other frame.
	for _, fps := range []float64{5, 10, 15, 29} {
		g := gate{period: time.Duration(float64(time.Second) / fps)}
		t0 := time.Unix(0, 0)
		kept := 0
		for i := range 300 {
			jit := time.Duration((i*13)%7-3) * time.Millisecond
			if g.allow(t0.Add(time.Duration(i)*time.Second/30 + jit)) {
				kept++
			}
		}
		want := fps * 10
		if float64(kept) < want*0.95 || float64(kept) > want*1.05 {
			t.Errorf("cap %v fps: kept %d of 300 frames in 10 s, want about %v", fps, kept, want)
		}
	}
}

func ExampleHub() {
	h, err := New([]config.Source{{Name: "door", Kind: KindBridge}})
	if err != nil {
		panic(err)
	}
	_ = h.Push("door", Frame{Image: []byte("jpeg bytes")})
	f, _ := h.Next(context.Background())
	fmt.Println(f.Source, f.Seq, string(f.Image))
	// Output: door 1 jpeg bytes
}

func TestSetFPS(t *testing.T) {
	h, err := New([]config.Source{{Name: "b", Kind: KindBridge}, {Name: "f", Kind: KindFiles, Path: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.SetFPS("b", 2); err != nil {
		t.Fatal(err)
	}
	base := time.Now()
	for i := range 10 { // 10 frames over one second at a 2 fps cap
		if err := h.Push("b", Frame{Image: []byte{1}, Time: base.Add(time.Duration(i) * 100 * time.Millisecond)}); err != nil {
			t.Fatal(err)
		}
	}
	if s := h.Stats()[0]; s.Skipped != 8 {
		t.Errorf("skipped %d of 10 at 2 fps over 1 s, want 8", s.Skipped)
	}
	for _, c := range []struct {
		name string
		fps  float64
	}{{"nope", 1}, {"b", -1}, {"f", 5}} {
		if err := h.SetFPS(c.name, c.fps); err == nil {
			t.Errorf("SetFPS(%q, %v) accepted", c.name, c.fps)
		}
	}
}
