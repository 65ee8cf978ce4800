//go:build race

package cache

// raceEnabled: the race detector makes sync.Pool drop items at random.
const raceEnabled = true
