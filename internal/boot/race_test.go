//go:build race

package boot

// raceEnabled says the tests run with the race detector.
const raceEnabled = true
