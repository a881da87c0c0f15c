package data

import (
	"math/rand/v2"
	"sort"
)

// subsetStream separates the subset's random stream from any other use of
// the seed.
const subsetStream = 0x5ab5e7

// selectImages returns the usable entries to load, in dataset order (by
// label, then name). With limit > 0 it keeps a class-balanced subset of at
// most limit images: the limit is split evenly over the classes, classes
// with too few images give their share to the others, the remainder goes to
// classes drawn with the seed, and the images of each class are drawn with
// the seed.
func selectImages(entries []entry, classes, limit int, seed uint64) []entry {
	buckets := make([][]entry, max(classes, 1))
	for _, e := range entries {
		if e.bad != "" {
			continue
		}
		b := max(e.label, 0)
		buckets[b] = append(buckets[b], e)
	}
	for _, b := range buckets {
		sort.Slice(b, func(i, j int) bool { return b[i].name < b[j].name })
	}
	rng := rand.New(rand.NewPCG(seed, subsetStream))
	if limit > 0 {
		quota := balancedQuota(buckets, limit, rng)
		for c, b := range buckets {
			if quota[c] >= len(b) {
				continue
			}
			perm := rng.Perm(len(b))[:quota[c]]
			sort.Ints(perm)
			kept := make([]entry, len(perm))
			for k, p := range perm {
				kept[k] = b[p]
			}
			buckets[c] = kept
		}
	}
	var out []entry
	for _, b := range buckets {
		out = append(out, b...)
	}
	return out
}

// balancedQuota splits limit images over the buckets as evenly as their
// sizes allow.
func balancedQuota(buckets [][]entry, limit int, rng *rand.Rand) []int {
	quota := make([]int, len(buckets))
	var open []int
	for c, b := range buckets {
		if len(b) > 0 {
			open = append(open, c)
		}
	}
	left := limit
	for left > 0 && len(open) > 0 {
		share, extra := left/len(open), left%len(open)
		order := rng.Perm(len(open))
		for k, o := range order {
			c := open[o]
			give := share
			if k < extra {
				give++
			}
			give = min(give, len(buckets[c])-quota[c])
			quota[c] += give
			left -= give
		}
		still := open[:0]
		for _, c := range open {
			if quota[c] < len(buckets[c]) {
				still = append(still, c)
			}
		}
		open = still
	}
	return quota
}
