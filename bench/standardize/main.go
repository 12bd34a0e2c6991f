// Command standardize runs the CloudTrail source's whole per-batch work on
// NDJSON files of CloudWatch Logs subscription events (one
// {"awslogs":{"data":...}} per line, as make-batches.py writes them): decode,
// standardize every record, encode every activity's EventBridge entry. It is
// the Go side of bench/compare.sh and prints "records N batches B bytes E".
// It runs with the source Lambda's GC settings for 128 MB (cloudtrail.TuneGC).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: standardize FILE.ndjson...")
		os.Exit(2)
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "standardize:", err)
		os.Exit(1)
	}
}

func run(files []string) error {
	// The same collector settings as the Lambda of the smallest size it is
	// deployed with (128 MB), so the comparison measures what runs there.
	cloudtrail.TuneGC(128)
	src := cloudtrail.New(cloudtrail.Options{})
	var records, batches, entryBytes int
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 4<<20), 64<<20)
		for sc.Scan() {
			if len(sc.Bytes()) == 0 {
				continue
			}
			var ev events.CloudwatchLogsEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			acts, err := src.FromSubscription(ev)
			if err != nil {
				f.Close()
				return fmt.Errorf("%s: %w", name, err)
			}
			for _, a := range acts {
				e, err := activity.NewEntry(a, 0)
				if err != nil {
					f.Close()
					return fmt.Errorf("%s: activity %s: %w", name, a.ID, err)
				}
				entryBytes += e.Size()
			}
			records += len(acts)
			batches++
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	fmt.Printf("records %d batches %d bytes %d\n", records, batches, entryBytes)
	return nil
}
