package source

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/config"
)

// cifarVideo writes n CIFAR-10 test images as PNGs and makes a 25 fps
// MJPEG AVI of them with the real ffmpeg; it returns the video's path and
// the images as RGB24 (32x32).
func cifarVideo(t *testing.T, n int) (string, [][]byte) {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatalf("these tests run the real ffmpeg: %v", err)
	}
	dir := t.TempDir()
	var want [][]byte
	for i, img := range cifar(t, n) {
		png := toPNG(t, img.Data)
		writeFile(t, dir, fmt.Sprintf("img%03d.png", i), png)
		rgb, w, h := decodeRGB(t, png)
		if w != 32 || h != 32 {
			t.Fatalf("%s is %dx%d", img.Name, w, h)
		}
		want = append(want, rgb)
	}
	video := filepath.Join(dir, "cifar.avi")
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-framerate", "25",
		"-i", filepath.Join(dir, "img%03d.png"), "-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj444p", video).CombinedOutput()
	if err != nil {
		t.Fatalf("make the video: %v: %s", err, out)
	}
	return video, want
}

// closest returns the index of the image nearest to rgb and its mean
// absolute difference.
func closest(rgb []byte, images [][]byte) (int, float64) {
	best, bestD := -1, 1e9
	for i, im := range images {
		if d := meanAbsDiff(rgb, im); d < bestD {
			best, bestD = i, d
		}
	}
	return best, bestD
}

func TestFFmpegLoopKillRestart(t *testing.T) {
	video, images := cifarVideo(t, 8)
	h := startHub(t, []config.Source{{Name: "cam", Kind: KindFFmpeg, Input: video, Loop: true, Width: 32, Height: 32, Buffer: 4}})

	// Frames arrive at the right size and show the source images, in order.
	matched := map[int]bool{}
	prev, worst := -1, 0.0
	for i := range 16 {
		f := next(t, h.Hub, 5*time.Second)
		if f.Image != nil || f.Width != 32 || f.Height != 32 || len(f.RGB) != 32*32*3 {
			t.Fatalf("frame %d: %dx%d, %d RGB bytes, image %v", i, f.Width, f.Height, len(f.RGB), f.Image != nil)
		}
		k, d := closest(f.RGB, images)
		if d > 6 {
			t.Fatalf("frame %d: mean absolute difference %.1f to the nearest source image", i, d)
		}
		if prev >= 0 && k != (prev+1)%len(images) && stats(t, h.Hub, "cam").Dropped == 0 {
			t.Errorf("frame %d shows image %d after image %d", i, k, prev)
		}
		prev, worst = k, max(worst, d)
		matched[k] = true
	}
	t.Logf("16 frames matched their source images within a mean absolute difference of %.2f", worst)
	if len(matched) != len(images) {
		t.Errorf("the loop showed %d of %d images", len(matched), len(images))
	}
	st := stats(t, h.Hub, "cam")
	if !st.Running || st.PID == 0 || st.Restarts != 0 || st.FPS < 5 || st.FPS > 50 {
		t.Fatalf("stats %+v: want a running process near 25 fps", st)
	}
	t.Logf("measured %.1f fps from a 25 fps file played with -re", st.FPS)

	// Kill ffmpeg: the failure is counted, logged, and frames flow again
	// from a new process.
	if err := syscall.Kill(st.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a new ffmpeg", func() bool {
		s := stats(t, h.Hub, "cam")
		return s.Restarts == 1 && s.PID != 0 && s.PID != st.PID
	})
	after := stats(t, h.Hub, "cam")
	if after.Errors != 1 || !strings.Contains(after.LastError, "signal: killed") || !strings.Contains(after.LastError, fmt.Sprint(st.PID)) {
		t.Errorf("after the kill: %+v", after)
	}
	var f Frame
	for f.Seq <= after.Frames {
		f = next(t, h.Hub, 5*time.Second)
	}
	if _, d := closest(f.RGB, images); d > 6 {
		t.Errorf("frame after the restart: difference %.1f", d)
	}

	// When Run's context ends the process is killed and reaped.
	pid := stats(t, h.Hub, "cam").PID
	h.stop(t)
	if err := syscall.Kill(pid, 0); pid == 0 || err != syscall.ESRCH {
		t.Errorf("ffmpeg (pid %d) after Run returned: kill 0 gives %v, want ESRCH", pid, err)
	}
	if st := stats(t, h.Hub, "cam"); st.State != StateStopped || st.PID != 0 {
		t.Errorf("after Run: %+v", st)
	}
}

func TestFFmpegFileEnds(t *testing.T) {
	video, images := cifarVideo(t, 8)
	h := startHub(t, []config.Source{{Name: "clip", Kind: KindFFmpeg, Input: video, Width: 32, Height: 32, Buffer: 16}})
	waitFor(t, 5*time.Second, "the end of the file", func() bool { return stats(t, h.Hub, "clip").State == StateFinished })
	st := stats(t, h.Hub, "clip")
	if st.Frames != 8 || st.Errors != 0 || st.Restarts != 0 || st.PID != 0 {
		t.Errorf("stats %+v: want 8 frames and a clean end", st)
	}
	for i := range 8 {
		f := next(t, h.Hub, time.Second)
		if k, d := closest(f.RGB, images); k != i || d > 6 {
			t.Errorf("frame %d shows image %d (difference %.1f)", i, k, d)
		}
	}
}

