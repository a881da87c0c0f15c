package augment

import (
	"fmt"
	"slices"
)

// Step names a transform in Config.Steps.
type Step string

// The steps a Config can list after the crop.
const (
	StepJitter    Step = "jitter"    // ColorJitter, applied with Jitter.P
	StepGrayscale Step = "grayscale" // RandomGrayscale(GrayscaleP)
	StepBlur      Step = "blur"      // GaussianBlur, applied with Blur.P
	StepFlip      Step = "flip"      // RandomHorizontalFlip(FlipP)
)

// JitterConfig configures ColorJitter and its RandomApply probability.
type JitterConfig struct {
	// Brightness, Contrast, Saturation and Hue are ColorJitter's.
	Brightness float64 `json:"brightness"`
	Contrast   float64 `json:"contrast"`
	Saturation float64 `json:"saturation"`
	Hue        float64 `json:"hue"`
	// P is the probability of applying the jitter (1: always).
	P float64 `json:"p"`
}

// BlurConfig configures GaussianBlur and its RandomApply probability.
type BlurConfig struct {
	// SigmaMin and SigmaMax bound the blur's sigma.
	SigmaMin float64 `json:"sigma_min"`
	SigmaMax float64 `json:"sigma_max"`
	// P is the probability of blurring.
	P float64 `json:"p"`
}

// Config describes an augmentation pipeline as data (for flags, manifests
// and checkpoints). The crop is always first: RandomResizedCrop to
// Size x Size, or a plain Resize when Scale is zero. Steps lists the
// transforms that follow, in order; normalisation with Mean and Std ends it.
type Config struct {
	// Size is the side of the square output.
	Size int `json:"size"`
	// Scale is RandomResizedCrop's area range; zero means a plain Resize.
	Scale [2]float64 `json:"scale"`
	// Ratio is RandomResizedCrop's aspect ratio range; zero means
	// (3/4, 4/3).
	Ratio [2]float64 `json:"ratio"`
	// Steps lists the transforms after the crop, in order.
	Steps []Step `json:"steps"`
	// Jitter configures StepJitter.
	Jitter JitterConfig `json:"jitter"`
	// GrayscaleP is StepGrayscale's probability.
	GrayscaleP float64 `json:"grayscale_p"`
	// Blur configures StepBlur.
	Blur BlurConfig `json:"blur"`
	// FlipP is StepFlip's probability.
	FlipP float64 `json:"flip_p"`
	// Mean and Std normalise each channel: (v - Mean) / Std.
	Mean [3]float32 `json:"mean"`
	Std  [3]float32 `json:"std"`
}

// MoCoV1Config is the augmentation of the official MoCo v1 (main_moco.py
// without --aug-plus, "the same as InstDisc"): RandomResizedCrop(size,
// scale=(0.2, 1)), RandomGrayscale(p=0.2), ColorJitter(0.4, 0.4, 0.4, 0.4)
// always, RandomHorizontalFlip(), Normalize(mean, std).
func MoCoV1Config(size int, mean, std [3]float32) Config {
	return Config{
		Size: size, Scale: [2]float64{0.2, 1}, Ratio: defaultRatio(),
		Steps:      []Step{StepGrayscale, StepJitter, StepFlip},
		GrayscaleP: 0.2,
		Jitter:     JitterConfig{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.4, P: 1},
		FlipP:      0.5,
		Mean:       mean, Std: std,
	}
}

// MoCoV2Config is the augmentation of the official MoCo v2 (main_moco.py
// --aug-plus, after SimCLR): RandomResizedCrop(size, scale=(0.2, 1)),
// RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
// RandomGrayscale(p=0.2), RandomApply([GaussianBlur([0.1, 2.0])], p=0.5),
// RandomHorizontalFlip(), Normalize(mean, std).
func MoCoV2Config(size int, mean, std [3]float32) Config {
	return Config{
		Size: size, Scale: [2]float64{0.2, 1}, Ratio: defaultRatio(),
		Steps:      []Step{StepJitter, StepGrayscale, StepBlur, StepFlip},
		Jitter:     JitterConfig{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1, P: 0.8},
		GrayscaleP: 0.2,
		Blur:       BlurConfig{SigmaMin: 0.1, SigmaMax: 2, P: 0.5},
		FlipP:      0.5,
		Mean:       mean, Std: std,
	}
}

