//go:build race

package cloudtrail

// raceEnabled reports a test binary built with the race detector, under
// which sync.Pool drops some of what it is given at random: whether Invoke
// reuses a batch's memory is then not the program's.
const raceEnabled = true
