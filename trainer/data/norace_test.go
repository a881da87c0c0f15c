//go:build !race

package data

// raceEnabled is true when the tests run under the race detector.
const raceEnabled = false