// CIFARDemoConfig is the training augmentation of the official MoCo CIFAR-10
// demo (colab/moco_cifar10_demo.ipynb): RandomResizedCrop(32) with
// torchvision's default scale (0.08, 1), RandomHorizontalFlip(p=0.5),
// RandomApply([ColorJitter(0.4, 0.4, 0.4, 0.1)], p=0.8),
// RandomGrayscale(p=0.2), Normalize([0.4914, 0.4822, 0.4465],
// [0.2023, 0.1994, 0.2010]). Note the scale: the demo does not use MoCo's
// (0.2, 1).
func CIFARDemoConfig() Config {
	return Config{
		Size: 32, Scale: [2]float64{0.08, 1}, Ratio: defaultRatio(),
		Steps:      []Step{StepFlip, StepJitter, StepGrayscale},
		FlipP:      0.5,
		Jitter:     JitterConfig{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1, P: 0.8},
		GrayscaleP: 0.2,
		Mean:       [3]float32{0.4914, 0.4822, 0.4465},
		Std:        [3]float32{0.2023, 0.1994, 0.2010},
	}
}

// EvalConfig resizes to size x size and normalises, nothing random: the
// test transform of the CIFAR demo when size is the images' own size.
func EvalConfig(size int, mean, std [3]float32) Config {
	return Config{Size: size, Mean: mean, Std: std}
}

// defaultRatio is torchvision's aspect ratio range (3/4, 4/3).
func defaultRatio() [2]float64 { return [2]float64{3.0 / 4, 4.0 / 3} }

// Build checks the config and makes its pipeline.
func (c Config) Build() (*Pipeline, error) {
	if c.Size <= 0 {
		return nil, fmt.Errorf("augment: config size %d", c.Size)
	}
	var crop Cropper = Resize{Height: c.Size, Width: c.Size}
	if c.Scale != [2]float64{} {
		ratio := c.Ratio
		if ratio == [2]float64{} {
			ratio = defaultRatio()
		}
		rrc := RandomResizedCrop{Height: c.Size, Width: c.Size, Scale: c.Scale, Ratio: ratio}
		if err := rrc.validate(); err != nil {
			return nil, fmt.Errorf("augment: config: %w", err)
		}
		crop = rrc
	}
	var steps []Transform
	for i, s := range c.Steps {
		if slices.Contains(c.Steps[:i], s) {
			return nil, fmt.Errorf("augment: config lists step %q twice", s)
		}
		var t Transform
		var p float64
		switch s {
		case StepJitter:
			j := ColorJitter{Brightness: c.Jitter.Brightness, Contrast: c.Jitter.Contrast, Saturation: c.Jitter.Saturation, Hue: c.Jitter.Hue}
			if err := j.validate(); err != nil {
				return nil, fmt.Errorf("augment: config: %w", err)
			}
			t, p = j, c.Jitter.P
		case StepGrayscale:
			t, p = RandomGrayscale{P: c.GrayscaleP}, c.GrayscaleP
		case StepBlur:
			b := GaussianBlur{SigmaMin: c.Blur.SigmaMin, SigmaMax: c.Blur.SigmaMax}
			if err := b.validate(); err != nil {
				return nil, fmt.Errorf("augment: config: %w", err)
			}
			t, p = b, c.Blur.P
		case StepFlip:
			t, p = RandomHorizontalFlip{P: c.FlipP}, c.FlipP
		default:
			return nil, fmt.Errorf("augment: config: unknown step %q (want %s, %s, %s or %s)", s, StepJitter, StepGrayscale, StepBlur, StepFlip)
		}
		if !(p >= 0 && p <= 1) {
			return nil, fmt.Errorf("augment: config: probability %v of step %q outside [0, 1]", p, s)
		}
		if (s == StepJitter || s == StepBlur) && p < 1 {
			t = RandomApply{P: p, T: t}
		}
		steps = append(steps, t)
	}
	p, err := NewPipeline(crop, steps, c.Mean, c.Std)
	if err != nil {
		return nil, fmt.Errorf("augment: config: %w", err)
	}
	return p, nil
}
