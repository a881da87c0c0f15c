package augment

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestRecipes(t *testing.T) {
	mean, std := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	tests := []struct {
		name  string
		cfg   Config
		steps []Transform
	}{
		{"moco v1", MoCoV1Config(224, mean, std), []Transform{
			RandomGrayscale{P: 0.2},
			ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.4},
			RandomHorizontalFlip{P: 0.5},
		}},
		{"moco v2", MoCoV2Config(224, mean, std), []Transform{
			RandomApply{P: 0.8, T: ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1}},
			RandomGrayscale{P: 0.2},
			RandomApply{P: 0.5, T: GaussianBlur{SigmaMin: 0.1, SigmaMax: 2}},
			RandomHorizontalFlip{P: 0.5},
		}},
		{"cifar demo", CIFARDemoConfig(), []Transform{
			RandomHorizontalFlip{P: 0.5},
			RandomApply{P: 0.8, T: ColorJitter{Brightness: 0.4, Contrast: 0.4, Saturation: 0.4, Hue: 0.1}},
			RandomGrayscale{P: 0.2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := tt.cfg.Build()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.steps, tt.steps) {
				t.Errorf("steps\n got %#v\nwant %#v", p.steps, tt.steps)
			}
			rrc, ok := p.crop.(RandomResizedCrop)
			if !ok || rrc.Height != tt.cfg.Size || rrc.Ratio != [2]float64{0.75, 4.0 / 3} {
				t.Errorf("crop %#v", p.crop)
			}
			// A config survives JSON.
			b, err := json.Marshal(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			var back Config
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tt.cfg) {
				t.Errorf("JSON round trip: %v\n%s", err, b)
			}
		})
	}
	if s := CIFARDemoConfig().Scale; s != [2]float64{0.08, 1} {
		t.Errorf("CIFAR demo scale %v, want torchvision's default (0.08, 1)", s)
	}
	if s := MoCoV2Config(224, mean, std).Scale; s != [2]float64{0.2, 1} {
		t.Errorf("MoCo v2 scale %v, want (0.2, 1)", s)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := CIFARDemoConfig()
	tests := []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"zero size", func(c *Config) { c.Size = 0 }, "size"},
		{"scale above 1", func(c *Config) { c.Scale = [2]float64{0.5, 1.5} }, "scale"},
		{"scale reversed", func(c *Config) { c.Scale = [2]float64{0.9, 0.1} }, "scale"},
		{"bad ratio", func(c *Config) { c.Ratio = [2]float64{2, 1} }, "ratio"},
		{"hue too big", func(c *Config) { c.Jitter.Hue = 0.6 }, "hue"},
		{"negative brightness", func(c *Config) { c.Jitter.Brightness = -1 }, "brightness"},
		{"probability above 1", func(c *Config) { c.GrayscaleP = 1.5 }, "probability"},
		{"unknown step", func(c *Config) { c.Steps = append(c.Steps, "solarize") }, "unknown step"},
		{"step twice", func(c *Config) { c.Steps = append(c.Steps, StepFlip) }, "twice"},
		{"blur without sigma", func(c *Config) { c.Steps = append(c.Steps, StepBlur) }, "sigma"},
		{"zero std", func(c *Config) { c.Std[1] = 0 }, "std"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			c.Steps = append([]Step(nil), ok.Steps...)
			tt.change(&c)
			_, err := c.Build()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one about %q", err, tt.want)
			}
		})
	}
}
