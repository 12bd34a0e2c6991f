// Command standardize runs the CloudTrail source's whole per-batch work on
// NDJSON files of CloudWatch Logs subscription events (one
// {"awslogs":{"data":...}} per line, as make-batches.py writes them): decode,
// standardize every record, encode every activity's EventBridge entry. It is
// the Go side of tools/bench/compare.sh and prints "records N batches B bytes E".
//
// By default it runs the deployed configuration: the source built from the
// environment the CloudTrailSource construct gives the function (the default
// detection preset, the denial explanation, the 256 KB entry size limit), as
// the Lambda main builds it, with the source Lambda's GC settings for 128 MB
// (cloudtrail.TuneGC), each line decoded as Handler.Invoke does. -config
// source-only measures the source without enrichers, a configuration that is
// not deployed (compare.sh labels it so).
//
// -publish runs each line through cloudtrail.Handler.Invoke as the Lambda
// main wires it, publishing every batch with eventbus.NewPublisher and
// eventbus.NewClient (the SDK serializes, signs and sends PutEvents) to the
// endpoint in AWS_ENDPOINT_URL_EVENTBRIDGE: the whole per-batch work of the
// deployed function without the state table (whose DynamoDB calls are
// network waits). -sink serves that endpoint in a process of its own (so
// its CPU is not the runner's): it prints its URL, reads each request and
// answers that every entry was put.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"

	"github.com/aws/aws-lambda-go/events"

	"github.com/activity-aware/ids/activity"
	"github.com/activity-aware/ids/detections"
	"github.com/activity-aware/ids/eventbus"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// deployedEnv is the environment the CloudTrailSource construct gives the
// function with the stack's defaults (cdk.json's detections, the
// construct's DefaultDetection and DefaultPutEventsMaxBytes), written as the
// construct writes it (Config.Environment). The constructs package is not
// imported: it would bring the CDK into the measured binary.
var deployedEnv = cloudtrail.Config{
	EventBusName:      "Activity-Aware-IDS-ActivityBus",
	Detections:        []string{detections.DefaultID},
	PutEventsMaxBytes: 262144,
}.Environment()

func main() {
	config := flag.String("config", "deployed", "`configuration`: deployed, or source-only (no enrichers; not deployed)")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `file`")
	publish := flag.Bool("publish", false, "publish through the SDK to AWS_ENDPOINT_URL_EVENTBRIDGE, as the function does")
	sinkMode := flag.Bool("sink", false, "serve a PutEvents sink on loopback; print its URL")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: standardize [-config deployed|source-only] FILE.ndjson...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *sinkMode {
		if err := sink(); err != nil {
			fmt.Fprintln(os.Stderr, "standardize:", err)
			os.Exit(1)
		}
		return
	}
	if flag.NArg() == 0 || (*config != "deployed" && *config != "source-only") {
		flag.Usage()
		os.Exit(2)
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "standardize:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "standardize:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*config, *publish, flag.Args()); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "standardize:", err)
		os.Exit(1)
	}
}

// build returns the source and the entry size limit of a configuration.
func build(config string) (*cloudtrail.Source, int, error) {
	if config == "source-only" {
		return cloudtrail.New(cloudtrail.Options{}), activity.DefaultMaxEntrySize, nil
	}
	// As the Lambda main: ConfigFromEnv, then the source it configures.
	cfg, err := cloudtrail.ConfigFromEnv(func(k string) string { return deployedEnv[k] })
	if err != nil {
		return nil, 0, err
	}
	src, err := cfg.NewSource()
	return src, cfg.PutEventsMaxBytes, err
}

// decode standardizes one line, a subscription event as the Lambda runtime
// delivers it, the way the CloudTrail source Lambda does: as
// cloudtrail.Handler.Invoke does when the Lambda main passes the Handler to
// lambda.Start (FromPayload, in the memory of the batch before, which the
// Handler takes back once a batch is published and run here takes back once
// its entries are encoded), else (STANDARDIZE_ENVELOPE=encoding/json) as
// lambda.Start(handler.Handle) does, encoding/json into
// events.CloudwatchLogsEvent, then FromSubscription.
func decode(src *cloudtrail.Source, line []byte, b *cloudtrail.Batch) ([]*activity.Activity, error) {
	if envelopeJSON {
		var ev events.CloudwatchLogsEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return nil, err
		}
		return src.FromSubscription(ev, nil)
	}
	return src.FromPayload(line, b)
}

var envelopeJSON = os.Getenv("STANDARDIZE_ENVELOPE") == "encoding/json"

func run(config string, publish bool, files []string) error {
	// The same collector settings as the Lambda of the smallest size it is
	// deployed with (128 MB), so the comparison measures what runs there.
	cloudtrail.TuneGC(128)
	src, maxBytes, err := build(config)
	if err != nil {
		return err
	}
	if publish {
		return runPublish(src, maxBytes, files)
	}
	var records, batches, entryBytes int
	var batch cloudtrail.Batch // each line's activities are dropped before the next
	err = eachLine(files, func(line []byte) error {
		acts, err := decode(src, line, &batch)
		if err != nil {
			return err
		}
		var block eventbus.EntryBlock // as eventbus.Publisher.Publish encodes and releases them
		defer block.Release()
		for _, a := range acts {
			e, err := block.Entry(a, maxBytes)
			if err != nil {
				return fmt.Errorf("activity %s: %w", a.ID, err)
			}
			entryBytes += e.Size()
		}
		records += len(acts)
		batches++
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("records %d batches %d bytes %d\n", records, batches, entryBytes)
	return nil
}

// eachLine calls f with every non-empty line of the files, in order; an
// error names the file.
func eachLine(files []string, f func(line []byte) error) error {
	for _, name := range files {
		if err := linesOf(name, f); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

func linesOf(name string, f func(line []byte) error) error {
	file, err := os.Open(name)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(make([]byte, 0, 4<<20), 64<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		if err := f(sc.Bytes()); err != nil {
			return err
		}
	}
	return sc.Err()
}
