package augment

import "math/rand/v2"

// Streams of random numbers drawn from one seed, kept apart by a tag.
const (
	sampleStream  = 0x9e3779b97f4a7c15
	shuffleStream = 0xbf58476d1ce4e5b9
)

// splitmix64 scrambles a 64-bit value (Steele et al.'s SplitMix64 finaliser).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// sampleSeeds are the PCG seeds of one sample's generator.
func sampleSeeds(seed uint64, epoch, index int) (uint64, uint64) {
	return splitmix64(seed ^ sampleStream), splitmix64(uint64(uint32(epoch))<<32 | uint64(uint32(index)))
}

// SampleRNG returns the generator that draws every random parameter of the
// views of image index in an epoch. The Loader uses the same stream, so a
// sample can be reproduced on its own.
func SampleRNG(seed uint64, epoch, index int) *rand.Rand {
	return rand.New(rand.NewPCG(sampleSeeds(seed, epoch, index)))
}

// sampleRNG is a reusable SampleRNG for a worker.
type sampleRNG struct {
	pcg *rand.PCG
	rng *rand.Rand
}

func newSampleRNG() *sampleRNG {
	pcg := rand.NewPCG(0, 0)
	return &sampleRNG{pcg: pcg, rng: rand.New(pcg)}
}

// at reseeds the generator for a sample and returns it.
func (s *sampleRNG) at(seed uint64, epoch, index int) *rand.Rand {
	s.pcg.Seed(sampleSeeds(seed, epoch, index))
	return s.rng
}

// Permutation is the epoch's shuffled order of n samples.
func Permutation(seed uint64, epoch, n int) []int {
	rng := rand.New(rand.NewPCG(splitmix64(seed^shuffleStream), splitmix64(uint64(uint32(epoch)))))
	return rng.Perm(n)
}

// uniform draws a float64 uniformly in [lo, hi).
func uniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo + (hi-lo)*rng.Float64()
}
