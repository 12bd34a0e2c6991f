//go:build race

package activity

// raceEnabled reports a test binary built with the race detector, which
// drops some of what a sync.Pool is given: allocation counts are then not the
// program's.
const raceEnabled = true
