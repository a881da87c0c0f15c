package weights

import (
	"fmt"
	"strconv"

	"github.com/mocoedge/mocoedge/models"
)

// Metadata keys describing the architecture of the state dict stored under
// a prefix; in the file each key is written as prefix+key
// ("encoder_q.arch").
const (
	KeyArch    = "arch"    // architecture name, e.g. "resnet18-cifar"
	KeyWidth   = "width"   // width multiplier, e.g. "0.5"
	KeyHead    = "head"    // HeadNone, HeadFC or HeadMLP
	KeyClasses = "classes" // the head's output width; "0" without a head
)

// Metadata keys that record how a checkpoint was trained. They are
// optional; `trainer export` copies them into the model manifest.
const (
	KeyMethod  = "method"  // e.g. "moco-v2", "supervised"
	KeyDataset = "dataset" // what it was trained on
	KeyImages  = "images"  // number of training images
	KeyEpochs  = "epochs"  // epochs trained
	KeySeconds = "seconds" // wall time of the training
	KeyKNN     = "knn"     // final kNN top-1 accuracy in percent
)

// Metadata returns the metadata entries that describe a, keyed prefix+key.
func Metadata(prefix string, a *models.Arch) map[string]string {
	classes := 0
	if len(a.Head) > 0 {
		classes = a.Outputs()
	}
	return map[string]string{
		prefix + KeyArch:    a.Name,
		prefix + KeyWidth:   strconv.FormatFloat(a.Width, 'g', -1, 64),
		prefix + KeyHead:    Head(a),
		prefix + KeyClasses: strconv.Itoa(classes),
	}
}

// ArchFromMetadata builds the architecture that md describes under prefix.
// The error wraps ErrMetadata and names the missing or bad key.
func ArchFromMetadata(md map[string]string, prefix string) (*models.Arch, error) {
	get := func(key string) (string, error) {
		v, ok := md[prefix+key]
		if !ok {
			return "", fmt.Errorf("%w: no %q entry (is this a mocoedge checkpoint?)", ErrMetadata, prefix+key)
		}
		return v, nil
	}
	name, err := get(KeyArch)
	if err != nil {
		return nil, err
	}
	ws, err := get(KeyWidth)
	if err != nil {
		return nil, err
	}
	width, err := strconv.ParseFloat(ws, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q is not a number", ErrMetadata, prefix+KeyWidth, ws)
	}
	head, err := get(KeyHead)
	if err != nil {
		return nil, err
	}
	cs, err := get(KeyClasses)
	if err != nil {
		return nil, err
	}
	classes, err := strconv.Atoi(cs)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %q is not an integer", ErrMetadata, prefix+KeyClasses, cs)
	}
	a, err := NewArch(name, width, head, classes)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetadata, err)
	}
	return a, nil
}
