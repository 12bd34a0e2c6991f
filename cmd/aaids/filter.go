package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/activity-aware/ids/cmd/aaids/internal/logfile"
	"github.com/activity-aware/ids/detections/filterpattern"
)

const filterUsage = `Usage: aaids filter check PATTERN
       aaids filter test PATTERN PATH...

check validates a CloudWatch Logs filter pattern and prints its normalized
form; a malformed pattern exits 1 with the column and what is wrong.

test prints every log event in PATH... that PATTERN matches, one per line on
stdout, and "matched N of M" on stderr, as a subscription filter with PATTERN
would deliver them. PATH is a file or a directory (read recursively; .gz too):
CloudWatch Logs subscription events and decoded batches yield their log
events, CloudTrail log files their records; any other file is read as log
events, one JSON document or text line each. Exit status: 0 whether or not
anything matched, 1 when some input could not be read, 2 for usage errors.
`

func runFilter(ctx context.Context, args []string, stdio Stdio) int {
	fs := flag.NewFlagSet("filter", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() { fmt.Fprint(stdio.Err, filterUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	rest := fs.Args()
	switch {
	case len(rest) == 2 && rest[0] == "check":
		p, err := filterpattern.Parse(rest[1])
		if err != nil {
			fmt.Fprintf(stdio.Err, "aaids filter check: %v\n", err)
			return exitInput
		}
		fmt.Fprintln(stdio.Out, p.String())
		return exitOK
	case len(rest) >= 3 && rest[0] == "test":
		p, err := filterpattern.Parse(rest[1])
		if err != nil {
			fmt.Fprintf(stdio.Err, "aaids filter test: %v\n", err)
			return exitUsage
		}
		return filterTest(ctx, p, rest[2:], stdio)
	}
	fs.Usage()
	return exitUsage
}

// filterTest evaluates p on every log event under paths.
func filterTest(ctx context.Context, p *filterpattern.Pattern, paths []string, stdio Stdio) int {
	var matched, total int
	failed := eachLogEvent(ctx, "aaids filter test", paths, stdio, func(msg []byte) error {
		total++
		if !p.Match(msg) {
			return nil
		}
		matched++
		return writeLine(stdio.Out, msg)
	})
	fmt.Fprintf(stdio.Err, "matched %d of %d\n", matched, total)
	if failed > 0 {
		return exitInput
	}
	return exitOK
}

// eachLogEvent calls event with every log event under paths, as a
// subscription filter sees them: the log events of CloudWatch Logs
// subscription events and decoded batches, the records of CloudTrail log
// files, any other line or document as it is. It reports what cannot be read
// on stderr, prefixed with cmd, and returns how many such failures there were.
func eachLogEvent(ctx context.Context, cmd string, paths []string, stdio Stdio, event func(msg []byte) error) (failed int) {
	each := func(msg []byte) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return event(msg)
	}
	visit := func(it logfile.Item) error {
		switch it.Kind {
		case logfile.Subscription:
			d, err := it.Subscription.AWSLogs.Parse()
			if err != nil {
				failed++
				fmt.Fprintf(stdio.Err, "%s: %s:%d: subscription event: %v\n", cmd, it.Path, it.Line, err)
				return nil
			}
			for _, e := range d.LogEvents {
				if err := each([]byte(e.Message)); err != nil {
					return err
				}
			}
		case logfile.LogsData:
			for _, e := range it.LogsData.LogEvents {
				if err := each([]byte(e.Message)); err != nil {
					return err
				}
			}
		default:
			return each(it.Raw)
		}
		return nil
	}
	_, errs, stop := logfile.Read(paths, logfile.Options{Text: true}, visit)
	for _, err := range errs {
		failed++
		fmt.Fprintf(stdio.Err, "%s: %v\n", cmd, err)
	}
	if stop != nil {
		failed++
		fmt.Fprintf(stdio.Err, "%s: %v\n", cmd, stop)
	}
	return failed
}

// writeLine prints one log event on one line: JSON compacted, text as is.
func writeLine(w io.Writer, msg []byte) error {
	var buf bytes.Buffer
	if json.Valid(msg) && json.Compact(&buf, msg) == nil {
		msg = buf.Bytes()
	}
	if _, err := w.Write(append(bytes.TrimRight(msg, "\r\n"), '\n')); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}
