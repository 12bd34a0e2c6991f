// Command aaids runs Activity Aware IDS's code locally: it replays recorded
// CloudTrail data through the same source and destination code the Lambdas
// run, suggests IAM policies, tests filter patterns, lists detections, and
// operates a deployed stack (redrives its queues, edits its suppressions).
//
// Usage:
//
//	aaids replay [--format text|json|slack|teams|pagerduty|webhook|email] [--post URL] [--aggregate=false] [--accounts LIST] PATH...
//	aaids policy suggest [--principal ARN] PATH...
//	aaids filter check PATTERN
//	aaids filter test PATTERN PATH...
//	aaids detections list
//	aaids redrive QUEUE_URL [--to function|bus] [--dry-run] [--max N]
//	aaids suppress add|list|remove ...
//	aaids help [COMMAND]
//
// Exit status: 0 when all input was processed, 1 when some input could not be
// read or decoded (the rest is still processed), 2 for usage errors.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/activity-aware/ids/destinations/slack"
	"github.com/activity-aware/ids/sources/cloudtrail"
)

// Exit statuses shared by every command.
const (
	exitOK    = 0
	exitInput = 1
	exitUsage = 2
)

// Stdio is a command's standard streams and environment lookup, so that tests
// run commands in-process.
type Stdio struct {
	In     io.Reader
	Out    io.Writer
	Err    io.Writer
	Getenv func(string) string
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdio Stdio) int
}

// commands is the command table, in the order help lists them.
var commands = []command{
	{"replay", "run CloudTrail data through the source and the Slack destination", runReplay},
	{"policy", "suggest the IAM policy that would have allowed recorded denials", runPolicy},
	{"filter", "check a CloudWatch Logs filter pattern, or test it on recorded log events", runFilter},
	{"detections", "list the detection presets, count what they match, import Sigma rules", runDetections},
	{"redrive", "move parked messages of a last-stop queue back to their function or the bus", runRedrive},
	{"suppress", "add, list or remove suppressions in the deployed state table", runSuppress},
}

func main() {
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv})
	stop()
	os.Exit(code)
}

// gcMemoryMB sizes aaids' collector as cloudtrail.TuneGC sizes a function's:
// a soft heap limit (GOMEMLIMIT) of MemoryLimitShare of 3 GB, 2.1 GiB, room
// for the largest file aaids reads (logfile.MaxFileSize) and the activities
// of its records, so that the collector runs more often only past it.
const gcMemoryMB = 3 << 10

// tuneGC runs the collector as the CloudTrail source function does
// (cloudtrail.TuneGC: GCPercent, unless GOGC or GOMEMLIMIT choose otherwise).
// Replaying CloudTrail log files reads each file, and finds its records, in
// memory of its own, and collecting at Go's default of 100% spent a sixth of
// that replay's CPU (docs/PERFORMANCE.md).
func tuneGC() { cloudtrail.TuneGC(gcMemoryMB) }

// terminalWriter passes what aaids writes through slack.TerminalSafe: event
// text (ids, error messages that quote records, denial lines) reaches stderr
// in many places, and none of it may move the cursor or ring the bell.
type terminalWriter struct{ w io.Writer }

func (t terminalWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.w, slack.TerminalSafe(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func run(ctx context.Context, args []string, stdio Stdio) int {
	stdio.Err = terminalWriter{stdio.Err}
	if len(args) == 0 {
		usage(stdio.Err)
		return exitUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		if len(args) > 1 {
			if c, ok := lookup(args[1]); ok {
				return c.run(ctx, []string{"--help"}, stdio)
			}
		}
		usage(stdio.Out)
		return exitOK
	}
	c, ok := lookup(name)
	if !ok {
		fmt.Fprintf(stdio.Err, "aaids: unknown command %q\n\n", name)
		usage(stdio.Err)
		return exitUsage
	}
	return c.run(ctx, args[1:], stdio)
}

func lookup(name string) (command, bool) {
	for _, c := range commands {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}

func usage(w io.Writer) {
	var b strings.Builder
	b.WriteString("aaids: Activity Aware IDS for AWS, locally\n\nUsage: aaids COMMAND [ARGS]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-11s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'aaids help COMMAND' for a command's options.\n")
	fmt.Fprint(w, b.String())
}
