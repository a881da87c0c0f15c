package optim

import (
	"math"
	"testing"
)

func TestSchedules(t *testing.T) {
	cases := []struct {
		name  string
		s     Schedule
		epoch float64
		want  float64
	}{
		{"constant", Schedule{Base: 0.1, Kind: "constant"}, 7, 0.1},
		{"cosine start", Schedule{Base: 0.06, Kind: "cosine", Epochs: 200}, 0, 0.06},
		{"cosine middle", Schedule{Base: 0.06, Kind: "cosine", Epochs: 200}, 100, 0.03},
		{"cosine end", Schedule{Base: 0.06, Kind: "cosine", Epochs: 200}, 200, 0},
		{"cosine per epoch", Schedule{Base: 1, Kind: "cosine", Epochs: 4, PerEpoch: true}, 1.9, 0.5 * (1 + math.Cos(math.Pi/4))},
		{"step before", Schedule{Base: 0.03, Kind: "step", Milestones: []float64{120, 160}, Gamma: 0.1}, 119.9, 0.03},
		{"step after first", Schedule{Base: 0.03, Kind: "step", Milestones: []float64{120, 160}, Gamma: 0.1}, 120, 0.003},
		{"step after both", Schedule{Base: 0.03, Kind: "step", Milestones: []float64{160, 120}, Gamma: 0.1}, 199, 0.0003},
		{"warm-up half", Schedule{Base: 0.4, Kind: "constant", Warmup: 2}, 1, 0.2},
		{"warm-up done", Schedule{Base: 0.4, Kind: "cosine", Epochs: 10, Warmup: 2}, 5, 0.4 * 0.5 * (1 + math.Cos(math.Pi/2))},
	}
	for _, tc := range cases {
		if got := tc.s.At(tc.epoch); math.Abs(got-tc.want) > 1e-6*math.Max(1, tc.want) {
			t.Errorf("%s: At(%v) = %v, want %v", tc.name, tc.epoch, got, tc.want)
		}
	}
}

func TestValidate(t *testing.T) {
	bad := []Schedule{
		{Base: 0, Kind: "cosine", Epochs: 1},
		{Base: 0.1, Kind: "linear"},
		{Base: 0.1, Kind: "cosine"},
		{Base: 0.1, Kind: "step"},
		{Base: 0.1, Kind: "constant", Warmup: -1},
	}
	for _, s := range bad {
		if s.Validate() == nil {
			t.Errorf("%+v: want an error", s)
		}
	}
	if err := (Schedule{Base: 0.1, Kind: "step", Gamma: 0.1, Milestones: []float64{3}}).Validate(); err != nil {
		t.Error(err)
	}
}
