package models

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ErrUnknownArch is returned for an architecture name that New does not know.
var ErrUnknownArch = errors.New("unknown architecture")

// ErrBadWidth is returned for a width multiplier outside (0, 4].
var ErrBadWidth = errors.New("bad width multiplier")

// BlockKind tells a ResNet basic block (two 3x3 convs) from a bottleneck (1x1, 3x3, 1x1).
type BlockKind int

// The two ResNet block kinds.
const (
	Basic BlockKind = iota
	Bottleneck
)

// Conv is a bias-free 2-D convolution with a square kernel.
type Conv struct {
	Name                         string // parameter prefix, e.g. "layer1.0.conv1"
	In, Out, Kernel, Stride, Pad int
}

// OutSize returns the output height (or width) for an input of size n.
func (c Conv) OutSize(n int) int { return (n+2*c.Pad-c.Kernel)/c.Stride + 1 }

// BatchNorm is a 2-D batch normalisation over C channels.
type BatchNorm struct {
	Name string // parameter prefix, e.g. "layer1.0.bn1"
	C    int
}

// Block is one residual block: Convs[i] is followed by BNs[i] (ReLU after all
// but the last), then the shortcut is added and a ReLU applied.
type Block struct {
	Name  string // e.g. "layer2.0"
	Kind  BlockKind
	Convs []Conv
	BNs   []BatchNorm
	// Down and DownBN form the projection shortcut ("downsample.0/1"); nil for identity.
	Down   *Conv
	DownBN *BatchNorm
}

// Linear is a fully connected layer with weight [Out, In] and a bias.
type Linear struct {
	Name    string
	In, Out int
}

// Arch is a ResNet described as data.
type Arch struct {
	Name    string  // e.g. "resnet18-cifar"
	Width   float64 // channel multiplier (1 = torchvision)
	Classes int     // outputs of the head; 0 means no head (a feature extractor)
	Stem    Conv
	StemBN  BatchNorm
	MaxPool bool // 3x3 stride-2 max-pool after the stem
	Blocks  []Block
	// Features is the channel count of the pooled output.
	Features int
	// Head is the fc part after pooling: empty (a feature extractor), one
	// Linear named "fc", or MoCo v2's MLP "fc.0" -> ReLU -> "fc.2". A ReLU
	// follows every Linear but the last.
	Head []Linear
	// InputSize is the image side the architecture is usually trained at.
	InputSize int
}

type family struct {
	kind      BlockKind
	layers    [4]int
	cifarStem bool
}

// familyOf returns the block layout of a named architecture.
func familyOf(name string) (family, bool) {
	switch name {
	case "resnet18":
		return family{Basic, [4]int{2, 2, 2, 2}, false}, true
	case "resnet34":
		return family{Basic, [4]int{3, 4, 6, 3}, false}, true
	case "resnet50":
		return family{Bottleneck, [4]int{3, 4, 6, 3}, false}, true
	case "resnet18-cifar":
		return family{Basic, [4]int{2, 2, 2, 2}, true}, true
	}
	return family{}, false
}

// Names lists the architectures New accepts, sorted.
func Names() []string { return []string{"resnet18", "resnet18-cifar", "resnet34", "resnet50"} }

// New builds the architecture name with channel multiplier width and a
// classes-way fc (0 for none). Channel counts are round(64·width·2^stage),
// at least 1.
func New(name string, width float64, classes int) (*Arch, error) {
	f, ok := familyOf(name)
	if !ok {
		return nil, fmt.Errorf("%w %q: accepted are %s", ErrUnknownArch, name, strings.Join(Names(), ", "))
	}
	if !(width > 0 && width <= 4) {
		return nil, fmt.Errorf("%w %v: accepted are values in (0, 4], e.g. 0.25, 0.5, 1", ErrBadWidth, width)
	}
	if classes < 0 {
		return nil, fmt.Errorf("bad class count %d: accepted are 0 (no fc) or more", classes)
	}
	ch := func(c int) int { return max(1, int(math.Round(float64(c)*width))) }
	a := &Arch{Name: name, Width: width, Classes: classes, InputSize: 224}
	base := ch(64)
	if f.cifarStem {
		a.Stem = Conv{Name: "conv1", In: 3, Out: base, Kernel: 3, Stride: 1, Pad: 1}
		a.InputSize = 32
	} else {
		a.Stem = Conv{Name: "conv1", In: 3, Out: base, Kernel: 7, Stride: 2, Pad: 3}
		a.MaxPool = true
	}
	a.StemBN = BatchNorm{Name: "bn1", C: base}
	expansion := 1
	if f.kind == Bottleneck {
		expansion = 4
	}
	in := base
	for stage, n := range f.layers {
		planes := ch(64 << stage)
		for i := 0; i < n; i++ {
			stride := 1
			if stage > 0 && i == 0 {
				stride = 2
			}
			b := Block{Name: fmt.Sprintf("layer%d.%d", stage+1, i), Kind: f.kind}
			conv := func(j, cin, cout, k, s int) {
				b.Convs = append(b.Convs, Conv{Name: fmt.Sprintf("%s.conv%d", b.Name, j), In: cin, Out: cout, Kernel: k, Stride: s, Pad: k / 2})
				b.BNs = append(b.BNs, BatchNorm{Name: fmt.Sprintf("%s.bn%d", b.Name, j), C: cout})
			}
			if f.kind == Basic {
				conv(1, in, planes, 3, stride)
				conv(2, planes, planes, 3, 1)
			} else { // torchvision v1.5: the stride sits on the 3x3 conv
				conv(1, in, planes, 1, 1)
				conv(2, planes, planes, 3, stride)
				conv(3, planes, planes*expansion, 1, 1)
			}
			out := planes * expansion
			if stride != 1 || in != out {
				b.Down = &Conv{Name: b.Name + ".downsample.0", In: in, Out: out, Kernel: 1, Stride: stride}
				b.DownBN = &BatchNorm{Name: b.Name + ".downsample.1", C: out}
			}
			a.Blocks = append(a.Blocks, b)
			in = out
		}
	}
	a.Features = in
	if classes > 0 {
		a.Head = []Linear{{Name: "fc", In: in, Out: classes}}
	}
	return a, nil
}

// WithMLPHead replaces the head with MoCo v2's two-layer MLP: fc.0
// (Features -> Features), ReLU, fc.2 (Features -> Classes), named as the
// official code's nn.Sequential. It returns a for chaining. An architecture
// without a head (Classes 0) keeps none: the MLP needs an output width.
func (a *Arch) WithMLPHead() *Arch {
	if a.Classes > 0 {
		a.Head = []Linear{
			{Name: "fc.0", In: a.Features, Out: a.Features},
			{Name: "fc.2", In: a.Features, Out: a.Classes},
		}
	}
	return a
}

// Outputs returns the width of the network's output: the head's last layer,
// or the pooled features when there is no head.
func (a *Arch) Outputs() int {
	if len(a.Head) == 0 {
		return a.Features
	}
	return a.Head[len(a.Head)-1].Out
}