// fakeCommand writes an executable shell script standing in for ffmpeg.
func fakeCommand(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fake-ffmpeg")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRawFailuresRestartWithBackoff(t *testing.T) {
	t.Setenv("PATH", t.TempDir()) // no gst-launch-1.0 (nor ffmpeg) to find
	h := startHub(t, []config.Source{
		{Name: "gst", Kind: KindGStreamer, Pipeline: "v4l2src device=/dev/video0"},
		{Name: "exits", Kind: KindFFmpeg, Input: "rtsp://camera/stream", Command: fakeCommand(t, "echo 'rtsp://camera/stream: Connection refused' >&2; exit 3")},
		{Name: "stalls", Kind: KindFFmpeg, Input: "/dev/video9", Command: fakeCommand(t, "exec /bin/sleep 30")},
	}, WithBackoff(10*time.Millisecond, 40*time.Millisecond), WithStallTimeout(100*time.Millisecond))
	waitFor(t, 5*time.Second, "restarts", func() bool {
		for _, s := range h.Stats() {
			if s.Restarts < 3 {
				return false
			}
		}
		return true
	})
	for _, s := range h.Stats() {
		want := map[string][]string{
			"gst":    {"gst-launch-1.0 not found", "apt install gstreamer1.0-tools"},
			"exits":  {"exit status 3", "Connection refused", "after 0 frames"},
			"stalls": {"no frame for 100ms"},
		}[s.Name]
		for _, w := range want {
			if !strings.Contains(s.LastError, w) {
				t.Errorf("%s: last error %q lacks %q", s.Name, s.LastError, w)
			}
		}
		if s.Errors < s.Restarts || s.Frames != 0 {
			t.Errorf("%s: %+v", s.Name, s)
		}
	}
}

func TestBackoffGrowsAndCaps(t *testing.T) {
	h := startHub(t, []config.Source{{Name: "gst", Kind: KindGStreamer, Pipeline: "videotestsrc", Command: "/nonexistent/gst-launch-1.0"}},
		WithBackoff(20*time.Millisecond, 80*time.Millisecond))
	// Delays about 20, 40, 80, 80, ... ms (less up to a tenth of jitter):
	// the 6th restart comes after the first 5, 20+40+3*80 = 300 ms, at
	// least 270 ms.
	start := time.Now()
	waitFor(t, 3*time.Second, "6 restarts", func() bool { return stats(t, h.Hub, "gst").Restarts >= 6 })
	if el := time.Since(start); el < 250*time.Millisecond || el > 1500*time.Millisecond {
		t.Errorf("6 restarts in %s, want about 0.3 s", el)
	}
	if st := stats(t, h.Hub, "gst"); !strings.Contains(st.LastError, "/nonexistent/gst-launch-1.0 not found") || !strings.Contains(st.LastError, "install") {
		t.Errorf("last error %q", st.LastError)
	}
}

