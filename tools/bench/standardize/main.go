// Command standardize runs the CloudTrail source's whole per-batch work on
// NDJSON files of CloudWatch Logs subscription events (one
// {"awslogs":{"data":...}} per line, as make-batches.py writes them): decode,
// standardize every record, encode every activity's EventBridge entry. It is
// the Go side of tools/bench/compare.sh and prints "records N batches B bytes E".
// Each line is decoded as the Lambda runtime delivers it (see decode).
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

// decode standardizes one line, a subscription event as the Lambda runtime
// delivers it, the way the CloudTrail source Lambda does: with
// cloudtrail.Handler.Invoke (FromPayload) when the Lambda main passes the
// Handler to lambda.Start, else (STANDARDIZE_ENVELOPE=encoding/json) as
// lambda.Start(handler.Handle) does, encoding/json into
// events.CloudwatchLogsEvent, then FromSubscription.
func decode(src *cloudtrail.Source, line []byte) ([]*activity.Activity, error) {
	if envelopeJSON {
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, err
		}
		return src.FromSubscription(ev)
	}
	return src.FromPayload(line)
}

var envelopeJSON = os.Getenv("STANDARDIZE_ENVELOPE") == "encoding/json"

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
			acts, err := decode(src, sc.Bytes())
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
