package onnxrun

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"

	"github.com/advancedclimatesystems/gonnx/onnx"
	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/proto"

	"github.com/mocoedge/mocoedge/internal/onnxrt"
	"github.com/mocoedge/mocoedge/models/manifest"
)

// ErrModel is wrapped when a file cannot be opened as an encoder: not an
// ONNX model, or one without the images -> features, embedding contract.
var ErrModel = errors.New("not a mocoedge encoder model")

// ErrBatch is wrapped when Run gets a batch of the wrong size.
var ErrBatch = errors.New("bad input batch")

// config collects the options of Open.
type config struct {
	threads   int
	configure []func(*ort.SessionOptions) error
	sha256    string
}

// Option adjusts how Open creates the session.
type Option func(*config)

// WithThreads sets the threads ONNX Runtime uses inside one operator
// (0, the default, lets ONNX Runtime choose).
func WithThreads(n int) Option { return func(c *config) { c.threads = n } }

// WithSessionOptions lets the caller change ONNX Runtime's session options
// before the session is created, for example to append the TensorRT or
// CUDA execution provider. Several are applied in order.
func WithSessionOptions(f func(*ort.SessionOptions) error) Option {
	return func(c *config) { c.configure = append(c.configure, f) }
}

// WithSHA256 makes Open refuse the file unless the bytes it reads hash to
// sum (lower-case hex, as manifest.Manifest.SHA256): the check that the
// session runs exactly the model a manifest was verified against, even if
// the file is replaced between the verification and Open. The error wraps
// manifest.ErrHash.
func WithSHA256(sum string) Option { return func(c *config) { c.sha256 = sum } }

// Session runs one encoder model. Run may be called from several
// goroutines at once, but not while Close runs.
type Session struct {
	path                string
	session             *ort.DynamicAdvancedSession
	height, width       int
	features, embedding int
}

// Open initialises ONNX Runtime if needed (onnxrt.Init) and creates a
// session for the model at path, after checking that the model has the
// encoder contract: input "images" [N,3,H,W] and outputs "features" [N,C]
// and "embedding" [N,D].
func Open(path string, opts ...Option) (*Session, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("onnxrun: %w", err)
	}
	if cfg.sha256 != "" {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != cfg.sha256 {
			return nil, fmt.Errorf("onnxrun: %s: %w: the file hashes to %s, expected %s", path, manifest.ErrHash, got, cfg.sha256)
		}
	}
	s := &Session{path: path}
	if err := s.readShapes(data); err != nil {
		return nil, fmt.Errorf("onnxrun: %s: %w", path, err)
	}
	if err := onnxrt.Init(); err != nil {
		return nil, err
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, fmt.Errorf("onnxrun: session options: %w", err)
	}
	defer so.Destroy()
	if cfg.threads > 0 {
		if err := so.SetIntraOpNumThreads(cfg.threads); err != nil {
			return nil, fmt.Errorf("onnxrun: threads: %w", err)
		}
	}
	for _, f := range cfg.configure {
		if err := f(so); err != nil {
			return nil, fmt.Errorf("onnxrun: session options: %w", err)
		}
	}
	s.session, err = ort.NewDynamicAdvancedSessionWithONNXData(data,
		[]string{manifest.InputName}, []string{manifest.FeaturesName, manifest.EmbeddingName}, so)
	if err != nil {
		return nil, fmt.Errorf("onnxrun: %s: %w: %v", path, ErrModel, err)
	}
	return s, nil
}

// readShapes reads the input size and output widths from the model's
// declared inputs and outputs.
func (s *Session) readShapes(data []byte) error {
	var m onnx.ModelProto
	if err := proto.Unmarshal(data, &m); err != nil || m.GetGraph() == nil {
		return fmt.Errorf("%w: the file is not an ONNX model", ErrModel)
	}
	dims := func(vs []*onnx.ValueInfoProto, name string) []int64 {
		for _, v := range vs {
			if v.GetName() == name {
				var out []int64
				for _, d := range v.GetType().GetTensorType().GetShape().GetDim() {
					out = append(out, d.GetDimValue())
				}
				return out
			}
		}
		return nil
	}
	g := m.GetGraph()
	in, f, e := dims(g.GetInput(), manifest.InputName), dims(g.GetOutput(), manifest.FeaturesName), dims(g.GetOutput(), manifest.EmbeddingName)
	if len(in) != 4 || in[1] != 3 || in[2] < 1 || in[3] < 1 || len(f) != 2 || f[1] < 1 || len(e) != 2 || e[1] < 1 {
		return fmt.Errorf("%w: want input %s [N,3,H,W] and outputs %s [N,C], %s [N,D]; the model declares %v, %v, %v",
			ErrModel, manifest.InputName, manifest.FeaturesName, manifest.EmbeddingName, in, f, e)
	}
	s.height, s.width, s.features, s.embedding = int(in[2]), int(in[3]), int(f[1]), int(e[1])
	return nil
}

// Input returns the image size the model takes.
func (s *Session) Input() (height, width int) { return s.height, s.width }

// Widths returns C and D, the widths of the features and embedding outputs.
func (s *Session) Widths() (features, embedding int) { return s.features, s.embedding }

// Output is one batch's results, row-major.
type Output struct {
	// Features is [N, C].
	Features []float32
	// Embedding is [N, D].
	Embedding []float32
}

// Run runs n images, images holding n×3×H×W normalised float32 values in
// NCHW order, and returns both outputs.
func (s *Session) Run(images []float32, n int) (Output, error) {
	if want := n * 3 * s.height * s.width; n < 1 || len(images) != want {
		return Output{}, fmt.Errorf("onnxrun: %w: %d values for %d images of 3x%dx%d (want %d)",
			ErrBatch, len(images), n, s.height, s.width, want)
	}
	x, err := ort.NewTensor(ort.NewShape(int64(n), 3, int64(s.height), int64(s.width)), images)
	if err != nil {
		return Output{}, fmt.Errorf("onnxrun: input tensor: %w", err)
	}
	defer x.Destroy()
	outs := []ort.Value{nil, nil} // ONNX Runtime allocates the outputs
	if err := s.session.Run([]ort.Value{x}, outs); err != nil {
		return Output{}, fmt.Errorf("onnxrun: run %s: %w", s.path, err)
	}
	defer func() {
		for _, o := range outs {
			if o != nil {
				o.Destroy()
			}
		}
	}()
	var res Output
	for i, want := range []struct {
		dst   *[]float32
		width int
	}{{&res.Features, s.features}, {&res.Embedding, s.embedding}} {
		t, ok := outs[i].(*ort.Tensor[float32])
		if !ok {
			return Output{}, fmt.Errorf("onnxrun: output %d is %T, want a float32 tensor", i, outs[i])
		}
		data := t.GetData()
		if len(data) != n*want.width {
			return Output{}, fmt.Errorf("onnxrun: output %d has %d values, want %d×%d", i, len(data), n, want.width)
		}
		*want.dst = append([]float32(nil), data...)
	}
	return res, nil
}

// Close releases the ONNX Runtime session.
func (s *Session) Close() error {
	if s.session == nil {
		return nil
	}
	err := s.session.Destroy()
	s.session = nil
	if err != nil {
		return fmt.Errorf("onnxrun: close %s: %w", s.path, err)
	}
	return nil
}
