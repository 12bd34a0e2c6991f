// Command credentialprobe writes the credential-probe recording (package
// internal/probe) to stdout as a CloudTrail log file, for aaids replay:
//
//	go run ./tools/credentialprobe > /tmp/probe.json
//	go run ./cmd/aaids replay --format slack \
//	  --detections unauthorized-api-calls,self-trail-or-log-group-stopped /tmp/probe.json
package main

import (
	"os"

	"github.com/activity-aware/ids/internal/probe"
)

func main() {
	if _, err := os.Stdout.Write(probe.Log()); err != nil {
		os.Exit(1)
	}
}
