package main

import (
	"bytes"
	"encoding/json"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/repo"
	"github.com/mocoedge/mocoedge/models/manifest"
	"github.com/mocoedge/mocoedge/models/onnxrun"
	"github.com/mocoedge/mocoedge/models/weights"
)

// cifarJPEGs copies the first n JPEG files of the CIFAR-10 test archive
// into dir, keeping their class folders, and returns their paths.
func cifarJPEGs(t *testing.T, dir string, n int) []string {
	t.Helper()
	files, err := repo.CIFAR10Files("test.tar.gz", n)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, f := range files {
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	return paths
}

func embedLines(t *testing.T, args ...string) []embedLine {
	t.Helper()
	code, out, errs := runCLI(t, append([]string{"embed", "--json"}, args...)...)
	if code != 0 {
		t.Fatalf("embed %v: exit %d: %s", args, code, errs)
	}
	var lines []embedLine
	dec := json.NewDecoder(strings.NewReader(out))
	for dec.More() {
		var l embedLine
		if err := dec.Decode(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	return lines
}

// TestEmbedRoutesAgree embeds real CIFAR-10 images through the checkpoint
// (the engine) and through its exported model (ONNX Runtime): the vectors
// must agree within onnxrun.Tolerance relative, for both outputs.
func TestEmbedRoutesAgree(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "images")
	paths := cifarJPEGs(t, imgs, 6)
	// One PNG, and a file that is not an image, to be passed over.
	f, _ := os.Open(paths[0])
	img, err := jpeg.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imgs, "copy.png"), pngBytes.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imgs, "README.txt"), []byte("not an image"), 0o644); err != nil {
		t.Fatal(err)
	}

	ckpt := writeCheckpoint(t, dir, "resnet18-cifar", weights.HeadMLP, 16)
	model := filepath.Join(dir, "encoder.onnx")
	exportJSON(t, "--checkpoint", ckpt, "--out", model)

	for _, output := range []string{"features", "embedding"} {
		// A batch smaller than the image count exercises the batching.
		viaEngine := embedLines(t, "--checkpoint", ckpt, "--images", imgs, "--output", output, "--batch", "4")
		viaORT := embedLines(t, "--model", model, "--images", imgs, "--output", output, "--batch", "3")
		if len(viaEngine) != 7 || len(viaORT) != 7 {
			t.Fatalf("%s: %d and %d lines, want 7 (6 JPEGs and a PNG)", output, len(viaEngine), len(viaORT))
		}
		for i := range viaEngine {
			e, o := viaEngine[i], viaORT[i]
			if e.Path != o.Path || (i > 0 && e.Path < viaEngine[i-1].Path) {
				t.Fatalf("line %d: paths %s and %s (want equal and sorted)", i, e.Path, o.Path)
			}
			d := onnxrun.Compare(output, o.Vector, e.Vector)
			if d.MaxRel > onnxrun.Tolerance {
				t.Errorf("%s of %s: %+v", output, e.Path, d)
			}
			if i == 0 {
				t.Logf("%s: max_abs_diff %.3g max_rel_diff %.3g (dim %d)", output, d.MaxAbs, d.MaxRel, len(e.Vector))
			}
		}
	}
	// The PNG holds the same pixels as the JPEG it was made from.
	byPath := map[string][]float32{}
	for _, l := range embedLines(t, "--model", model, "--images", imgs) {
		byPath[l.Path] = l.Vector
	}
	if d := onnxrun.Compare("png", byPath[filepath.Join(imgs, "copy.png")], byPath[paths[0]]); d.MaxAbs != 0 {
		t.Errorf("PNG and JPEG of the same pixels differ: %+v", d)
	}

	// A single file and a glob.
	if l := embedLines(t, "--model", model, "--images", paths[1]); len(l) != 1 || l[0].Path != paths[1] || len(l[0].Vector) != 16 {
		t.Errorf("single file: %+v", l)
	}
	glob := filepath.Join(imgs, "test", "*", "*.jpg")
	if l := embedLines(t, "--model", model, "--images", glob, "--output", "features"); len(l) != 6 || len(l[0].Vector) != 64 {
		t.Errorf("glob %s: %d lines", glob, len(l))
	}
	code, out, _ := runCLI(t, "embed", "--model", model, "--images", paths[1])
	if code != 0 || !strings.HasPrefix(out, paths[1]+"\t") || strings.Count(out, " ") != 15 {
		t.Errorf("text output: exit %d, %q", code, out)
	}
}

