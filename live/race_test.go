//go:build race

package live

// raceEnabled shrinks the load test under the race detector, which slows
// this code about tenfold.
const raceEnabled = true
