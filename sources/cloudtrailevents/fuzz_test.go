package cloudtrailevents_test

import (
	"testing"

	"github.com/activity-aware/ids/internal/eventfuzz"
	"github.com/activity-aware/ids/sources/awsevents"
	"github.com/activity-aware/ids/sources/cloudtrail"
	"github.com/activity-aware/ids/sources/cloudtrailevents"
)

// FuzzFromEvent: any input yields an error or activities that validate and
// fit the bus; links only ever go to an AWS console host.
func FuzzFromEvent(f *testing.F) {
	records, err := cloudtrail.Config{Detections: []string{"all"}}.NewSource()
	if err != nil {
		f.Fatal(err)
	}
	eventfuzz.Fuzz(f, &awsevents.Router{Sources: []awsevents.Source{cloudtrailevents.New(records, nil)}}, "testdata")
}
