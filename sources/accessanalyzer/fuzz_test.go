package accessanalyzer_test

import (
	"testing"

	"github.com/activity-aware/ids/internal/eventfuzz"
)

// FuzzFromEvent: any input yields an error or activities that validate and
// fit the bus; links only ever go to an AWS console host.
func FuzzFromEvent(f *testing.F) {
	eventfuzz.Fuzz(f, router, "testdata")
}
