package models

import (
	"errors"
	"testing"
)

func TestParamCountsMatchTorchvision(t *testing.T) {
	cases := []struct {
		name    string
		width   float64
		classes int
		params  int
		gflops  float64 // published torchvision GFLOPs (2 x GMACs) at 224
	}{
		{"resnet18", 1, 1000, 11_689_512, 3.64},
		{"resnet34", 1, 1000, 21_797_672, 7.34},
		{"resnet50", 1, 1000, 25_557_032, 8.18},
		{"resnet18-cifar", 1, 10, 11_173_962, 0},
	}
	for _, tc := range cases {
		a, err := New(tc.name, tc.width, tc.classes)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.NumParams(); got != tc.params {
			t.Errorf("%s: %d params, want %d", tc.name, got, tc.params)
		}
		if tc.gflops > 0 {
			got := float64(a.FLOPs(224, 224)) / 1e9
			if got < tc.gflops*0.99 || got > tc.gflops*1.01 {
				t.Errorf("%s: %.3f GFLOPs at 224, want about %.2f", tc.name, got, tc.gflops)
			}
		}
	}
}

func TestStateDictNames(t *testing.T) {
	a, err := New("resnet50", 1, 1000)
	if err != nil {
		t.Fatal(err)
	}
	sd := a.StateDict()
	want := map[string][]int{
		"conv1.weight":                     {64, 3, 7, 7},
		"layer1.0.downsample.0.weight":     {256, 64, 1, 1},
		"layer2.0.conv2.weight":            {128, 128, 3, 3},
		"layer4.2.bn3.running_var":         {2048},
		"layer1.0.bn1.num_batches_tracked": {},
		"fc.weight":                        {1000, 2048},
	}
	found := 0
	for _, p := range sd {
		if shape, ok := want[p.Name]; ok {
			found++
			if len(shape) != len(p.Shape) {
				t.Errorf("%s: shape %v, want %v", p.Name, p.Shape, shape)
				continue
			}
			for i := range shape {
				if shape[i] != p.Shape[i] {
					t.Errorf("%s: shape %v, want %v", p.Name, p.Shape, shape)
				}
			}
		}
	}
	if found != len(want) {
		t.Errorf("found %d of %d expected names", found, len(want))
	}
	if len(sd) != 320 { // len(torchvision.models.resnet50().state_dict())
		t.Errorf("resnet50 state_dict has %d entries, want 320", len(sd))
	}
}

func TestWidthAndErrors(t *testing.T) {
	a, err := New("resnet18-cifar", 0.25, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.Stem.Out != 16 || a.Features != 128 || len(a.Head) != 0 || a.MaxPool {
		t.Errorf("resnet18-cifar x0.25: stem %d, features %d, head %v, maxpool %v", a.Stem.Out, a.Features, a.Head, a.MaxPool)
	}
	for _, tc := range []struct {
		name  string
		width float64
		want  error
	}{
		{"vgg16", 1, ErrUnknownArch},
		{"resnet18", 0, ErrBadWidth},
		{"resnet18", -1, ErrBadWidth},
		{"resnet18", 8, ErrBadWidth},
	} {
		if _, err := New(tc.name, tc.width, 10); !errors.Is(err, tc.want) {
			t.Errorf("New(%q, %v): %v, want %v", tc.name, tc.width, err, tc.want)
		}
	}
}

func TestMLPHead(t *testing.T) {
	a, err := New("resnet50", 1, 128)
	if err != nil {
		t.Fatal(err)
	}
	a.WithMLPHead()
	// torchvision resnet50 without fc (23,508,032) + 2048x2048+2048 + 2048x128+128.
	if got, want := a.NumParams(), 23_508_032+2048*2048+2048+2048*128+128; got != want {
		t.Errorf("resnet50 + MLP head: %d params, want %d", got, want)
	}
	if a.Head[0].Name != "fc.0" || a.Head[1].Name != "fc.2" || a.Outputs() != 128 {
		t.Errorf("head %+v", a.Head)
	}
}
