//go:build !race

package activity

// raceEnabled: see race_test.go.
const raceEnabled = false
