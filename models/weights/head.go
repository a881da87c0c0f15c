package weights

import (
	"fmt"
	"strconv"

	"github.com/mocoedge/mocoedge/models"
)

// The head kinds an architecture can have after the pooled features.
const (
	// HeadNone is a feature extractor: no layer after pooling.
	HeadNone = "none"
	// HeadFC is one linear layer named "fc" (MoCo v1, torchvision classifiers).
	HeadFC = "fc"
	// HeadMLP is MoCo v2's fc.0 -> ReLU -> fc.2.
	HeadMLP = "mlp"
)

// Head returns the kind of a's head: HeadNone, HeadFC or HeadMLP.
func Head(a *models.Arch) string {
	switch {
	case len(a.Head) == 0:
		return HeadNone
	case len(a.Head) == 2 && a.Head[0].Name == "fc.0":
		return HeadMLP
	default:
		return HeadFC
	}
}

// NewArch builds an architecture from its name, width multiplier, head kind
// and the head's output width dim (ignored, and may be 0, for HeadNone).
func NewArch(name string, width float64, head string, dim int) (*models.Arch, error) {
	switch head {
	case HeadNone:
		dim = 0
	case HeadFC, HeadMLP:
		if dim < 1 {
			return nil, fmt.Errorf("head %s needs an output width of at least 1, got %d", head, dim)
		}
	default:
		return nil, fmt.Errorf("unknown head %q: accepted are %s, %s, %s", head, HeadNone, HeadFC, HeadMLP)
	}
	a, err := models.New(name, width, dim)
	if err != nil {
		return nil, err
	}
	if head == HeadMLP {
		a.WithMLPHead()
	}
	return a, nil
}

// Describe names an architecture in messages: "resnet18-cifar x0.5", with
// its head when it has one ("resnet50 x1 + mlp head 128").
func Describe(a *models.Arch) string {
	s := a.Name + " x" + strconv.FormatFloat(a.Width, 'g', -1, 64)
	if h := Head(a); h != HeadNone {
		s += fmt.Sprintf(" + %s head %d", h, a.Outputs())
	}
	return s
}
