package agent_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/mocoedge/mocoedge/edge/agent"
	"github.com/mocoedge/mocoedge/edge/agent/agenttest"
	"github.com/mocoedge/mocoedge/edge/config"
	"github.com/mocoedge/mocoedge/edge/infer"
	"github.com/mocoedge/mocoedge/edge/retrieval"
	"github.com/mocoedge/mocoedge/internal/testmodel"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// TestFilesFlowIntoQueue runs a folder of real CIFAR-10 JPEGs, with a
// zero-byte file, a truncated JPEG and a 20000x20000 header among them,
// through the whole pipeline: every good image becomes a queue entry with a
// thumbnail, every bad one is counted and skipped, and queries, labels and
// snapshots work on the result.
func TestFilesFlowIntoQueue(t *testing.T) {
	images := testmodel.CIFARJPEGs(t, 24)
	dir := t.TempDir()
	agenttest.WriteImages(t, dir, images)
	bad := map[string][]byte{
		"0-empty.jpg":     {},
		"0-truncated.jpg": images[0][:len(images[0])/2],
		"0-huge.jpg":      testmodel.HugeJPEG(t, 20000, 20000),
	}
	for name, b := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := agenttest.Config(t, agenttest.ExportCIFAR(t), config.Source{Name: "cam", Kind: "files", Path: dir})
	r := agenttest.Start(t, cfg, agent.Options{})
	agenttest.WaitFor(t, "24 entries and 3 bad frames", 60*time.Second, func() bool {
		return r.Queue().Len() == 24 && r.Health().Pipeline["cam"].BadFrames == 3
	})
	if !agenttest.Contains(r.Log.String(), "frame skipped", "0-") {
		t.Errorf("bad frames were not logged:\n%s", r.Log.String())
	}

	h := r.Health()
	if h.Status != "ok" || h.Provider != infer.ProviderCPU || h.Model == nil {
		t.Fatalf("health = %+v", h)
	}
	thumb, err := r.Thumbnail(1)
	if err != nil {
		t.Fatal(err)
	}
	if cfgImg, err := jpeg.DecodeConfig(bytes.NewReader(thumb)); err != nil || cfgImg.Width != 32 || cfgImg.Height != 32 {
		t.Errorf("thumbnail: %v, %dx%d (want a 32x32 JPEG)", err, cfgImg.Width, cfgImg.Height)
	}

	ctx := context.Background()
	byID, err := r.Query(ctx, agent.QueryRequest{ID: 5, K: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(byID.Results) != 5 {
		t.Fatalf("query by id: %d results, want 5", len(byID.Results))
	}
	for i, res := range byID.Results {
		if res.ID == 5 {
			t.Errorf("query by id 5 returned entry 5 itself")
		}
		if i > 0 && res.Score > byID.Results[i-1].Score {
			t.Errorf("results not sorted by score: %+v", byID.Results)
		}
		if res.Source != "cam" {
			t.Errorf("result source %q", res.Source)
		}
	}
	byImage, err := r.Query(ctx, agent.QueryRequest{Image: images[3], K: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(byImage.Results) != 3 || byImage.Results[0].Score < 0.9999 {
		t.Errorf("query with a stored image: %+v (want the image itself first, cosine 1)", byImage.Results)
	}

	if _, err := r.ApplyLabel(7, "", "cat"); err != nil {
		t.Fatal(err)
	}
	cats, err := r.Query(ctx, agent.QueryRequest{Image: images[0], K: 10, Filter: retrieval.Filter{Labels: []string{"cat"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cats.Results) != 1 || cats.Results[0].ID != 7 || cats.Results[0].Label != "cat" {
		t.Errorf("label filter: %+v (want entry 7 only)", cats.Results)
	}
	id, err := r.ApplyLabel(0, "cam", "dog")
	if err != nil || id == 0 {
		t.Fatalf("label latest: id %d, %v", id, err)
	}
	snap, err := r.Snapshot(ctx, "cam")
	if err != nil {
		t.Fatal(err)
	}
	if snap.ID != 25 || r.Queue().Len() != 25 {
		t.Errorf("snapshot stored as %d, queue %d (want 25, 25)", snap.ID, r.Queue().Len())
	}

	for _, c := range []struct {
		name string
		req  agent.QueryRequest
		want error
	}{
		{"not an image", agent.QueryRequest{Image: []byte("hello, this is not an image")}, agent.ErrBadImage},
		{"truncated", agent.QueryRequest{Image: bad["0-truncated.jpg"]}, agent.ErrBadImage},
		{"huge", agent.QueryRequest{Image: bad["0-huge.jpg"]}, agent.ErrBadImage},
		{"unknown id", agent.QueryRequest{ID: 999}, agent.ErrNotFound},
		{"both", agent.QueryRequest{ID: 1, Image: images[0]}, agent.ErrBadRequest},
		{"k too large", agent.QueryRequest{ID: 1, K: 1000}, agent.ErrBadRequest},
	} {
		if _, err := r.Query(ctx, c.req); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := r.Query(ctx, agent.QueryRequest{ID: 2}); err != nil {
		t.Errorf("the agent stopped answering after bad queries: %v", err)
	}
}

// TestProviderFallbackReported asks for TensorRT, then CUDA, then the CPU:
// the CPU build of ONNX Runtime has neither GPU provider, so both fail
// with ONNX Runtime's reason, which is logged and reported in Health.
func TestProviderFallbackReported(t *testing.T) {
	cfg := agenttest.Config(t, agenttest.ExportCIFAR(t))
	cfg.Model.Providers = []string{"tensorrt", "cuda", "cpu"}
	r := agenttest.Start(t, cfg, agent.Options{})
	h := r.Health()
	if h.Provider != infer.ProviderCPU || h.Model == nil {
		t.Fatalf("provider %q", h.Provider)
	}
	if len(h.Model.Skipped) != 2 || h.Model.Skipped[0].Provider != infer.ProviderTensorRT || h.Model.Skipped[1].Provider != infer.ProviderCUDA {
		t.Fatalf("skipped = %+v, want tensorrt then cuda", h.Model.Skipped)
	}
	for _, s := range h.Model.Skipped {
		if s.Reason == "" {
			t.Errorf("%s skipped without a reason", s.Provider)
		}
	}
	if !agenttest.Contains(r.Log.String(), "tensorrt", "cuda") {
		t.Errorf("fallback not logged:\n%s", r.Log.String())
	}
}

// TestReloadKeepsServingOnBadModels tries a corrupt ONNX file, a manifest
// whose hash does not match, a path outside the model folder and a missing
// file: each is refused and the old model keeps serving. Then a good model
// is swapped in and the queue is re-embedded from its thumbnails.
func TestReloadKeepsServingOnBadModels(t *testing.T) {
	dir := t.TempDir()
	pathA, mA := testmodel.Export(t, dir, testmodel.CIFAR)
	specB := testmodel.CIFAR
	specB.Name, specB.Seed = "cifar-b", 2
	_, mB := testmodel.Export(t, dir, specB)

	// corrupt.onnx: a valid manifest beside a damaged ONNX file.
	good, err := os.ReadFile(pathA)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "corrupt.onnx"), good[:len(good)/3], 0o644); err != nil {
		t.Fatal(err)
	}
	mc := *mA
	if err := manifest.Write(filepath.Join(dir, "corrupt.manifest.json"), &mc); err != nil {
		t.Fatal(err)
	}
	// mismatch.onnx: model B's bytes under a manifest with A's hash.
	goodB, _ := os.ReadFile(filepath.Join(dir, "cifar-b.onnx"))
	os.WriteFile(filepath.Join(dir, "mismatch.onnx"), goodB, 0o644)
	mm := *mB
	mm.SHA256 = mA.SHA256
	manifest.Write(filepath.Join(dir, "mismatch.manifest.json"), &mm)

	imgDir := t.TempDir()
	images := testmodel.CIFARJPEGs(t, 12)
	agenttest.WriteImages(t, imgDir, images)
	r := agenttest.Start(t, agenttest.Config(t, pathA, config.Source{Name: "cam", Kind: "files", Path: imgDir}), agent.Options{})
	agenttest.WaitFor(t, "12 entries", 60*time.Second, func() bool { return r.Queue().Len() == 12 })

	ctx := context.Background()
	for _, c := range []struct {
		path string
		want error
	}{
		{"corrupt.onnx", infer.ErrModelRefused},
		{"mismatch.onnx", infer.ErrModelRefused},
		{"missing.onnx", infer.ErrModelRefused},
		{"../outside.onnx", agent.ErrBadRequest},
		{"/etc/passwd", agent.ErrBadRequest},
	} {
		_, err := r.Reload(ctx, c.path)
		if !errors.Is(err, c.want) {
			t.Errorf("reload %s: %v, want %v", c.path, err, c.want)
		}
		if m := r.Health().Model; m == nil || m.SHA256 != mA.SHA256 {
			t.Fatalf("after reload %s the serving model changed: %+v", c.path, m)
		}
		if _, _, err := r.EmbedImage(ctx, images[0]); err != nil {
			t.Fatalf("after reload %s the old model does not serve: %v", c.path, err)
		}
	}

	m, err := r.Reload(ctx, "cifar-b.onnx")
	if err != nil || m.SHA256 != mB.SHA256 {
		t.Fatalf("reload cifar-b: %v", err)
	}
	agenttest.WaitFor(t, "re-embedding", 60*time.Second, func() bool {
		p := r.ReembedProgress()
		return !p.Running && p.Total == 12
	})
	if p := r.ReembedProgress(); p.Done != 12 || p.Failed != 0 || p.Error != "" {
		t.Errorf("re-embedding: %+v", p)
	}
	res, err := r.Query(ctx, agent.QueryRequest{Image: images[4], K: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Model != mB.SHA256 || len(res.Results) != 1 || res.Results[0].Score < 0.95 {
		t.Errorf("query after reload: %+v (want image 4's re-embedded thumbnail first, cosine near 1)", res)
	}
}

// TestFFmpegFramesReachQueue plays a video made by real ffmpeg from
// CIFAR-10 images through an ffmpeg source, checks frames become queue
// entries, kills ffmpeg and checks the source restarts and frames flow
// again.
func TestFFmpegFramesReachQueue(t *testing.T) {
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Fatal("ffmpeg is missing: make test installs it (deploy/install-deps.sh)")
	}
	dir := t.TempDir()
	agenttest.WriteImages(t, dir, testmodel.CIFARJPEGs(t, 20))
	video := filepath.Join(dir, "cifar.avi")
	out, err := exec.Command(ffmpeg, "-hide_banner", "-loglevel", "error", "-framerate", "20",
		"-i", filepath.Join(dir, "%03d.jpg"), "-c:v", "mjpeg", "-q:v", "2", video).CombinedOutput()
	if err != nil {
		t.Fatalf("make video: %v\n%s", err, out)
	}
	cfg := agenttest.Config(t, agenttest.ExportCIFAR(t), config.Source{Name: "video", Kind: "ffmpeg", Input: video, Loop: true, Width: 32, Height: 32, Buffer: 8})
	r := agenttest.Start(t, cfg, agent.Options{})
	agenttest.WaitFor(t, "10 entries from ffmpeg", 60*time.Second, func() bool { return r.Queue().Len() >= 10 })

	var pid int
	agenttest.WaitFor(t, "the ffmpeg pid", 10*time.Second, func() bool {
		pid = r.Sources().Stats()[0].PID
		return pid > 0
	})
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	before := r.Queue().Len()
	agenttest.WaitFor(t, "a restart and new entries", 60*time.Second, func() bool {
		s := r.Sources().Stats()[0]
		return s.Restarts >= 1 && s.PID != pid && r.Queue().Len() >= before+10
	})
}