func TestEmbedErrors(t *testing.T) {
	dir := t.TempDir()
	imgs := filepath.Join(dir, "images")
	cifarJPEGs(t, imgs, 1)
	ckpt := writeCheckpoint(t, dir, "resnet18-cifar", weights.HeadNone, 0)
	broken := filepath.Join(dir, "broken.jpg")
	if err := os.WriteFile(broken, []byte("\xff\xd8 not really"), 0o644); err != nil {
		t.Fatal(err)
	}
	orphan := filepath.Join(dir, "orphan.onnx") // an ONNX file without its manifest
	if err := os.WriteFile(orphan, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no source", []string{"--images", imgs}, 2, "exactly one of --checkpoint FILE and --model"},
		{"no images", []string{"--checkpoint", ckpt}, 2, "--images is required"},
		{"bad output", []string{"--checkpoint", ckpt, "--images", imgs, "--output", "logits"}, 2, "accepted are features, embedding"},
		{"nothing there", []string{"--checkpoint", ckpt, "--images", filepath.Join(dir, "*.gif")}, 1, "no such file, folder or matching images"},
		{"broken image", []string{"--checkpoint", ckpt, "--images", broken}, 1, "broken.jpg"},
		{"missing model", []string{"--model", filepath.Join(dir, "gone.onnx"), "--images", imgs}, 1, "gone.onnx: no such file"},
		{"no manifest", []string{"--model", orphan, "--images", imgs}, 1, "orphan.manifest.json"},
		{"not a checkpoint", []string{"--checkpoint", broken, "--images", imgs}, 1, "not a safetensors file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := runCLI(t, append([]string{"embed"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.msg) || out != "" {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errs, tc.code, tc.msg)
			}
			if tc.code == 1 && strings.Count(strings.TrimSpace(errs), "\n") > 0 {
				t.Errorf("multi-line error %q", errs)
			}
		})
	}
}

func TestPreprocess(t *testing.T) {
	gray := func(h, w int, v uint8) []uint8 {
		p := make([]uint8, 3*h*w)
		for i := range p {
			p[i] = v
		}
		return p
	}
	// A 2x4 image whose columns are 0, 60, 120, 180 in every channel.
	stripes := make([]uint8, 3*2*4)
	for y := range 2 {
		for x := range 4 {
			for c := range 3 {
				stripes[3*(y*4+x)+c] = uint8(60 * x)
			}
		}
	}
	in := func(side, resize int) manifest.Input {
		return manifest.Input{Height: side, Width: side, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5}, Color: "RGB", Resize: resize, Crop: side}
	}
	cases := []struct {
		name string
		pix  []uint8
		h, w int
		in   manifest.Input
		want []float32 // the first plane
	}{
		{"same size", stripes, 2, 4, in(2, 2), []float32{60.0/255*2 - 1, 120.0/255*2 - 1, 60.0/255*2 - 1, 120.0/255*2 - 1}},
		{"constant, upscaled and cropped", gray(20, 40, 255), 20, 40, in(8, 10), constant(64, 1)},
		{"constant, downscaled", gray(64, 32, 0), 64, 32, in(16, 16), constant(256, -1)},
	}
	for _, tc := range cases {
		dst := make([]float32, 3*tc.in.Height*tc.in.Width)
		if err := preprocess(dst, tc.pix, tc.h, tc.w, tc.in); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		plane := dst[:len(tc.want)]
		for i := range plane {
			if diff := plane[i] - tc.want[i]; diff > 1e-5 || diff < -1e-5 {
				t.Errorf("%s: plane[%d] = %v, want %v", tc.name, i, plane[i], tc.want[i])
				break
			}
		}
	}
}

func constant(n int, v float32) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = v
	}
	return out
}
