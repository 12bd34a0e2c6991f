package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/activity-aware/ids/detections"
)

const detectionsUsage = `Usage: aaids detections list

Lists the detection presets: id, severity, title and references. The ids are
what the source's --detections / cdk.json configuration takes.
`

func runDetections(_ context.Context, args []string, stdio Stdio) int {
	fs := flag.NewFlagSet("detections", flag.ContinueOnError)
	fs.SetOutput(stdio.Err)
	fs.Usage = func() { fmt.Fprint(stdio.Err, detectionsUsage) }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 1 || fs.Arg(0) != "list" {
		fs.Usage()
		return exitUsage
	}
	tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tTITLE\tREFERENCES")
	for _, p := range detections.All() {
		def := ""
		if p.ID == detections.DefaultID {
			def = " (default)"
		}
		fmt.Fprintf(tw, "%s%s\t%s\t%s\t%s\n", p.ID, def, p.Severity, p.Title, strings.Join(p.References, "; "))
	}
	if err := tw.Flush(); err != nil {
		fmt.Fprintf(stdio.Err, "aaids detections: %v\n", err)
		return exitInput
	}
	return exitOK
}
