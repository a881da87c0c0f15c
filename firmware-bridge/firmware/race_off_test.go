//go:build !race

package firmware

// raceEnabled says the race detector slows this test binary down.
const raceEnabled = false