func TestFFmpegArgv(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clip.mp4")
	writeFile(t, filepath.Dir(file), "clip.mp4", []byte("x"))
	for _, tc := range []struct {
		src    config.Source
		want   string
		finite bool
	}{
		{config.Source{Input: file, Loop: true, Width: 320, Height: 240, Command: "ffmpeg"},
			"ffmpeg -hide_banner -loglevel error -nostdin -re -stream_loop -1 -i " + file + " -an -vf scale=320:240 -pix_fmt rgb24 -f rawvideo pipe:1", false},
		{config.Source{Input: file, Width: 320, Height: 240, Command: "ffmpeg"},
			"ffmpeg -hide_banner -loglevel error -nostdin -re -i " + file + " -an -vf scale=320:240 -pix_fmt rgb24 -f rawvideo pipe:1", true},
		{config.Source{Input: "rtsp://cam/1", Loop: true, Width: 64, Height: 48, Command: "/opt/ffmpeg", Args: []string{"-rtsp_transport", "tcp"}},
			"/opt/ffmpeg -hide_banner -loglevel error -nostdin -rtsp_transport tcp -i rtsp://cam/1 -an -vf scale=64:48 -pix_fmt rgb24 -f rawvideo pipe:1", false},
		{config.Source{Input: "/dev/video0", Width: 640, Height: 480, Command: "ffmpeg", Args: []string{"-f", "v4l2"}},
			"ffmpeg -hide_banner -loglevel error -nostdin -f v4l2 -i /dev/video0 -an -vf scale=640:480 -pix_fmt rgb24 -f rawvideo pipe:1", false},
	} {
		rc, err := ffmpegCommand(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(append([]string{rc.bin}, rc.args...), " "); got != tc.want || rc.finite != tc.finite {
			t.Errorf("argv\n %s (finite %v)\nwant\n %s (finite %v)", got, rc.finite, tc.want, tc.finite)
		}
	}
}

func TestGStreamerArgv(t *testing.T) {
	c := config.Source{
		Command:  "gst-launch-1.0",
		Width:    224,
		Height:   224,
		Pipeline: `nvarguscamerasrc sensor-id=0 ! 'video/x-raw(memory:NVMM),width=1920,height=1080,framerate=30/1' ! nvvidconv`,
	}
	rc, err := gstreamerCommand(c)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"-q", "nvarguscamerasrc", "sensor-id=0", "!", "video/x-raw(memory:NVMM),width=1920,height=1080,framerate=30/1", "!", "nvvidconv",
		"!", "videoconvert", "!", "videoscale", "!", "video/x-raw,format=RGB,width=224,height=224", "!", "fdsink", "fd=1"}
	if !slices.Equal(rc.args, want) || rc.bin != "gst-launch-1.0" || rc.finite {
		t.Errorf("argv %q (finite %v)", rc.args, rc.finite)
	}
	c.Pipeline = `filesrc location="/data/my clip.mp4" ! decodebin`
	if rc, err = gstreamerCommand(c); err != nil || rc.args[2] != "location=/data/my clip.mp4" || !rc.finite {
		t.Errorf("file pipeline: %q finite %v, %v", rc.args, rc.finite, err)
	}
	c.Pipeline = "videotestsrc !"
	if _, err := gstreamerCommand(c); err == nil {
		t.Error("a pipeline ending in ! was accepted")
	}
}

func TestSplitPipeline(t *testing.T) {
	for in, want := range map[string][]string{
		"":                           nil,
		"  a   b\tc\n":               {"a", "b", "c"},
		`a="b c" 'd "e"' f\ g`:       {"a=b c", `d "e"`, "f g"},
		`x='' y=""`:                  {"x=", "y="},
		`caps="video/x-raw,a=\"1\""`: {`caps=video/x-raw,a="1"`},
	} {
		got, err := splitPipeline(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("split %q = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{`a "b`, `a 'b`, `a\`} {
		if _, err := splitPipeline(in); err == nil {
			t.Errorf("split %q: no error", in)
		}
	}
}

func TestRawHealthyRunResetsBackoff(t *testing.T) {
	// One 2x2 frame and half of another, then a failure: each run delivers
	// a frame, so with a zero healthy-run time the delay stays at its
	// minimum instead of doubling (20, 40, 80, 160, 320 ms).
	cmd := fakeCommand(t, "/usr/bin/head -c 18 /dev/zero; exit 1")
	h := startHub(t, []config.Source{{Name: "cam", Kind: KindFFmpeg, Input: "/dev/video7", Width: 2, Height: 2, Command: cmd}},
		WithBackoff(20*time.Millisecond, time.Second), WithHealthyRun(0))
	start := time.Now()
	waitFor(t, 3*time.Second, "5 restarts", func() bool { return stats(t, h.Hub, "cam").Restarts >= 5 })
	if el := time.Since(start); el > 400*time.Millisecond {
		t.Errorf("5 restarts took %s: the back-off was not reset by healthy runs", el)
	}
	st := stats(t, h.Hub, "cam")
	if st.Frames < 5 || !strings.Contains(st.LastError, "exit status 1 after 1 frames and 6 bytes of a 12-byte frame") {
		t.Errorf("stats %+v", st)
	}
	if f := next(t, h.Hub, time.Second); len(f.RGB) != 12 || f.Width != 2 || f.Height != 2 {
		t.Errorf("frame %+v", f)
	}
}

func TestGStreamerFileLoopsAndEnds(t *testing.T) {
	// A stand-in gst-launch-1.0 that plays a "file" of two 2x2 frames and
	// exits normally.
	cmd := fakeCommand(t, "/usr/bin/head -c 24 /dev/zero")
	h := startHub(t, []config.Source{
		{Name: "looped", Kind: KindGStreamer, Pipeline: "filesrc location=a.mp4 ! decodebin", Loop: true, Width: 2, Height: 2, Command: cmd},
		{Name: "once", Kind: KindGStreamer, Pipeline: "filesrc location=a.mp4 ! decodebin", Width: 2, Height: 2, Command: cmd},
	})
	waitFor(t, 3*time.Second, "the loop to play 3 times and the other to end", func() bool {
		return stats(t, h.Hub, "looped").Frames >= 6 && stats(t, h.Hub, "once").State == StateFinished
	})
	for _, s := range h.Stats() {
		if s.Restarts != 0 || s.Errors != 0 {
			t.Errorf("%s: %+v: a normal end is no failure", s.Name, s)
		}
	}
	if st := stats(t, h.Hub, "once"); st.Frames != 2 {
		t.Errorf("once: %d frames", st.Frames)
	}
}
