package data

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBalancedQuota(t *testing.T) {
	tests := []struct {
		sizes []int
		limit int
		want  []int // nil: only check the sum and the spread
	}{
		{[]int{10, 10, 10}, 9, []int{3, 3, 3}},
		{[]int{1, 10, 10}, 9, []int{1, 4, 4}},
		{[]int{0, 5, 5}, 4, []int{0, 2, 2}},
		{[]int{2, 2}, 100, []int{2, 2}},
		{[]int{10, 10, 10}, 7, nil},
		{[]int{10, 10, 10, 10}, 2, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.sizes, tt.limit), func(t *testing.T) {
			buckets := make([][]entry, len(tt.sizes))
			total := 0
			for c, n := range tt.sizes {
				buckets[c] = make([]entry, n)
				total += n
			}
			got := balancedQuota(buckets, tt.limit, rand.New(rand.NewPCG(1, 2)))
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Fatalf("quota %v, want %v", got, tt.want)
			}
			sum := 0
			for _, q := range got {
				sum += q
			}
			if sum != min(tt.limit, total) {
				t.Fatalf("quota %v sums to %d, want %d", got, sum, min(tt.limit, total))
			}
			if slices.Max(got)-slices.Min(got) > 1 && tt.want == nil {
				t.Fatalf("quota %v is not even", got)
			}
		})
	}
}
