package weights_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mocoedge/mocoedge/internal/blas"
	"github.com/mocoedge/mocoedge/models"
	"github.com/mocoedge/mocoedge/models/safetensors"
	"github.com/mocoedge/mocoedge/models/weights"
	"github.com/mocoedge/mocoedge/trainer/engine"
)

// The tests drive the training engine to produce real state dicts; the
// package itself does not import the trainer.

func mustArch(t *testing.T, name string, width float64, head string, dim int) *models.Arch {
	t.Helper()
	a, err := weights.NewArch(name, width, head, dim)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func newNet(t *testing.T, a *models.Arch, batch, size int) *engine.Net[float32] {
	t.Helper()
	g, err := blas.Load(blas.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := engine.NewNet(engine.NewCPU[float32](g, 0), a, batch, size, size)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func stateOf(n *engine.Net[float32]) *weights.State {
	return &weights.State{
		Arch:           n.Arch,
		Params:         slices.Clone(engine.HostData[float32](n.Params)),
		Stats:          slices.Clone(engine.HostData[float32](n.Stats)),
		BatchesTracked: n.BatchesTracked,
	}
}

func load(n *engine.Net[float32], s *weights.State) {
	n.Backend().Upload(n.Params, s.Params)
	n.Backend().Upload(n.Stats, s.Stats)
	n.BatchesTracked = s.BatchesTracked
}

func randomImages(seed uint64, n int) []float32 {
	rng := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(rng.NormFloat64()*1.5 + 0.3)
	}
	return x
}

// trained returns a network whose batch-norm statistics have moved away
// from their initial values, so that nothing about them is trivial.
func trained(t *testing.T, a *models.Arch, batch, size int) *engine.Net[float32] {
	n := newNet(t, a, batch, size)
	n.Init(7)
	n.Train = true
	for i := range 3 {
		if _, err := n.Forward(engine.Host[float32](randomImages(uint64(i), batch*3*size*size)), batch); err != nil {
			t.Fatal(err)
		}
	}
	return n
}

func TestLayoutMatchesEngine(t *testing.T) {
	for _, name := range models.Names() {
		for _, head := range []string{weights.HeadNone, weights.HeadFC, weights.HeadMLP} {
			a := mustArch(t, name, 0.125, head, 16)
			n := newNet(t, a, 1, 64)
			slots, np, ns := weights.Layout(a)
			if np != n.Params.Len() || ns != n.Stats.Len() {
				t.Errorf("%s: layout sizes %d/%d, engine %d/%d", weights.Describe(a), np, ns, n.Params.Len(), n.Stats.Len())
			}
			for _, sl := range slots {
				if sl.Kind == models.NumBatchesTracked {
					continue
				}
				et, ok := n.Lookup(sl.Name)
				if !ok || et.Offset != sl.Offset {
					t.Errorf("%s: %s at %d, engine has it at %d (found %v)", weights.Describe(a), sl.Name, sl.Offset, et.Offset, ok)
				}
			}
		}
	}
}

// TestRoundTripForwardBitExact saves a network, loads it into a fresh one
// and checks that the eval-mode outputs are bit-for-bit the same.
func TestRoundTripForwardBitExact(t *testing.T) {
	cases := []struct {
		arch, head string
		size       int
	}{
		{"resnet18-cifar", weights.HeadMLP, 32},
		{"resnet50", weights.HeadFC, 64},
		{"resnet34", weights.HeadNone, 64},
	}
	for _, tc := range cases {
		t.Run(tc.arch+"-"+tc.head, func(t *testing.T) {
			a := mustArch(t, tc.arch, 0.125, tc.head, 8)
			const batch = 2
			src := trained(t, a, batch, tc.size)
			path := filepath.Join(t.TempDir(), "net.safetensors")
			if err := weights.Save(path, stateOf(src), map[string]string{weights.KeyMethod: "test"}); err != nil {
				t.Fatal(err)
			}
			s, md, err := weights.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if md[weights.KeyMethod] != "test" || md["format"] != "pt" || md[weights.KeyHead] != tc.head {
				t.Errorf("metadata %v", md)
			}
			if s.BatchesTracked != 3 || weights.Describe(s.Arch) != weights.Describe(a) {
				t.Errorf("loaded %s with %d batches tracked, want %s and 3", weights.Describe(s.Arch), s.BatchesTracked, weights.Describe(a))
			}
			dst := newNet(t, s.Arch, batch, tc.size)
			load(dst, s)

			x := engine.Host[float32](randomImages(99, batch*3*tc.size*tc.size))
			src.Train, dst.Train = false, false
			want, err := src.Forward(x, batch)
			if err != nil {
				t.Fatal(err)
			}
			wantCopy := slices.Clone(engine.HostData[float32](want))
			got, err := dst.Forward(x, batch)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(engine.HostData[float32](got), wantCopy) {
				t.Error("forward outputs differ after a save/load round trip")
			}
		})
	}
}

// TestPrefixes stores two encoders and a queue in one file, as a MoCo
// checkpoint does, and reads each encoder back by its prefix.
func TestPrefixes(t *testing.T) {
	a := mustArch(t, "resnet18-cifar", 0.125, weights.HeadMLP, 8)
	q, k := stateOf(trained(t, a, 2, 32)), weights.New(a)
	k.Params[0], k.BatchesTracked = 42, 5
	qt, err := weights.Tensors("encoder_q.", q)
	if err != nil {
		t.Fatal(err)
	}
	kt, err := weights.Tensors("encoder_k.", k)
	if err != nil {
		t.Fatal(err)
	}
	md := weights.Metadata("encoder_q.", a)
	for key, v := range weights.Metadata("encoder_k.", a) {
		md[key] = v
	}
	all := append(append(qt, kt...), safetensors.NewF32("queue", []int{8, 4}, make([]float32, 32)))
	path := filepath.Join(t.TempDir(), "moco.safetensors")
	if err := safetensors.WriteFile(path, all, md); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		prefix string
		want   *weights.State
	}{{"encoder_q.", q}, {"encoder_k.", k}} {
		arch, err := weights.ArchFromMetadata(f.Metadata, tc.prefix)
		if err != nil {
			t.Fatal(err)
		}
		got, err := weights.FromTensors(f, tc.prefix, arch)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.Params, tc.want.Params) || !slices.Equal(got.Stats, tc.want.Stats) || got.BatchesTracked != tc.want.BatchesTracked {
			t.Errorf("%s: state differs after the round trip", tc.prefix)
		}
	}
	// Without a prefix the file holds far more than one network.
	if _, err := weights.FromTensors(f, "", a); !errors.Is(err, weights.ErrMismatch) {
		t.Errorf("loading a MoCo file without a prefix: %v, want ErrMismatch", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	small := mustArch(t, "resnet18-cifar", 0.25, weights.HeadNone, 0)
	smallPath := filepath.Join(dir, "small.safetensors")
	if err := weights.Save(smallPath, weights.New(small), nil); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.ReadFile(smallPath)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := os.ReadFile(smallPath)
	truncated := filepath.Join(dir, "truncated.safetensors")
	if err := os.WriteFile(truncated, full[:len(full)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	noMeta := filepath.Join(dir, "nometa.safetensors")
	if err := safetensors.WriteFile(noMeta, f.Tensors, nil); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "extra.safetensors")
	md := weights.Metadata("", small)
	if err := safetensors.WriteFile(extra, append(slices.Clone(f.Tensors), safetensors.NewF32("fc.weight", []int{2, 128}, make([]float32, 256))), md); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.safetensors")
	if err := safetensors.WriteFile(missing, f.Tensors[1:], md); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		load func() error
		want error
		msg  string
	}{
		{"wider arch", func() error {
			_, err := weights.FromTensors(f, "", mustArch(t, "resnet18-cifar", 0.5, weights.HeadNone, 0))
			return err
		}, weights.ErrMismatch, "conv1.weight: shape [16 3 3 3] in file, [32 3 3 3] for resnet18-cifar x0.5; "},
		{"block shape", func() error {
			_, err := weights.FromTensors(f, "", mustArch(t, "resnet18-cifar", 0.5, weights.HeadNone, 0))
			return err
		}, weights.ErrMismatch, "and "},
		{"other arch", func() error {
			_, err := weights.FromTensors(f, "", mustArch(t, "resnet50", 0.25, weights.HeadNone, 0))
			return err
		}, weights.ErrMismatch, "layer1.0.conv3.weight: missing in file"},
		{"unexpected tensor", func() error { _, _, err := weights.Load(extra); return err }, weights.ErrMismatch, "fc.weight: in file, not in resnet18-cifar x0.25"},
		{"missing tensor", func() error { _, _, err := weights.Load(missing); return err }, weights.ErrMismatch, ": missing in file, resnet18-cifar x0.25 has it"},
		{"no metadata", func() error { _, _, err := weights.Load(noMeta); return err }, weights.ErrMetadata, `no "arch" entry`},
		{"truncated", func() error { _, _, err := weights.Load(truncated); return err }, safetensors.ErrTruncated, truncated},
		{"not a file", func() error { _, _, err := weights.Load(filepath.Join(dir, "nope")); return err }, os.ErrNotExist, "nope"},
		{"bad state", func() error {
			return weights.Save(filepath.Join(dir, "bad.safetensors"), &weights.State{Arch: small}, nil)
		}, weights.ErrLayout, "0 parameters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.load()
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.msg)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("multi-line error %q", err)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.safetensors")); !os.IsNotExist(err) {
		t.Error("a failed Save left a file")
	}
}

func TestBackboneAndArch(t *testing.T) {
	a := mustArch(t, "resnet18-cifar", 0.125, weights.HeadMLP, 8)
	s := stateOf(trained(t, a, 2, 32))
	b, err := s.Backbone()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Arch.Head) != 0 || weights.Describe(b.Arch) != "resnet18-cifar x0.125" {
		t.Errorf("backbone arch %s", weights.Describe(b.Arch))
	}
	w, _ := s.Lookup("layer4.1.bn2.running_var")
	bw, _ := b.Lookup("layer4.1.bn2.running_var")
	if !slices.Equal(w, bw) || len(w) != 64 {
		t.Errorf("backbone running_var %v, want %v", bw, w)
	}
	if _, ok := s.Lookup("bn1.num_batches_tracked"); ok {
		t.Error("Lookup found num_batches_tracked, which lives in BatchesTracked")
	}
	for _, tc := range []struct {
		name, head string
		dim        int
		want       string
	}{
		{"resnet18", "mlp", 128, "resnet18 x0.125 + mlp head 128"},
		{"resnet50", "fc", 10, "resnet50 x0.125 + fc head 10"},
		{"resnet34", "none", 5, "resnet34 x0.125"},
	} {
		a, err := weights.NewArch(tc.name, 0.125, tc.head, tc.dim)
		if err != nil || weights.Describe(a) != tc.want {
			t.Errorf("NewArch(%s, %s, %d) = %v, %v; want %s", tc.name, tc.head, tc.dim, a, err, tc.want)
		}
		back, err := weights.ArchFromMetadata(weights.Metadata("p.", a), "p.")
		if err != nil || weights.Describe(back) != tc.want {
			t.Errorf("metadata round trip of %s: %v, %v", tc.want, back, err)
		}
	}
	if _, err := weights.NewArch("resnet18", 1, "transformer", 8); err == nil {
		t.Error("unknown head accepted")
	}
}
