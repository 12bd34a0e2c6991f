//go:build !race

package cloudtrail

// raceEnabled: see race_test.go.
const raceEnabled = false
